//! A torn or stale index on disk: whatever happened to `index/` while the server was stopped,
//! `serve` notices, rebuilds from SQLite, and answers searches from the database's catalog,
//! never from what the old index remembers.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use aforro::app::{Application, ServeOptions, open_store};
use aforro::config::{Config, Synchronous};
use aforro::search::index_path;
use reqwest::StatusCode;
use serde_json::Value;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::helpers::{json_with_status, small_catalog};

/// A server on a data and index folder that outlive it, so it can be stopped and restarted.
struct Server {
    address: SocketAddr,
    stop: oneshot::Sender<()>,
    running: JoinHandle<anyhow::Result<()>>,
}

impl Server {
    async fn start(config: &Config) -> Self {
        let application = Application::build(config, "127.0.0.1:0".parse().expect("addr"), ServeOptions::default())
            .await
            .expect("serve starts whatever the state of the index folder");
        let address = application.local_addr().expect("local addr");
        let (stop, stopped) = oneshot::channel();
        let running = tokio::spawn(application.run_until_stopped(async {
            let _ = stopped.await;
        }));
        Self { address, stop, running }
    }

    async fn shut_down(self) {
        let _ = self.stop.send(());
        self.running.await.expect("server task").expect("clean shutdown");
    }

    /// Titles of every product matching `q`, in id order.
    async fn titles(&self, query: &str) -> Vec<String> {
        let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client");
        let url = format!("http://{}/api/search/products/?{query}&sort=price&page_size=100", self.address);
        let page: Value = json_with_status(client.get(url).send().await.expect("request"), StatusCode::OK).await;
        let mut titles: Vec<String> = page["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|row| row["title"].as_str().expect("title").to_owned())
            .collect();
        titles.sort();
        titles
    }
}

/// The small catalog in a fresh folder, served once so an index exists on disk, then stopped.
async fn stopped_server_with_index() -> (TempDir, Config) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config { synchronous: Synchronous::Normal, ..Config::in_dir(dir.path()) };
    let store = open_store(&config).expect("open store");
    small_catalog(&store.write_conn);
    drop(store);
    let server = Server::start(&config).await;
    assert_eq!(server.titles("q=kettle").await, ["Steel Kettle"]);
    server.shut_down().await;
    (dir, config)
}

fn segment_files(config: &Config, extension: &str) -> Vec<PathBuf> {
    std::fs::read_dir(index_path(&config.index_dir))
        .expect("index folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == extension))
        .collect()
}

fn truncate_to_half(path: &Path) {
    let bytes = std::fs::read(path).expect("read");
    std::fs::write(path, &bytes[..bytes.len() / 2]).expect("truncate");
}

/// Restarts on the damaged folder and checks searches answer from the database.
async fn assert_serves_the_catalog_after_restart(config: &Config) {
    let server = Server::start(config).await;
    assert_eq!(server.titles("q=kettle").await, ["Steel Kettle"]);
    assert_eq!(server.titles("category=2").await, ["Camping Tent", "Headlamp"]);
    assert_eq!(server.titles("q=").await.len(), 5);
    server.shut_down().await;
}

#[tokio::test]
async fn a_deleted_meta_json_is_rebuilt() {
    let (_dir, config) = stopped_server_with_index().await;
    std::fs::remove_file(index_path(&config.index_dir).join("meta.json")).expect("delete meta.json");

    assert_serves_the_catalog_after_restart(&config).await;
}

#[tokio::test]
async fn an_emptied_index_folder_is_rebuilt() {
    let (_dir, config) = stopped_server_with_index().await;
    let path = index_path(&config.index_dir);
    std::fs::remove_dir_all(&path).expect("delete");
    std::fs::create_dir_all(&path).expect("empty folder");

    assert_serves_the_catalog_after_restart(&config).await;
}

#[tokio::test]
async fn a_garbage_stamp_is_rebuilt() {
    let (_dir, config) = stopped_server_with_index().await;
    let meta_path = index_path(&config.index_dir).join("meta.json");
    let mut meta: Value = serde_json::from_slice(&std::fs::read(&meta_path).expect("meta")).expect("meta is JSON");
    meta["payload"] = Value::String("\u{0}not a stamp".to_owned());
    std::fs::write(&meta_path, meta.to_string()).expect("write meta");

    assert_serves_the_catalog_after_restart(&config).await;
}

#[tokio::test]
async fn every_kind_of_truncated_segment_file_is_rebuilt() {
    let (_dir, config) = stopped_server_with_index().await;
    let extensions = ["idx", "term", "fast", "fieldnorm", "store"];
    for extension in extensions {
        let files = segment_files(&config, extension);
        assert!(!files.is_empty(), "the index has a .{extension} file");
        for file in files {
            truncate_to_half(&file);
        }

        assert_serves_the_catalog_after_restart(&config).await;
    }
}

#[tokio::test]
async fn a_deleted_segment_file_is_rebuilt() {
    let (_dir, config) = stopped_server_with_index().await;
    for file in segment_files(&config, "term") {
        std::fs::remove_file(file).expect("delete segment file");
    }

    assert_serves_the_catalog_after_restart(&config).await;
}

#[tokio::test]
async fn a_flipped_byte_in_a_segment_file_is_rebuilt() {
    let (_dir, config) = stopped_server_with_index().await;
    for file in segment_files(&config, "fast") {
        let mut bytes = std::fs::read(&file).expect("read");
        bytes[0] ^= 0xFF;
        std::fs::write(&file, bytes).expect("write");
    }

    assert_serves_the_catalog_after_restart(&config).await;
}

#[tokio::test]
async fn a_catalog_changed_while_stopped_is_what_the_restarted_server_shows() {
    let (_dir, config) = stopped_server_with_index().await;
    let store = open_store(&config).expect("open store");
    store.write_conn.execute("UPDATE products SET title = 'Copper Kettle' WHERE id = 1", []).expect("rename");
    drop(store);

    let server = Server::start(&config).await;

    // Rows are read from SQLite, so only the matching itself can show a stale index.
    assert_eq!(server.titles("q=copper").await, ["Copper Kettle"]);
    assert!(server.titles("q=steel").await.is_empty(), "the old title is not searchable");
    server.shut_down().await;
}

/// The stamp's catalog version alone cannot tell two databases apart: a restored or replaced
/// database can reach the same version with another catalog.
#[tokio::test]
async fn a_replaced_database_at_the_same_catalog_version_is_not_served_from_the_old_index() {
    let (_dir, config) = stopped_server_with_index().await;
    let database = config.database_path();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
    }
    let store = open_store(&config).expect("open store");
    small_catalog(&store.write_conn);
    store.write_conn.execute_batch("UPDATE products SET title = 'Tin Kettle' WHERE id = 1;").expect("rename");
    store
        .write_conn
        .execute_batch("UPDATE catalog_version SET version = version - 1")
        .expect("the same version the old database had");
    drop(store);

    let server = Server::start(&config).await;

    assert_eq!(server.titles("q=tin").await, ["Tin Kettle"]);
    assert!(server.titles("q=steel").await.is_empty(), "the old database's title is not searchable");
    server.shut_down().await;
}
