//! Test harness: every test gets its own temp data/index folders, its own server on port 0
//! and a client with one helper per endpoint.
//!
//! One way to start an app: [`spawn_app`] for the default, [`TestApp::builder`] for a
//! variant (a fixture written before start, an adjusted configuration, other HTTP options).
//!
//! Every test ends with `app.shutdown().await`: the server is stopped through its shutdown
//! signal and awaited, which stops the workers and joins the writer thread, and any error
//! of that shutdown fails the test. Why explicit and not only `Drop`: `Drop` cannot await,
//! and blocking in it (`block_on`, `block_in_place`) would stall or panic the test's
//! current-thread runtime, so a `Drop` could only fire the signal and leave the writer
//! running past the test. Why it cannot be forgotten: `Drop` of an app that was not shut down
//! still fires the signal (the server does not outlive the test) and then fails the test
//! with a message naming the missing call (unless the test is already failing).

use std::net::SocketAddr;
use std::time::Duration;

use aforro::app::{AppState, Application, ServeOptions, open_store};
use aforro::config::{Config, HttpOptions, Synchronous};
use aforro::db::admin::history::Actor;
use reqwest::{Response, StatusCode};
use rusqlite::Connection;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long a shutdown may take before the test fails: generous for a loaded machine, but a
/// hang (a writer handle kept alive somewhere) fails instead of stalling the suite.
const SHUTDOWN_BOUND: Duration = Duration::from_secs(30);

pub(crate) struct TestApp {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    pub config: Config,
    /// The running app's handles (writer, search, autocomplete), for arranging and awaiting
    /// state below HTTP.
    pub state: AppState,
    /// Fires the server's shutdown future; `None` once fired.
    stop: Option<oneshot::Sender<()>>,
    /// The serving task: resolves after the workers stopped and the writer thread joined.
    server: Option<JoinHandle<anyhow::Result<()>>>,
    /// Kept so the folders live as long as the app.
    _dir: TempDir,
}

/// Starts the app on an empty, migrated database with the default configuration.
pub(crate) async fn spawn_app() -> TestApp {
    TestApp::builder().spawn().await
}

type Fixture = Box<dyn FnOnce(&Connection) + Send + 'static>;
type Configure = Box<dyn FnOnce(&mut Config)>;

/// A variant of the test app, started with [`TestAppBuilder::spawn`].
#[must_use = "call .spawn().await to start the app"]
pub(crate) struct TestAppBuilder {
    configure: Configure,
    fixture: Fixture,
    options: ServeOptions,
}

impl TestAppBuilder {
    /// `fixture` writes directly to the migrated database before the server, its writer and
    /// its in-memory views start (as a previous run would have left it).
    pub(crate) fn fixture(mut self, fixture: impl FnOnce(&Connection) + Send + 'static) -> Self {
        self.fixture = Box::new(fixture);
        self
    }

    /// `configure` adjusts the test configuration (in a fresh temp folder) before start.
    pub(crate) fn configure(mut self, configure: impl FnOnce(&mut Config) + 'static) -> Self {
        self.configure = Box::new(configure);
        self
    }

    /// Serves with these HTTP options (limits, timeout, CORS) instead of the defaults.
    pub(crate) fn http(mut self, http: HttpOptions) -> Self {
        self.options.http = http;
        self
    }

    /// Serves in keyed mode with `master_key` (contract, Access).
    pub(crate) fn master_key(mut self, master_key: &str) -> Self {
        self.options.access.master_key = Some(master_key.to_owned());
        self
    }

    /// Expires reservations by `clock` (a manual one moves only when the test says so).
    pub(crate) fn clock(mut self, clock: aforro::domain::Clock) -> Self {
        self.options.clock = clock;
        self
    }

    /// Limits requests without a valid key to `per_second` per address.
    pub(crate) fn anonymous_rate_limit(mut self, per_second: u32) -> Self {
        self.options.access.anonymous_rate_limit = Some(per_second);
        self
    }

    /// Creates the folders, runs the fixture, builds the app on port 0 and starts serving.
    pub(crate) async fn spawn(self) -> TestApp {
        let Self { configure, fixture, options } = self;
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
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(application.run_until_stopped(async {
            // A dropped sender stops the server too.
            let _ = stopped.await;
        }));
        TestApp {
            address,
            client: reqwest::Client::new(),
            config,
            state,
            stop: Some(stop),
            server: Some(server),
            _dir: dir,
        }
    }
}

impl TestApp {
    /// A builder for a variant of the app; [`spawn_app`] is `TestApp::builder().spawn()`.
    pub(crate) fn builder() -> TestAppBuilder {
        TestAppBuilder { configure: Box::new(|_| {}), fixture: Box::new(|_| {}), options: ServeOptions::default() }
    }

    /// Stops the server through its shutdown signal and awaits it: in-flight requests finish,
    /// the workers stop and the writer thread is joined. Fails the test if that errs or hangs.
    pub(crate) async fn shutdown(mut self) {
        let (stop, server) = (self.stop.take(), self.server.take());
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
        // Our writer handle (in `state`) goes first: the writer thread ends when all are gone.
        drop(self);
        if let Some(server) = server {
            let stopped = tokio::time::timeout(SHUTDOWN_BOUND, server)
                .await
                .expect("shutdown within the bound (is a writer handle still held?)");
            stopped.expect("server task").expect("clean shutdown");
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub(crate) async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    pub(crate) async fn post_order(&self, body: &Value) -> Response {
        self.client.post(self.url("/orders/")).json(body).send().await.expect("request")
    }

    pub(crate) async fn post_order_with_key(&self, body: &Value, key: &str) -> Response {
        self.client.post(self.url("/orders/")).header("Idempotency-Key", key).json(body).send().await.expect("request")
    }

    pub(crate) async fn post_reservation(&self, body: &Value) -> Response {
        self.client.post(self.url("/reservations/")).json(body).send().await.expect("request")
    }

    pub(crate) async fn delete(&self, path: &str) -> Response {
        self.client.delete(self.url(path)).send().await.expect("request")
    }

    /// A direct connection to the database, for assertions on what was stored.
    pub(crate) fn db(&self) -> Connection {
        Connection::open(self.config.database_path()).expect("open db")
    }

    pub(crate) fn stock(&self, store_id: i64, product_id: i64) -> i64 {
        self.db()
            .query_row(
                "SELECT COALESCE((SELECT quantity FROM inventory WHERE store_id = ?1 AND product_id = ?2), 0)",
                [store_id, product_id],
                |row| row.get(0),
            )
            .expect("stock query")
    }

    pub(crate) fn count(&self, table: &str) -> i64 {
        self.db().query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| row.get(0)).expect("count")
    }
}

/// Reads a JSON body, asserting the status first (with the body in the failure message).
pub(crate) async fn json_with_status(response: Response, expected: StatusCode) -> Value {
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

/// The admin a test's catalog and stock writes are recorded under: the tests write through the
/// same `*_as` writes the admin API and pages use, so each change also lands in the history.
pub(crate) fn test_actor() -> Actor {
    Actor { user_id: 1, username: "test-admin".to_owned() }
}

/// A small fixed catalog: 2 categories, products 1..=5, stores 1 and 2 with known stock.
pub(crate) fn small_catalog(conn: &Connection) {
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

impl Drop for TestApp {
    /// Fires the shutdown signal if the test did not (so the server does not outlive it), and
    /// fails such a test: it must end with `app.shutdown().await`, see the header.
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
            if !std::thread::panicking() {
                panic!("a test must end with `app.shutdown().await` (the writer thread was not joined)");
            }
        }
    }
}
