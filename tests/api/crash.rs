//! Kill -9 while orders and cancels flow: the real binary is started on temp folders, several
//! clients place orders and cancel some of them, the process is SIGKILLed at five different
//! moments and restarted on the same folders. After every restart nothing acknowledged is
//! lost, nothing is half-written (no cancel without its stock back and its event), the search
//! stock view agrees with SQLite; at the end every event (each confirmation, each acknowledged
//! cancel's) went out exactly once and SIGTERM stops the server cleanly.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aforro::config::Config;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::Connection;
use serde_json::{Value, json};

/// When each cycle's SIGKILL lands, after the clients start.
const KILL_AFTER_MS: [u64; 5] = [120, 260, 400, 550, 700];
const CLIENTS: u64 = 4;
/// Products 1–5 in both stores, plenty of each, except product 6, scarce in store 1 only, so
/// it sells out mid-test and `in_stock` has something to disagree about.
const PLENTY: i64 = 1_000_000;
const SCARCE: i64 = 25;

pub(crate) fn seed_catalog(config: &Config) {
    let store = aforro::app::open_store(config).expect("open store");
    let mut sql = String::from(
        "INSERT INTO categories (id, name) VALUES (1, 'Kitchen');
         INSERT INTO stores (id, name) VALUES (1, 'Lisbon'), (2, 'Porto');",
    );
    for product in 1..=6 {
        sql += &format!(
            "INSERT INTO products (id, title, price_cents, category_id, created_at) VALUES ({product}, 'Item {product}', 100, 1, 1);"
        );
    }
    for store_id in 1..=2 {
        for product in 1..=5 {
            sql += &format!(
                "INSERT INTO inventory (store_id, product_id, quantity) VALUES ({store_id}, {product}, {PLENTY});"
            );
        }
    }
    sql += &format!("INSERT INTO inventory (store_id, product_id, quantity) VALUES (1, 6, {SCARCE});");
    store.write_conn.execute_batch(&sql).expect("seed");
}

fn seeded_stock() -> BTreeMap<(i64, i64), i64> {
    let mut stock: BTreeMap<(i64, i64), i64> =
        (1..=2).flat_map(|store| (1..=5).map(move |product| ((store, product), PLENTY))).collect();
    stock.insert((1, 6), SCARCE);
    stock
}

/// Starts `aforro serve [extra...]` on a free port and returns it with the address it logged.
pub(crate) fn start_server(config: &Config, extra: &[&str]) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aforro"))
        .args([
            "--data-dir".as_ref(),
            config.data_dir.as_os_str(),
            "--index-dir".as_ref(),
            config.index_dir.as_os_str(),
        ])
        // Pretty, not the JSON a pipe gets by default: the address is read from this line.
        .args(["--log-format", "pretty", "serve", "--addr", "127.0.0.1:0"])
        .args(extra)
        .env("RUST_LOG", "warn,aforro::cli=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start aforro serve");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let addr = loop {
        let line = lines.next().expect("serve exited before it was serving").expect("read stderr");
        if let Some(rest) = line.split_once("serving addr=").map(|(_, rest)| rest) {
            break rest.split_whitespace().next().expect("address").parse().expect("a socket address");
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, addr)
}

/// What the clients were told, across every cycle.
#[derive(Default)]
struct Acknowledged {
    /// Orders answered 201: id → lines.
    orders: Vec<(i64, Vec<(i64, i64)>)>,
    /// Cancels answered 200.
    cancels: BTreeSet<i64>,
    /// Cancels sent but never answered (the kill came first): either outcome is allowed.
    unanswered_cancels: BTreeSet<i64>,
}

impl Acknowledged {
    fn extend(&mut self, other: Acknowledged) {
        self.orders.extend(other.orders);
        self.cancels.extend(other.cancels);
        self.unanswered_cancels.extend(other.unanswered_cancels);
    }
}

/// Places random orders until the server stops answering (or a bound is reached); returns the
/// acknowledged (201) orders: id → lines. The replication test's stream: orders only.
pub(crate) async fn place_orders_until_killed(addr: SocketAddr, seed: u64) -> Vec<(i64, Vec<(i64, i64)>)> {
    place_and_cancel_until_killed(addr, seed, 0.0).await.orders
}

/// Places random orders and, at each step with probability `cancel_share`, cancels one of its
/// own confirmed orders instead, until the server stops answering (or a bound is reached).
async fn place_and_cancel_until_killed(addr: SocketAddr, seed: u64, cancel_share: f64) -> Acknowledged {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("client");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut acknowledged = Acknowledged::default();
    for _ in 0..5_000 {
        if !acknowledged.orders.is_empty() && rng.random_bool(cancel_share) {
            let (id, _) = acknowledged.orders[rng.random_range(0..acknowledged.orders.len())];
            if acknowledged.cancels.contains(&id) {
                continue;
            }
            acknowledged.unanswered_cancels.insert(id);
            let Ok(response) = client.post(format!("http://{addr}/orders/{id}/cancel/")).send().await else { break };
            let status = response.status().as_u16();
            let Ok(order) = response.json::<Value>().await else { break };
            assert_eq!((status, order["status"].as_str()), (200, Some("CANCELLED")), "cancel {id}: {order}");
            acknowledged.unanswered_cancels.remove(&id);
            acknowledged.cancels.insert(id);
            continue;
        }
        let store_id: i64 = rng.random_range(1..=2);
        let mut products: Vec<i64> = (1..=if store_id == 1 { 6 } else { 5 }).collect();
        let mut lines = Vec::new();
        for _ in 0..rng.random_range(1..=3) {
            let product = products.remove(rng.random_range(0..products.len()));
            lines.push((product, rng.random_range(1..=3)));
        }
        let items: Vec<Value> = lines
            .iter()
            .map(|(product, quantity)| json!({"product_id": product, "quantity_requested": quantity}))
            .collect();
        let body = json!({"store_id": store_id, "items": items});
        let Ok(response) = client.post(format!("http://{addr}/orders/")).json(&body).send().await else { break };
        let status = response.status().as_u16();
        let Ok(order) = response.json::<Value>().await else { break };
        assert!(status == 201 || status == 409, "unexpected {status}: {order}");
        if status == 201 {
            acknowledged.orders.push((order["id"].as_i64().expect("id"), lines));
        }
    }
    acknowledged
}

pub(crate) async fn wait_until_ready(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(response) = reqwest::get(format!("http://{addr}/readyz")).await
            && response.status().is_success()
        {
            return;
        }
        assert!(Instant::now() < deadline, "not ready within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(crate) fn query_i64(db: &Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |row| row.get(0)).expect(sql)
}

/// Everything that must hold whenever the server has restarted.
async fn assert_consistent(db_path: &Path, addr: SocketAddr, acknowledged: &Acknowledged) {
    let db = Connection::open(db_path).expect("db");
    for (order_id, lines) in &acknowledged.orders {
        let status: String =
            db.query_row("SELECT status FROM orders WHERE id = ?1", [order_id], |row| row.get(0)).expect("acked order");
        if acknowledged.cancels.contains(order_id) {
            assert_eq!(status, "CANCELLED", "acknowledged cancel of order {order_id}");
        } else if acknowledged.unanswered_cancels.contains(order_id) {
            assert!(status == "CONFIRMED" || status == "CANCELLED", "order {order_id}: {status}");
        } else {
            assert_eq!(status, "CONFIRMED", "order {order_id}");
        }
        let items = query_i64(&db, &format!("SELECT COUNT(*) FROM order_items WHERE order_id = {order_id}"));
        assert_eq!(items, lines.len() as i64, "order {order_id} is whole");
    }
    assert_whole_and_balanced(&db, addr).await;
}

/// Whatever orders the database holds: each is whole, each confirmed one has one job, stock
/// went down by exactly what confirmed orders took, and search's stock view agrees.
pub(crate) async fn assert_whole_and_balanced(db: &Connection, addr: SocketAddr) {
    assert_eq!(
        query_i64(
            db,
            "SELECT COUNT(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id)"
        ),
        0
    );
    assert_eq!(
        query_i64(
            db,
            "SELECT COUNT(*) FROM order_items i WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = i.order_id)"
        ),
        0
    );
    assert_eq!(
        query_i64(
            db,
            "SELECT COUNT(*) FROM orders o WHERE status IN ('CONFIRMED', 'CANCELLED')
                AND (SELECT COUNT(*) FROM jobs j WHERE j.order_id = o.id AND j.kind = 'order.confirmed') <> 1"
        ),
        0,
        "every confirmed (or since cancelled) order has exactly one order.confirmed event"
    );
    assert_eq!(
        query_i64(
            db,
            "SELECT COUNT(*) FROM orders o
              WHERE (SELECT COUNT(*) FROM jobs j WHERE j.order_id = o.id AND j.kind = 'order.cancelled')
                 <> (o.status = 'CANCELLED')"
        ),
        0,
        "a cancelled order has exactly one order.cancelled event, any other order none"
    );
    assert_eq!(
        query_i64(
            db,
            "SELECT COUNT(*) FROM jobs j JOIN orders o ON o.id = j.order_id WHERE o.status NOT IN ('CONFIRMED', 'CANCELLED')"
        ),
        0
    );
    assert_stock_events_alternate(db);
    for ((store_id, product_id), seeded) in seeded_stock() {
        let now = query_i64(
            db,
            &format!("SELECT quantity FROM inventory WHERE store_id = {store_id} AND product_id = {product_id}"),
        );
        let confirmed = query_i64(
            db,
            &format!(
                "SELECT COALESCE(SUM(i.quantity_requested), 0) FROM order_items i JOIN orders o ON o.id = i.order_id
                  WHERE o.status = 'CONFIRMED' AND o.store_id = {store_id} AND i.product_id = {product_id}"
            ),
        );
        assert_eq!(seeded - now, confirmed, "deducted = confirmed for store {store_id} product {product_id}");
    }
    wait_until_ready(addr).await;
    for store_id in 1..=2 {
        let url = format!("http://{addr}/api/search/products/?store_id={store_id}&in_stock=true&page_size=100");
        let page: Value = reqwest::get(url).await.expect("search").json().await.expect("JSON");
        let searched: BTreeSet<i64> =
            page["results"].as_array().expect("results").iter().map(|hit| hit["id"].as_i64().expect("id")).collect();
        let mut stmt =
            db.prepare("SELECT product_id FROM inventory WHERE store_id = ?1 AND quantity > 0").expect("sql");
        let in_db: BTreeSet<i64> =
            stmt.query_map([store_id], |row| row.get(0)).expect("query").collect::<Result<_, _>>().expect("rows");
        assert_eq!(searched, in_db, "search's in-stock view of store {store_id} agrees with SQLite");
    }
}

/// Per (store, product), in commit order, out-of-stock and back-in-stock events alternate,
/// starting with out (everything starts stocked), and end on out exactly when the stock is 0.
fn assert_stock_events_alternate(db: &Connection) {
    let mut stmt = db
        .prepare(
            "SELECT json_extract(payload, '$.store_id'), json_extract(payload, '$.product_id'), kind FROM jobs
              WHERE kind IN ('inventory.out_of_stock', 'inventory.back_in_stock') ORDER BY id",
        )
        .expect("sql");
    let mut events: BTreeMap<(i64, i64), Vec<String>> = BTreeMap::new();
    for row in stmt.query_map([], |row| Ok(((row.get(0)?, row.get(1)?), row.get(2)?))).expect("query") {
        let (key, kind) = row.expect("row");
        events.entry(key).or_default().push(kind);
    }
    for ((store_id, product_id), _) in seeded_stock() {
        let kinds = events.remove(&(store_id, product_id)).unwrap_or_default();
        for (index, kind) in kinds.iter().enumerate() {
            let expected = if index % 2 == 0 { "inventory.out_of_stock" } else { "inventory.back_in_stock" };
            assert_eq!(kind, expected, "store {store_id} product {product_id}: {kinds:?}");
        }
        let now = query_i64(
            db,
            &format!("SELECT quantity FROM inventory WHERE store_id = {store_id} AND product_id = {product_id}"),
        );
        assert_eq!(kinds.len() % 2 == 1, now == 0, "store {store_id} product {product_id} holds {now}: {kinds:?}");
    }
    assert!(events.is_empty(), "stock events only for stocked products: {events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_mid_stream_loses_no_acknowledged_order_or_cancel_and_sends_each_event_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config::in_dir(dir.path());
    seed_catalog(&config);
    let mut acknowledged = Acknowledged::default();

    for (cycle, kill_after) in KILL_AFTER_MS.into_iter().enumerate() {
        let (mut server, addr) = start_server(&config, &[]);
        if cycle > 0 {
            assert_consistent(&config.database_path(), addr, &acknowledged).await;
        }
        let clients: Vec<_> = (0..CLIENTS)
            .map(|client| tokio::spawn(place_and_cancel_until_killed(addr, cycle as u64 * 100 + client, 0.25)))
            .collect();
        tokio::time::sleep(Duration::from_millis(kill_after)).await;
        server.kill().expect("SIGKILL");
        server.wait().expect("reap");
        for client in clients {
            acknowledged.extend(client.await.expect("client"));
        }
    }

    let (mut server, addr) = start_server(&config, &[]);
    assert_consistent(&config.database_path(), addr, &acknowledged).await;
    assert!(acknowledged.orders.len() > 50, "orders flowed: {}", acknowledged.orders.len());
    assert!(acknowledged.cancels.len() > 5, "cancels flowed: {}", acknowledged.cancels.len());
    let db = Connection::open(config.database_path()).expect("db");
    let deadline = Instant::now() + Duration::from_secs(10);
    while query_i64(&db, "SELECT COUNT(*) FROM jobs WHERE state <> 'done'") > 0 {
        assert!(Instant::now() < deadline, "the queue did not drain within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        query_i64(&db, "SELECT COUNT(*) FROM notifications"),
        query_i64(&db, "SELECT COUNT(*) FROM jobs"),
        "one delivery per event"
    );
    assert_eq!(
        query_i64(
            &db,
            "SELECT COUNT(*) FROM jobs j WHERE NOT EXISTS (SELECT 1 FROM notifications n WHERE n.event_id = j.event_id)"
        ),
        0,
        "every event delivered under its own id"
    );
    for order_id in &acknowledged.cancels {
        let delivered = query_i64(
            &db,
            &format!("SELECT COUNT(*) FROM notifications WHERE order_id = {order_id} AND event = 'order.cancelled'"),
        );
        assert_eq!(delivered, 1, "the acknowledged cancel of order {order_id} was announced once");
    }
    stop_gracefully(&mut server);
}

/// SIGTERM, then a clean exit within the shutdown grace.
pub(crate) fn stop_gracefully(server: &mut Child) {
    let sent = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().expect("run kill");
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = server.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not stop within 15 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "serve exits cleanly on SIGTERM: {status}");
}
