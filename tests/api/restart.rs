//! A restart maps the derived views saved beside the index instead of rebuilding
//! them (the log says which), and a start whose saved views are damaged or missing rebuilds
//! them, answering the same searches, suggestions and listings as before the stop.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aforro::config::Config;
use serde_json::{Value, json};

use crate::crash::{seed_catalog, stop_gracefully};

/// The real binary on `config`'s folders, with its log kept for the test to read.
struct Server {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    client: reqwest::Client,
}

impl Server {
    fn start(config: &Config) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_aforro"))
            .args([
                "--data-dir".as_ref(),
                config.data_dir.as_os_str(),
                "--index-dir".as_ref(),
                config.index_dir.as_os_str(),
            ])
            .args(["--log-format", "pretty", "serve", "--addr", "127.0.0.1:0"])
            .env("RUST_LOG", "warn,aforro=info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start aforro serve");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let log = Arc::new(Mutex::new(Vec::new()));
        let addr = loop {
            let line = lines.next().expect("serve exited before it was serving").expect("read stderr");
            log.lock().expect("log").push(line.clone());
            if let Some(rest) = line.split_once("serving addr=").map(|(_, rest)| rest) {
                break rest.split_whitespace().next().expect("address").parse().expect("a socket address");
            }
        };
        let kept = Arc::clone(&log);
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                kept.lock().expect("log").push(line);
            }
        });
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
        Self { child, addr, log, client }
    }

    fn logged(&self, text: &str) -> bool {
        self.log.lock().expect("log").iter().any(|line| line.contains(text))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.client.get(format!("http://{}{path}", self.addr)).send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Polls `/readyz` until it answers 200 (bounded), returning its first 200 body.
    async fn ready(&self) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (status, body) = self.get("/readyz").await;
            if status == 200 {
                return body;
            }
            assert!(Instant::now() < deadline, "not ready within 30 s: {status} {body}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Polls `/readyz` until no view is building (bounded).
    async fn views_built(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (status, body) = self.get("/readyz").await;
            if status == 200 && body["building"] == json!([]) {
                return;
            }
            assert!(Instant::now() < deadline, "views still building after 30 s: {status} {body}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// What the views answer: searches with and without stock filters, suggestions, listings.
    async fn answers(&self) -> Vec<Value> {
        let mut answers = Vec::new();
        for path in [
            "/api/search/products/?q=item",
            "/api/search/products/?q=item&store_id=1&in_stock=true",
            "/api/search/products/?store_id=2&sort=-price",
            "/api/search/suggest/?q=ite",
            "/api/search/suggest/?q=iteem",
            "/stores/1/inventory/",
            "/stores/1/inventory/?in_stock=true",
            "/stores/1/inventory/?low_stock=true",
        ] {
            let (status, body) = self.get(path).await;
            assert_eq!(status, 200, "{path}: {body}");
            answers.push(json!({"path": path, "body": body}));
        }
        answers
    }

    async fn order(&self, store_id: i64, product_id: i64, quantity: i64) {
        let order =
            json!({"store_id": store_id, "items": [{"product_id": product_id, "quantity_requested": quantity}]});
        let response =
            self.client.post(format!("http://{}/orders/", self.addr)).json(&order).send().await.expect("order");
        assert_eq!(response.status().as_u16(), 201, "order placed");
    }

    /// Holds `quantity` of a product in a store for an hour; answers the reservation's id.
    async fn hold(&self, store_id: i64, product_id: i64, quantity: i64) -> i64 {
        let hold = json!({"store_id": store_id, "items": [{"product_id": product_id, "quantity": quantity}], "ttl_seconds": 3600});
        let response =
            self.client.post(format!("http://{}/reservations/", self.addr)).json(&hold).send().await.expect("hold");
        assert_eq!(response.status().as_u16(), 201, "hold granted");
        let body: Value = response.json().await.expect("json");
        body["id"].as_i64().expect("an id")
    }

    fn stop(mut self) -> Vec<String> {
        stop_gracefully(&mut self.child);
        self.log.lock().map(|log| log.clone()).expect("log")
    }
}

/// `answers` with each suggestion list sorted: a rebuilt map ranks by the popularity of now
/// (the orders placed before the stop), a mapped one by the popularity of its last build, as a
/// running server's map does between its popularity refreshes.
fn popularity_blind(mut answers: Vec<Value>) -> Vec<Value> {
    for answer in &mut answers {
        if answer["path"].as_str().is_some_and(|path| path.contains("/suggest/"))
            && let Some(results) = answer["body"]["results"].as_array_mut()
        {
            results.sort_by_key(ToString::to_string);
        }
    }
    answers
}

/// Seeds, serves until every view is built, moves some stock, stops cleanly; returns the
/// answers before the stop and the first server's log.
async fn first_run(config: &Config) -> (Vec<Value>, Vec<String>) {
    seed_catalog(config);
    let server = Server::start(config);
    server.ready().await;
    server.views_built().await;
    // Product 6 is scarce in store 1: selling it out changes what `in_stock` finds.
    server.order(1, 6, 25).await;
    server.order(2, 3, 7).await;
    let answers = server.answers().await;
    // The listings started the title order: let it land (and be saved) before the stop.
    server.views_built().await;
    (answers, server.stop())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_restart_maps_every_saved_view_and_answers_the_same() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config::in_dir(dir.path());
    let (before, log) = first_run(&config).await;
    assert!(log.iter().any(|line| line.contains("stock view saved")), "a clean stop saves the stock view");

    let server = Server::start(&config);
    let ready = server.ready().await;
    assert_eq!(ready["building"], json!([]), "nothing to build: every view was mapped");
    assert!(server.logged("autocomplete: mapped the saved map"), "the map was mapped");
    assert!(server.logged("stock view: mapped the saved view"), "the stock view was read back");
    assert!(server.logged("title order: mapped the saved order"), "the title order was read back");
    assert!(server.logged("search index checksums"), "the start logs its steps");
    assert_eq!(server.answers().await, before);
    let log = server.stop();
    assert!(!log.iter().any(|line| line.contains("autocomplete map built")), "no rebuild: {log:#?}");
    assert!(!log.iter().any(|line| line.contains("loading every inventory row")), "no reload: {log:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_or_missing_saved_views_are_rebuilt_and_answer_the_same() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config::in_dir(dir.path());
    let (before, _) = first_run(&config).await;
    let views = aforro::view_files::views_dir(&config.index_dir);
    let map = views.join("autocomplete.view");
    let mut bytes = std::fs::read(&map).expect("the saved map");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    std::fs::write(&map, &bytes).expect("damage the map");
    std::fs::remove_file(views.join("stock.view")).expect("remove the stock view");
    let titles = views.join("titles.view");
    let length = std::fs::metadata(&titles).expect("the saved title order").len();
    std::fs::OpenOptions::new().write(true).open(&titles).expect("open").set_len(length - 8).expect("truncate");

    let server = Server::start(&config);
    server.ready().await;
    assert!(server.logged("the file is damaged"), "the damaged map is refused");
    assert!(server.logged("loading every inventory row"), "the missing stock view is loaded from SQLite");
    assert!(server.logged("title order: not saved for this catalog"), "the truncated title order is refused");
    assert!(!server.logged("title order: mapped the saved order"));
    server.views_built().await;
    let before = popularity_blind(before);
    assert_eq!(popularity_blind(server.answers().await), before);
    let log = server.stop();
    assert!(log.iter().any(|line| line.contains("autocomplete map saved")), "the rebuilt map is saved again");

    // The files the rebuild and the stop wrote are mapped by the next start.
    let server = Server::start(&config);
    assert_eq!(server.ready().await["building"], json!([]));
    assert!(server.logged("autocomplete: mapped the saved map"));
    assert_eq!(popularity_blind(server.answers().await), before);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_stock_view_is_stale_after_a_kill_with_orders_since() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config::in_dir(dir.path());
    first_run(&config).await;
    let mut server = Server::start(&config);
    server.ready().await;
    server.order(1, 1, 2).await;
    let after_order = server.answers().await;
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reap");

    let server = Server::start(&config);
    server.ready().await;
    assert!(server.logged("stamped"), "the stock view saved before the order is stale");
    assert!(server.logged("loading every inventory row"));
    server.views_built().await;
    assert_eq!(popularity_blind(server.answers().await), popularity_blind(after_order));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_writing_stock_between_stop_and_start_makes_the_saved_stock_view_stale() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config::in_dir(dir.path());
    first_run(&config).await;
    // What `load prepare` does: take the data folder's lock, rewrite quantities without the
    // writer (so no commit is logged).
    {
        let _lock = aforro::db::exclusive::lock_data_dir(&config.data_dir).expect("lock");
        let conn = rusqlite::Connection::open(config.database_path()).expect("db");
        conn.execute("UPDATE inventory SET quantity = 4321", []).expect("restock");
    }
    let server = Server::start(&config);
    server.ready().await;
    assert!(server.logged("loading every inventory row"), "the saved view is stale");
    let (_, found) = server.get("/api/search/products/?q=item&store_id=1&in_stock=true").await;
    assert_eq!(found["count"], 6, "product 6 is back in stock: {found}");
    assert!(found["results"].as_array().expect("rows").iter().all(|row| row["quantity"] == 4321), "{found}");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_restart_with_an_active_hold_maps_the_held_pairs_and_answers_the_same() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config::in_dir(dir.path());
    first_run(&config).await;
    let server = Server::start(&config);
    server.ready().await;
    // Store 1's product 1: part of it held, so on hand, held and available all differ.
    server.hold(1, 1, 2).await;
    let (_, row) = server.get("/stores/1/inventory/?q=item").await;
    let before = server.answers().await;
    server.views_built().await;
    let log = server.stop();
    assert!(log.iter().any(|line| line.contains("stock view saved")), "a clean stop saves the stock view");

    let server = Server::start(&config);
    server.ready().await;
    assert!(server.logged("stock view: mapped the saved view"), "the saved view holds the held pairs");
    assert_eq!(server.answers().await, before);
    assert_eq!(server.get("/stores/1/inventory/?q=item").await.1, row);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_that_ran_out_while_stopped_is_expired_by_the_start_and_not_counted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config::in_dir(dir.path());
    first_run(&config).await;
    let server = Server::start(&config);
    server.ready().await;
    let (_, unheld) = server.get("/stores/1/inventory/").await;
    server.hold(1, 1, 2).await;
    let (_, held) = server.get("/stores/1/inventory/").await;
    assert_ne!(held, unheld, "the hold shows in the listing");
    server.views_built().await;
    server.stop();
    // Time passing while nothing runs: the hold's `expires_at` is behind us, and no commit
    // was logged for it.
    {
        let _lock = aforro::db::exclusive::lock_data_dir(&config.data_dir).expect("lock");
        let conn = rusqlite::Connection::open(config.database_path()).expect("db");
        conn.execute("UPDATE reservations SET expires_at = 1 WHERE status = 'ACTIVE'", []).expect("age the hold");
    }
    let server = Server::start(&config);
    server.ready().await;
    assert!(server.logged("expired reservations whose time ran out while stopped"), "the start expires it");
    assert!(server.logged("loading every inventory row"), "the saved view counting the hold is stale");
    assert_eq!(server.get("/stores/1/inventory/").await.1, unheld, "nothing is held any more");
    server.stop();
}
