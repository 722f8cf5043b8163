//! Test harness: every test gets its own temp data/index folders, its own server on port 0
//! and a client with one helper per endpoint.

use std::net::SocketAddr;

use aforro::app::{AppState, Application, ServeOptions, open_store};
use aforro::config::{Config, Synchronous};
use reqwest::{Response, StatusCode};
use rusqlite::Connection;
use serde_json::{Value, json};
use tempfile::TempDir;

pub struct TestApp {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    pub config: Config,
    /// The running app's handles (writer, search, autocomplete), for arranging and awaiting
    /// state below HTTP.
    pub state: AppState,
    /// Kept so the folders live as long as the app.
    _dir: TempDir,
}

/// Starts the app on an empty, migrated database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the app after `fixture` has written directly to the migrated database (before the
/// server, its writer and its in-memory views start, as a previous run would have left it).
pub async fn spawn_app_with(fixture: impl FnOnce(&Connection) + Send + 'static) -> TestApp {
    spawn_app_full(|_| {}, fixture, ServeOptions::default()).await
}

/// [`spawn_app_with`], serving with `options` (HTTP limits, CORS).
pub async fn spawn_app_with_options(
    fixture: impl FnOnce(&Connection) + Send + 'static,
    options: ServeOptions,
) -> TestApp {
    spawn_app_full(|_| {}, fixture, options).await
}

/// [`spawn_app_with`], after `configure` has adjusted the test configuration.
pub async fn spawn_app_configured(
    configure: impl FnOnce(&mut Config),
    fixture: impl FnOnce(&Connection) + Send + 'static,
) -> TestApp {
    spawn_app_full(configure, fixture, ServeOptions::default()).await
}

/// The app on a fresh folder: `configure` adjusts the configuration, `fixture` writes to the
/// migrated database before start, `options` are `serve`'s.
pub async fn spawn_app_full(
    configure: impl FnOnce(&mut Config),
    fixture: impl FnOnce(&Connection) + Send + 'static,
    options: ServeOptions,
) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    // Tests do not need power-loss durability; `normal` keeps fsyncs out of the suite's time.
    let mut config = Config { synchronous: Synchronous::Normal, ..Config::in_dir(dir.path()) };
    configure(&mut config);
    let setup_config = config.clone();
    tokio::task::spawn_blocking(move || {
        let store = open_store(&setup_config).expect("open store");
        fixture(&store.write_conn);
    })
    .await
    .expect("fixture");
    let application =
        Application::build(&config, "127.0.0.1:0".parse().expect("addr"), options).await.expect("build app");
    let address = application.local_addr().expect("local addr");
    let state = application.state().clone();
    tokio::spawn(application.run_until_stopped(std::future::pending()));
    TestApp { address, client: reqwest::Client::new(), config, state, _dir: dir }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    pub async fn post_order(&self, body: &Value) -> Response {
        self.client.post(self.url("/orders/")).json(body).send().await.expect("request")
    }

    pub async fn post_order_with_key(&self, body: &Value, key: &str) -> Response {
        self.client.post(self.url("/orders/")).header("Idempotency-Key", key).json(body).send().await.expect("request")
    }

    /// A direct connection to the database, for assertions on what was stored.
    pub fn db(&self) -> Connection {
        Connection::open(self.config.database_path()).expect("open db")
    }

    pub fn stock(&self, store_id: i64, product_id: i64) -> i64 {
        self.db()
            .query_row(
                "SELECT COALESCE((SELECT quantity FROM inventory WHERE store_id = ?1 AND product_id = ?2), 0)",
                [store_id, product_id],
                |row| row.get(0),
            )
            .expect("stock query")
    }

    pub fn count(&self, table: &str) -> i64 {
        self.db().query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| row.get(0)).expect("count")
    }
}

/// Reads a JSON body, asserting the status first (with the body in the failure message).
pub async fn json_with_status(response: Response, expected: StatusCode) -> Value {
    let status = response.status();
    let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap_or("").to_owned());
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(status, expected, "body: {body}");
    if !status.is_success() && status != StatusCode::CONFLICT {
        assert_eq!(content_type.as_deref(), Some("application/problem+json"), "error responses are problem+json");
        assert_eq!(body["status"], json!(status.as_u16()));
    }
    body
}

/// A small fixed catalog: 2 categories, products 1..=5, stores 1 and 2 with known stock.
pub fn small_catalog(conn: &Connection) {
    conn.execute_batch(
        "INSERT INTO categories (id, name) VALUES (1, 'Kitchen'), (2, 'Outdoor');
         INSERT INTO products (id, title, description, price_cents, category_id, created_at) VALUES
           (1, 'Steel Kettle', 'boils water', 2500, 1, 1000),
           (2, 'bamboo Cutting Board', 'for bread', 1250, 1, 2000),
           (3, 'Camping Tent', 'sleeps two', 9999, 2, 3000),
           (4, 'Headlamp', 'bright', 1999, 2, 4000),
           (5, 'Atlas Mug', 'holds tea', 800, 1, 5000);
         INSERT INTO stores (id, name, location) VALUES (1, 'Lisbon Central', 'Lisbon'), (2, 'Porto Market', 'Porto');
         INSERT INTO inventory (store_id, product_id, quantity) VALUES
           (1, 1, 10), (1, 2, 3), (1, 3, 0), (1, 4, 5), (1, 5, 1),
           (2, 1, 7);",
    )
    .expect("small catalog");
}
