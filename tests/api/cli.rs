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
