//! The maintenance tasks and the graceful shutdown of the workers.

use std::time::Duration;

use aforro::app::{Application, ServeOptions};
use aforro::config::{Config, Synchronous};
use aforro::jobs::maintenance::{Retention, Task, run_task};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, json_with_status, small_catalog};

const HOUR: Duration = Duration::from_secs(3600);

#[tokio::test]
async fn purging_removes_old_done_jobs_and_idempotency_keys_but_keeps_dead_letters() {
    let app = TestApp::builder().configure(|config| config.jobs.job_workers = 0).fixture(small_catalog).spawn().await;
    let body = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]});
    json_with_status(app.post_order_with_key(&body, "old-key").await, StatusCode::CREATED).await;
    json_with_status(app.post_order(&body).await, StatusCode::CREATED).await;
    // Age everything by two days; the first job is done, the second a dead letter.
    let two_days = 2 * 24 * 3600 * 1_000_000_i64;
    app.db()
        .execute_batch(&format!(
            "UPDATE jobs SET updated_at = updated_at - {two_days}, state = CASE id WHEN 1 THEN 'done' ELSE 'failed' END;
             UPDATE idempotency_keys SET created_at = created_at - {two_days};"
        ))
        .expect("age rows");

    run_task(&app.state.writer, Task::Purge, Retention::jobs(24 * HOUR)).await.expect("purge");

    let states: Vec<String> = app
        .db()
        .prepare("SELECT state FROM jobs")
        .expect("sql")
        .query_map([], |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(states, ["failed"]);
    assert_eq!(app.count("idempotency_keys"), 0);
    app.shutdown().await;
}

#[tokio::test]
async fn purging_prunes_stock_movements_past_their_retention_only() {
    let app = TestApp::builder().configure(|config| config.jobs.job_workers = 0).fixture(small_catalog).spawn().await;
    let body = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]});
    for _ in 0..3 {
        json_with_status(app.post_order(&body).await, StatusCode::CREATED).await;
    }
    // The two oldest movements are ten days old, the newest is not.
    let ten_days = 10 * 24 * 3600 * 1_000_000_i64;
    app.db()
        .execute(&format!("UPDATE stock_movements SET created_at = created_at - {ten_days} WHERE id <= 2"), [])
        .expect("age movements");

    let retention = Retention { jobs: 24 * HOUR, movements: 7 * 24 * HOUR };
    run_task(&app.state.writer, Task::Purge, retention).await.expect("purge");

    let kept: Vec<i64> = app
        .db()
        .prepare("SELECT quantity_after FROM stock_movements ORDER BY id")
        .expect("sql")
        .query_map([], |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(kept, [7], "the newest stays, and its quantity is the current one");
    assert_eq!(app.stock(1, 1), 7);
    let counted: i64 = app
        .db()
        .query_row("SELECT movement_count FROM inventory WHERE store_id = 1 AND product_id = 1", [], |row| row.get(0))
        .expect("count");
    assert_eq!(counted, 1, "the movements listing counts only what is kept");
    app.shutdown().await;
}

#[tokio::test]
async fn expired_leases_are_requeued_and_the_database_is_checkpointed_and_optimized() {
    let app = TestApp::builder().configure(|config| config.jobs.job_workers = 0).fixture(small_catalog).spawn().await;
    let body = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]});
    json_with_status(app.post_order(&body).await, StatusCode::CREATED).await;
    app.db().execute("UPDATE jobs SET state = 'running', lease_expires_at = 1", []).expect("a stale lease");

    for task in [Task::RequeueExpiredLeases, Task::Optimize, Task::Checkpoint, Task::CheckpointPassive] {
        run_task(&app.state.writer, task, Retention::jobs(HOUR))
            .await
            .unwrap_or_else(|error| panic!("{task:?}: {error}"));
    }

    let state: String = app.db().query_row("SELECT state FROM jobs", [], |row| row.get(0)).expect("job");
    assert_eq!(state, "queued");
    let wal = app.config.data_dir.join("aforro.db-wal");
    assert_eq!(std::fs::metadata(wal).map(|meta| meta.len()).unwrap_or(0), 0, "TRUNCATE empties the WAL");
    app.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_the_workers_and_the_writer_and_returns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config { synchronous: Synchronous::Normal, ..Config::in_dir(dir.path()) };
    let setup = config.clone();
    tokio::task::spawn_blocking(move || small_catalog(&aforro::app::open_store(&setup).expect("store").write_conn))
        .await
        .expect("fixture");
    let application = Application::build(&config, "127.0.0.1:0".parse().expect("addr"), ServeOptions::default())
        .await
        .expect("build");
    let addr = application.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until_stopped(async move { drop(stopped.await) }));
    let body = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]});
    let response =
        reqwest::Client::new().post(format!("http://{addr}/orders/")).json(&body).send().await.expect("post");
    assert_eq!(response.status(), StatusCode::CREATED);

    stop.send(()).expect("signal");

    // Every writer handle (server, workers, maintenance) must go for the writer to end.
    let finished = tokio::time::timeout(Duration::from_secs(15), server).await;
    finished.expect("stopped within 15 s").expect("task").expect("clean shutdown");
    let db = rusqlite::Connection::open(config.database_path()).expect("db");
    let unfinished: i64 = db
        .query_row("SELECT COUNT(*) FROM jobs WHERE state NOT IN ('queued', 'done')", [], |row| row.get(0))
        .expect("n");
    assert_eq!(unfinished, 0, "jobs are done or left queued, never stuck running");
}
