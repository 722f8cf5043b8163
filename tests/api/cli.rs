//! The command line refuses to write a database that a running server owns.

use aforro::cli::{Cli, Command, run};

use crate::helpers::{TestApp, small_catalog};

#[tokio::test]
async fn seed_migrate_and_reindex_refuse_while_a_server_owns_the_data_folder() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let commands = [
        Command::Seed { categories: 10, products: 5, stores: 1, inventory_per_store: 5, random_seed: 1 },
        Command::Migrate,
        Command::Reindex,
    ];
    for command in commands {
        let cli = Cli { config: app.config.clone(), command };
        let error = tokio::task::spawn_blocking(move || run(cli)).await.expect("task").expect_err("must refuse");
        assert!(error.to_string().contains("in use by another aforro process"), "{error:#}");
    }
    assert_eq!(app.count("products"), 5, "nothing was written behind the server's back");
    app.shutdown().await;
}

#[tokio::test]
async fn seed_runs_when_no_server_owns_the_data_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = aforro::config::Config::in_dir(dir.path());
    let command = Command::Seed { categories: 10, products: 5, stores: 1, inventory_per_store: 5, random_seed: 1 };
    let cli = Cli { config, command };
    tokio::task::spawn_blocking(move || run(cli)).await.expect("task").expect("seed runs");
}

#[tokio::test]
async fn healthcheck_succeeds_against_a_ready_server() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    app.state.suggest.wait_until_current().await;
    let cli = Cli { config: app.config.clone(), command: Command::Healthcheck { addr: app.address, timeout_secs: 5 } };

    tokio::task::spawn_blocking(move || run(cli)).await.expect("task").expect("ready");
    app.shutdown().await;
}

#[tokio::test]
async fn healthcheck_fails_when_nothing_answers() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Bound then dropped: nothing listens on this port any more.
    let addr = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let cli = Cli {
        config: aforro::config::Config::in_dir(dir.path()),
        command: Command::Healthcheck { addr, timeout_secs: 1 },
    };

    let error = tokio::task::spawn_blocking(move || run(cli)).await.expect("task").expect_err("nothing answers");

    assert!(error.to_string().contains("no answer from"), "{error:#}");
}

/// A CSV file in `dir` holding `text`.
fn csv_file(dir: &std::path::Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("stock.csv");
    std::fs::write(&path, text).expect("write the CSV");
    path
}

fn import(file: std::path::PathBuf, policy: &str, url: Option<String>, api_key: Option<&str>) -> Command {
    Command::Stock {
        action: aforro::cli::StockAction::Import(aforro::cli::stock::Import {
            file,
            error_policy: policy.to_owned(),
            url,
            api_key: api_key.map(str::to_owned),
        }),
    }
}

#[tokio::test]
async fn stock_import_sends_the_rows_to_a_running_server_with_its_key() {
    const MASTER: &str = "master-key-for-the-import-0123456";
    let app = TestApp::builder().fixture(small_catalog).master_key(MASTER).spawn().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = csv_file(dir.path(), "store_id,product_id,delta\n1,1,5\n2,1,-2\n");
    let cli = Cli {
        config: app.config.clone(),
        command: import(file.clone(), "reject_everything", Some(app.url("")), Some(MASTER)),
    };

    tokio::task::spawn_blocking(move || run(cli)).await.expect("task").expect("imported");

    assert_eq!((app.stock(1, 1), app.stock(2, 1)), (15, 5));
    let actors: Vec<(String, Option<String>)> = app
        .db()
        .prepare("SELECT reason, actor FROM stock_movements ORDER BY id")
        .expect("sql")
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows");
    assert_eq!(actors, vec![("bulk".to_owned(), Some("master".to_owned())); 2]);
    let unkeyed =
        Cli { config: app.config.clone(), command: import(file, "reject_everything", Some(app.url("")), None) };
    let error = tokio::task::spawn_blocking(move || run(unkeyed)).await.expect("task").expect_err("401");
    assert!(error.to_string().contains("401"), "{error:#}");
    app.shutdown().await;
}

#[tokio::test]
async fn stock_import_writes_the_database_itself_when_no_server_runs_and_names_failed_lines() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = aforro::config::Config::in_dir(dir.path());
    small_catalog(&aforro::app::open_store(&config).expect("store").write_conn);
    let good = csv_file(dir.path(), "store_id,product_id,quantity\n1,2,7\n1,9999,1\n1,3,4\n");
    let cli = Cli { config: config.clone(), command: import(good, "reject_failed_rows", None, None) };

    let error = tokio::task::spawn_blocking(move || run(cli)).await.expect("task").expect_err("a row failed");

    assert!(error.to_string().contains("1 rows failed"), "{error:#}");
    let conn = aforro::app::open_store(&config).expect("store").write_conn;
    let stock = |product: i64| -> i64 {
        conn.query_row("SELECT quantity FROM inventory WHERE store_id = 1 AND product_id = ?1", [product], |row| {
            row.get(0)
        })
        .expect("row")
    };
    assert_eq!((stock(2), stock(3)), (7, 4), "the good rows applied");
    let movements: Vec<(i64, Option<String>)> = conn
        .prepare("SELECT quantity_after, actor FROM stock_movements ORDER BY id")
        .expect("sql")
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows");
    assert_eq!(movements, vec![(7, None), (4, None)]);
}
