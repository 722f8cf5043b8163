//! `aforro backup` copies a live database (orders still flowing) into a consistent snapshot;
//! `aforro restore` puts it onto a stopped data folder and the next start serves it, search
//! index rebuilt.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aforro::app::{Application, ServeOptions};
use aforro::config::Config;
use reqwest::StatusCode;
use rusqlite::Connection;
use serde_json::json;

use crate::helpers::{TestApp, json_with_status, small_catalog};

/// Orders placed by the background flow at most, and how long it may run.
const MAX_ORDERS: usize = 400;
const FLOW_DEADLINE: Duration = Duration::from_secs(20);
const STOCK: i64 = 100_000;

fn catalog_rows(conn: &Connection) -> Vec<String> {
    let mut rows = Vec::new();
    for sql in [
        "SELECT id, name FROM categories ORDER BY id",
        "SELECT id, title, description, price_cents, category_id, created_at FROM products ORDER BY id",
        "SELECT id, name, location FROM stores ORDER BY id",
    ] {
        let mut stmt = conn.prepare(sql).expect("prepare");
        let columns = stmt.column_count();
        let mut found = stmt.query([]).expect("query");
        while let Some(row) = found.next().expect("row") {
            let values: Vec<String> = (0..columns).map(|i| format!("{:?}", row.get_ref(i).expect("value"))).collect();
            rows.push(values.join("|"));
        }
    }
    rows
}

fn scalar(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |row| row.get(0)).expect("scalar")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_orders_flow_restores_to_the_same_catalog_and_orders() {
    let app = TestApp::builder()
        .fixture(|conn| {
            small_catalog(conn);
            conn.execute("UPDATE inventory SET quantity = ?1 WHERE store_id = 1 AND product_id = 1", [STOCK])
                .expect("stock");
        })
        .spawn()
        .await;
    let (stop, placed) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let (progress, mut progress_seen) = tokio::sync::watch::channel(0usize);
    let flow = {
        let (client, url, stop, placed) = (app.client.clone(), app.url("/orders/"), stop.clone(), placed.clone());
        tokio::spawn(async move {
            let started = Instant::now();
            while !stop.load(Ordering::Relaxed)
                && placed.load(Ordering::Relaxed) < MAX_ORDERS
                && started.elapsed() < FLOW_DEADLINE
            {
                let body = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]});
                let response = client.post(&url).json(&body).send().await.expect("order");
                assert_eq!(response.status(), StatusCode::CREATED);
                progress.send_replace(placed.fetch_add(1, Ordering::Relaxed) + 1);
            }
        })
    };
    // Back up only once orders are flowing (the flow may also end early: then the assert
    // below fails rather than this waiting forever).
    let _ = progress_seen.wait_for(|placed| *placed >= 20).await;

    let backup_dir = tempfile::tempdir().expect("temp dir");
    let backup_file = backup_dir.path().join("aforro-backup.db");
    let (config, file) = (app.config.clone(), backup_file.clone());
    tokio::task::spawn_blocking(move || aforro::cli::backup::backup(&config, &file))
        .await
        .expect("task")
        .expect("backup");
    let placed_during = placed.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    flow.await.expect("order flow");

    // Arrange's check: orders really were flowing around the backup.
    assert!(placed_during >= 20, "orders flowed before the backup");
    let copy = Connection::open(&backup_file).expect("open backup");
    let live = app.db();
    let orders_in_copy = scalar(&copy, "SELECT COUNT(*) FROM orders");
    let last_in_copy = scalar(&copy, "SELECT COALESCE(MAX(id), 0) FROM orders");
    assert_eq!(catalog_rows(&copy), catalog_rows(&live), "the catalog is identical");
    assert_eq!(
        orders_in_copy,
        scalar(&live, &format!("SELECT COUNT(*) FROM orders WHERE id <= {last_in_copy}")),
        "a snapshot: every order up to its last, none missing"
    );
    assert_eq!(
        scalar(&copy, "SELECT quantity FROM inventory WHERE store_id = 1 AND product_id = 1"),
        STOCK - scalar(&copy, "SELECT COALESCE(SUM(quantity_requested), 0) FROM order_items"),
        "stock and orders agree: no half-committed order"
    );

    // Restore onto a fresh, stopped data folder and serve it.
    let target = tempfile::tempdir().expect("temp dir");
    let restored = Config::in_dir(target.path());
    let (config, file) = (restored.clone(), backup_file.clone());
    tokio::task::spawn_blocking(move || aforro::cli::backup::restore(&config, &file))
        .await
        .expect("task")
        .expect("restore");
    let server = Application::build(&restored, "127.0.0.1:0".parse().expect("addr"), ServeOptions::default())
        .await
        .expect("serve the restored data");
    let address = server.local_addr().expect("addr");
    tokio::spawn(server.run_until_stopped(std::future::pending()));
    let search =
        app.client.get(format!("http://{address}/api/search/products/?q=kettle")).send().await.expect("search");
    let body = json_with_status(search, StatusCode::OK).await;
    assert_eq!(body["count"], 1, "the index was rebuilt from the restored catalog");
    let orders = app.client.get(format!("http://{address}/stores/1/orders/")).send().await.expect("orders");
    assert_eq!(json_with_status(orders, StatusCode::OK).await["count"], orders_in_copy);
    assert_eq!(catalog_rows(&Connection::open(restored.database_path()).expect("open")), catalog_rows(&live));
    app.shutdown().await;
}

#[tokio::test]
async fn restore_refuses_while_a_server_owns_the_data_folder() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("copy.db");
    let (config, path) = (app.config.clone(), file.clone());
    tokio::task::spawn_blocking(move || aforro::cli::backup::backup(&config, &path))
        .await
        .expect("task")
        .expect("backup");

    let config = app.config.clone();
    let error = tokio::task::spawn_blocking(move || aforro::cli::backup::restore(&config, &file))
        .await
        .expect("task")
        .expect_err("must refuse");

    assert!(error.to_string().contains("in use by another aforro process"), "{error:#}");
    app.shutdown().await;
}

#[tokio::test]
async fn restore_refuses_a_file_that_is_not_an_aforro_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let other = dir.path().join("other.db");
    Connection::open(&other).expect("create").execute_batch("CREATE TABLE t (x)").expect("table");
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all, just text").expect("write");
    let config = Config::in_dir(dir.path());

    for file in [other, junk] {
        let (config, path) = (config.clone(), file.clone());
        let result =
            tokio::task::spawn_blocking(move || aforro::cli::backup::restore(&config, &path)).await.expect("task");
        assert!(result.is_err(), "{} was accepted", file.display());
    }
    assert!(!config.database_path().exists(), "nothing was put in place");
}

/// Serves `config` until the returned sender is dropped or fires; returns its address.
async fn serve(
    config: &Config,
) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let server =
        Application::build(config, "127.0.0.1:0".parse().expect("addr"), ServeOptions::default()).await.expect("serve");
    let address = server.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        server.run_until_stopped(async move { drop(stopped.await) }).await.expect("clean stop");
    });
    (address, stop, running)
}

/// Regression: the index watermark is a change counter, so two databases with the same
/// number of catalog changes carry the same stamp. Restore must not leave the old index to
/// be taken for current.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_over_a_used_folder_is_served_with_an_index_of_the_restored_catalog() {
    let (used, other) = (tempfile::tempdir().expect("temp dir"), tempfile::tempdir().expect("temp dir"));
    let (used, other) = (Config::in_dir(used.path()), Config::in_dir(other.path()));
    // Same shape (same watermark), other titles.
    let write = |config: &Config, fixture: fn(&Connection)| {
        let store = aforro::app::open_store(config).expect("open");
        fixture(&store.write_conn);
    };
    write(&used, |conn| {
        small_catalog(conn);
        conn.execute("UPDATE products SET title = 'Steel Kettle' WHERE id = 1", []).expect("retitle");
    });
    write(&other, |conn| {
        small_catalog(conn);
        conn.execute("UPDATE products SET title = 'Brass Teapot' WHERE id = 1", []).expect("retitle");
    });
    let (_, stop, running) = serve(&used).await; // builds the used folder's index
    drop(stop);
    running.await.expect("stopped");
    let file = other.data_dir.join("copy.db");
    let (config, path) = (other.clone(), file.clone());
    tokio::task::spawn_blocking(move || aforro::cli::backup::backup(&config, &path))
        .await
        .expect("task")
        .expect("backup");

    let watermark = |config: &Config| {
        Connection::open(config.database_path())
            .expect("open")
            .query_row("SELECT version FROM catalog_version", [], |row| row.get::<_, i64>(0))
            .expect("watermark")
    };
    assert_eq!(watermark(&used), watermark(&other), "the case this guards: equal watermarks");
    let (config, path) = (used.clone(), file);
    tokio::task::spawn_blocking(move || aforro::cli::backup::restore(&config, &path))
        .await
        .expect("task")
        .expect("restore");
    let (address, _stop, _running) = serve(&used).await;

    let client = reqwest::Client::new();
    for (q, expected) in [("teapot", 1), ("kettle", 0)] {
        let response = client.get(format!("http://{address}/api/search/products/?q={q}")).send().await.expect("search");
        assert_eq!(json_with_status(response, StatusCode::OK).await["count"], expected, "q={q}");
    }
}

/// The database holds the admin password hashes and every order: it, its WAL and shared-memory
/// files and every backup are created readable by their owner only, whatever the umask
/// (regression: SQLite created them `0644` less the umask, readable by every user).
#[cfg(unix)]
#[tokio::test]
async fn the_database_its_wal_and_shm_and_a_backup_are_created_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path| std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777;
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let order = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]});
    json_with_status(app.post_order(&order).await, StatusCode::CREATED).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (config, copy) = (app.config.clone(), dir.path().join("copy.db"));
    let path = copy.clone();
    tokio::task::spawn_blocking(move || aforro::cli::backup::backup(&config, &path))
        .await
        .expect("task")
        .expect("backup");

    let database = app.config.database_path();
    for suffix in ["", "-wal", "-shm"] {
        let mut name = database.clone().into_os_string();
        name.push(suffix);
        assert_eq!(mode(std::path::Path::new(&name)), 0o600, "aforro.db{suffix}");
    }
    assert_eq!(mode(&copy), 0o600, "the backup");
    app.shutdown().await;
}
