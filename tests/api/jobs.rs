//! The confirmation queue: enqueued with the order, sent once, retried with backoff,
//! dead-lettered, re-run after an expired lease, inspected and retried from the CLI.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aforro::cli::{Cli, Command, JobsAction, run};
use aforro::db::events::{Event, load_event};
use aforro::domain::Timestamp;
use aforro::jobs::sender::{Answer, ConfirmationSender, LogSender, SendError, SendFuture};
use aforro::jobs::{BatchReport, ExecutionOutcome, Worker, WorkerSettings};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::helpers::{TestApp, json_with_status, small_catalog};

/// An app whose own workers are off, so the test drains the queue step by step.
async fn spawn_app_without_workers() -> TestApp {
    TestApp::builder().configure(|config| config.jobs.job_workers = 0).fixture(small_catalog).spawn().await
}

fn worker(app: &TestApp, sender: impl ConfirmationSender + 'static, settings: WorkerSettings) -> Worker {
    Worker::new(app.state.reads.clone(), app.state.writer.clone(), Arc::new(sender), settings)
}

/// Retries are due at once, so a test can run them without waiting.
fn no_backoff() -> WorkerSettings {
    WorkerSettings { backoff_base: Duration::ZERO, ..WorkerSettings::default() }
}

async fn place_kettle_order(app: &TestApp) -> Value {
    let body = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 2}]});
    json_with_status(app.post_order(&body).await, StatusCode::CREATED).await
}

async fn confirmation(app: &TestApp, order: &Value) -> Value {
    let fetched = json_with_status(app.get(&format!("/orders/{}/", order["id"])).await, StatusCode::OK).await;
    fetched["confirmation"].clone()
}

async fn step(worker: &Worker) -> ExecutionOutcome {
    worker.try_execute_task().await.expect("worker step")
}

fn completed(done: usize, retried: usize, failed: usize) -> ExecutionOutcome {
    ExecutionOutcome::TasksCompleted(BatchReport { done, retried, failed })
}

/// Fails its first `failures` sends, then succeeds; counts every send.
#[derive(Default)]
struct FlakySender {
    failures: usize,
    sends: AtomicUsize,
}

impl ConfirmationSender for FlakySender {
    fn channel(&self) -> &'static str {
        "log"
    }

    fn send<'a>(&'a self, _event: &'a Event, _body: &'a str) -> SendFuture<'a> {
        let attempt = self.sends.fetch_add(1, Ordering::SeqCst);
        let failures = self.failures;
        Box::pin(async move {
            if attempt < failures {
                Err(SendError::new(format!("test failure {}", attempt + 1)))
            } else {
                Ok(Answer::default())
            }
        })
    }
}

#[tokio::test]
async fn a_confirmed_order_is_committed_with_its_queued_job() {
    let app = spawn_app_without_workers().await;

    let order = place_kettle_order(&app).await;

    let (state, order_id): (String, i64) = app
        .db()
        .query_row("SELECT state, order_id FROM jobs", [], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("one job");
    assert_eq!((state.as_str(), json!(order_id)), ("queued", order["id"].clone()));
    app.shutdown().await;
}

#[tokio::test]
async fn a_rejected_order_leaves_no_job() {
    let app = spawn_app_without_workers().await;
    let body = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}, {"product_id": 3, "quantity_requested": 1}]});

    json_with_status(app.post_order(&body).await, StatusCode::CONFLICT).await;

    assert_eq!(app.count("jobs"), 0);
    app.shutdown().await;
}

#[tokio::test]
async fn a_worker_sends_the_confirmation_and_marks_the_job_done() {
    let app = spawn_app_without_workers().await;
    let order = place_kettle_order(&app).await;
    let worker = worker(&app, LogSender, WorkerSettings::default());

    assert_eq!(step(&worker).await, completed(1, 0, 0));

    let confirmation = confirmation(&app, &order).await;
    assert_eq!((confirmation["status"].clone(), confirmation["attempts"].clone()), (json!("sent"), json!(1)));
    assert!(confirmation["sent_at"].is_string(), "{confirmation}");
    let body: String = app.db().query_row("SELECT body FROM notifications", [], |row| row.get(0)).expect("recorded");
    let body: Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(body["event"], "order.confirmed");
    assert_eq!(body["id"].as_str().map(str::len), Some(32), "a 128-bit hex event id: {body}");
    assert_eq!(body["data"], order, "the data is the order body");
    assert_eq!(step(&worker).await, ExecutionOutcome::EmptyQueue, "nothing is left to do");
    // The worker holds a writer handle: the writer thread ends when the last one goes.
    drop(worker);
    app.shutdown().await;
}

/// The job row of the app's only job: (state, attempts, whether it holds a lease).
fn the_job(app: &TestApp) -> (String, i64, bool) {
    app.db()
        .query_row("SELECT state, attempts, lease_expires_at IS NOT NULL FROM jobs", [], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .expect("one job")
}

#[tokio::test]
async fn while_workers_take_handed_jobs_an_order_s_job_is_leased_with_the_order_and_sent_once_unclaimed() {
    let app = spawn_app_without_workers().await;
    let handoff = app.state.writer.job_handoff().clone();
    handoff.open(Duration::from_secs(30));

    let order = place_kettle_order(&app).await;

    assert_eq!(the_job(&app), ("running".to_owned(), 1, true), "leased by the order's own transaction");
    assert_eq!(handoff.waiting(), 1, "and handed over once committed");
    let worker = worker(&app, LogSender, WorkerSettings::default());
    assert_eq!(step(&worker).await, completed(1, 0, 0));
    assert_eq!(handoff.waiting(), 0);
    let confirmation = confirmation(&app, &order).await;
    assert_eq!((confirmation["status"].clone(), confirmation["attempts"].clone()), (json!("sent"), json!(1)));
    assert_eq!(app.count("notifications"), 1);
    assert_eq!(step(&worker).await, ExecutionOutcome::EmptyQueue, "nothing is left to claim");
    handoff.close();
    place_kettle_order(&app).await;
    assert_eq!(handoff.waiting(), 0, "a closed handoff queues the job in the table");
    drop(worker);
    app.shutdown().await;
}

#[tokio::test]
async fn a_handed_job_s_event_is_the_one_its_claim_would_read_back_from_the_database() {
    let app = spawn_app_without_workers().await;
    let handoff = app.state.writer.job_handoff().clone();
    handoff.open(Duration::from_secs(30));
    // Two lines out of id order, so the line order matters.
    let body = json!({"store_id": 1, "items": [
        {"product_id": 4, "quantity_requested": 2}, {"product_id": 2, "quantity_requested": 1}]});
    let order = json_with_status(app.post_order(&body).await, StatusCode::CREATED).await;

    let mut taken = handoff.take(1, Timestamp::now());
    let (job, handed) = taken.pop().expect("the order's job was handed over");
    let read_back = load_event(&app.db(), &job).expect("read").expect("an order event");

    let as_json = |event: &Event| serde_json::to_value(event).expect("serialises");
    assert_eq!(as_json(&handed), as_json(&read_back));
    assert_eq!(as_json(&handed)["data"], order, "the data is the order body that was answered");
    assert_eq!(handed.id, job.event_id);
    handoff.close();
    app.shutdown().await;
}

#[tokio::test]
async fn a_handed_job_no_worker_took_before_its_lease_ended_is_claimed_again_and_sent_once() {
    let app = spawn_app_without_workers().await;
    let handoff = app.state.writer.job_handoff().clone();
    // The shortest lease there is: over before any worker looks.
    handoff.open(Duration::ZERO);
    let order = place_kettle_order(&app).await;
    assert_eq!(handoff.waiting(), 1);

    let worker = worker(&app, LogSender, WorkerSettings::default());
    assert_eq!(step(&worker).await, completed(1, 0, 0));

    assert_eq!(handoff.waiting(), 0, "the stale hand-over is dropped, not delivered");
    assert_eq!(the_job(&app), ("done".to_owned(), 2, false), "the ordinary claim counted a second attempt");
    assert_eq!(confirmation(&app, &order).await["status"], "sent");
    assert_eq!(app.count("notifications"), 1);
    drop(worker);
    app.shutdown().await;
}

#[tokio::test]
async fn the_app_s_own_workers_confirm_an_order_without_being_asked() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;

    let order = place_kettle_order(&app).await;

    // The workers run in the background: poll, bounded, until they are done.
    let deadline = Instant::now() + Duration::from_secs(10);
    while confirmation(&app, &order).await["status"] != "sent" {
        assert!(Instant::now() < deadline, "the confirmation was not sent within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.count("notifications"), 1);
    json_with_status(app.get("/readyz").await, StatusCode::OK).await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_failing_sender_is_retried_until_it_succeeds() {
    let app = spawn_app_without_workers().await;
    let order = place_kettle_order(&app).await;
    let worker = worker(&app, FlakySender { failures: 2, ..FlakySender::default() }, no_backoff());

    assert_eq!(step(&worker).await, completed(0, 1, 0));
    assert_eq!(confirmation(&app, &order).await["status"], "queued");
    assert_eq!(step(&worker).await, completed(0, 1, 0));
    assert_eq!(step(&worker).await, completed(1, 0, 0));

    assert_eq!(confirmation(&app, &order).await["attempts"], 3);
    assert_eq!(app.count("notifications"), 1);
    // The worker holds a writer handle: the writer thread ends when the last one goes.
    drop(worker);
    app.shutdown().await;
}

#[tokio::test]
async fn a_failed_attempt_waits_for_its_backoff_before_running_again() {
    let app = spawn_app_without_workers().await;
    place_kettle_order(&app).await;
    let settings = WorkerSettings { backoff_base: Duration::from_secs(60), ..WorkerSettings::default() };
    let worker = worker(&app, FlakySender { failures: 1, ..FlakySender::default() }, settings);
    let before = aforro::domain::Timestamp::now().micros;

    assert_eq!(step(&worker).await, completed(0, 1, 0));

    let (run_at, last_error): (i64, String) = app
        .db()
        .query_row("SELECT run_at, last_error FROM jobs", [], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("job");
    assert!(run_at - before >= 30_000_000, "60 s base with at most half jittered off: {}", run_at - before);
    assert_eq!(last_error, "test failure 1");
    assert_eq!(step(&worker).await, ExecutionOutcome::EmptyQueue, "not due yet");
    // The worker holds a writer handle: the writer thread ends when the last one goes.
    drop(worker);
    app.shutdown().await;
}

#[tokio::test]
async fn a_job_failing_max_attempts_times_is_dead_lettered_and_kept() {
    let app = spawn_app_without_workers().await;
    let order = place_kettle_order(&app).await;
    let worker = worker(&app, FlakySender { failures: usize::MAX, ..FlakySender::default() }, no_backoff());

    for _ in 1..8 {
        assert_eq!(step(&worker).await, completed(0, 1, 0));
    }
    assert_eq!(step(&worker).await, completed(0, 0, 1), "the eighth failure is the last");

    assert_eq!(confirmation(&app, &order).await, json!({"status": "failed", "attempts": 8, "sent_at": null}));
    assert_eq!(step(&worker).await, ExecutionOutcome::EmptyQueue, "a dead letter is not retried");
    assert_eq!(app.count("notifications"), 0);
    // The worker holds a writer handle: the writer thread ends when the last one goes.
    drop(worker);
    app.shutdown().await;
}

/// Signals when a send starts, then holds it until released: a worker stuck mid-delivery.
#[derive(Default)]
struct StuckSender {
    entered: Notify,
    release: Notify,
}

impl ConfirmationSender for StuckSender {
    fn channel(&self) -> &'static str {
        "log"
    }

    fn send<'a>(&'a self, _event: &'a Event, _body: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            self.entered.notify_one();
            self.release.notified().await;
            Ok(Answer::default())
        })
    }
}

#[tokio::test]
async fn an_expired_lease_runs_the_job_again_and_the_order_is_recorded_once() {
    let app = spawn_app_without_workers().await;
    let order = place_kettle_order(&app).await;
    let stuck = Arc::new(StuckSender::default());
    let short_lease = WorkerSettings { lease: Duration::ZERO, ..WorkerSettings::default() };
    let slow = Worker::new(app.state.reads.clone(), app.state.writer.clone(), stuck.clone(), short_lease);
    let first_run = tokio::spawn(async move { slow.try_execute_task().await });
    stuck.entered.notified().await;

    // The first worker's lease has expired: another worker claims the job and sends it.
    let second = worker(&app, LogSender, WorkerSettings::default());
    assert_eq!(step(&second).await, completed(1, 0, 0));
    stuck.release.notify_one();
    let first = first_run.await.expect("task").expect("step");

    assert_eq!(first, completed(1, 0, 0), "the late delivery finishes the job too");
    let rows: i64 = app
        .db()
        .query_row("SELECT COUNT(*) FROM notifications WHERE order_id = ?1", [order["id"].as_i64()], |row| row.get(0))
        .expect("count");
    assert_eq!(rows, 1, "delivered twice, recorded once");
    assert_eq!(confirmation(&app, &order).await["status"], "sent");
    // The worker holds a writer handle: the writer thread ends when the last one goes.
    drop(second);
    app.shutdown().await;
}

#[tokio::test]
async fn a_job_claimed_again_after_its_order_was_recorded_is_not_sent_again() {
    let app = spawn_app_without_workers().await;
    place_kettle_order(&app).await;
    let counting = Arc::new(FlakySender::default());
    let worker = Worker::new(app.state.reads.clone(), app.state.writer.clone(), counting.clone(), no_backoff());
    step(&worker).await;
    // As if a crash had lost the `done` mark after the notification was recorded.
    app.db().execute("UPDATE jobs SET state = 'queued'", []).expect("reset");

    assert_eq!(step(&worker).await, completed(1, 0, 0));

    assert_eq!(counting.sends.load(Ordering::SeqCst), 1, "the sender ran once");
    assert_eq!(app.count("notifications"), 1);
    // The worker holds a writer handle: the writer thread ends when the last one goes.
    drop(worker);
    app.shutdown().await;
}

/// Records the id of every event it sends.
#[derive(Default)]
struct RecordingSender {
    sent: std::sync::Mutex<Vec<String>>,
}

impl ConfirmationSender for RecordingSender {
    fn channel(&self) -> &'static str {
        "log"
    }

    fn send<'a>(&'a self, event: &'a Event, _body: &'a str) -> SendFuture<'a> {
        self.sent.lock().expect("lock").push(event.id.clone());
        Box::pin(async { Ok(Answer::default()) })
    }
}

/// Every job's event id, sorted, and how many jobs are not `done`.
fn event_ids_and_unfinished(app: &TestApp) -> (Vec<String>, i64) {
    let db = app.db();
    let mut ids: Vec<String> = db
        .prepare("SELECT event_id FROM jobs")
        .and_then(|mut stmt| stmt.query_map([], |row| row.get(0))?.collect())
        .expect("event ids");
    ids.sort();
    let unfinished = db.query_row("SELECT COUNT(*) FROM jobs WHERE state <> 'done'", [], |row| row.get(0)).expect("n");
    (ids, unfinished)
}

#[tokio::test]
async fn the_worker_loop_sends_every_event_once_and_records_each_batch_with_the_next_claim() {
    let app = spawn_app_without_workers().await;
    let recording = Arc::new(RecordingSender::default());
    // Batches of 3 and a short poll: the 20 orders' jobs (and their out-of-stock events) take
    // many pipelined steps, each recording the batch before it.
    let settings = WorkerSettings { claim_batch: 3, poll_interval: Duration::from_millis(5), ..no_backoff() };
    let looping = Worker::new(app.state.reads.clone(), app.state.writer.clone(), recording.clone(), settings);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(looping.run(Arc::new(Notify::new()), stopped));
    // 20 single units, within the small catalog's stock; the mug, the boards and the headlamps
    // run out.
    let units = [((1, 1), 8), ((1, 4), 5), ((1, 2), 3), ((2, 1), 3), ((1, 5), 1)];
    for (store, product) in units.iter().flat_map(|&(line, count)| std::iter::repeat_n(line, count)) {
        let body = json!({"store_id": store, "items": [{"product_id": product, "quantity_requested": 1}]});
        json_with_status(app.post_order(&body).await, StatusCode::CREATED).await;
    }

    let deadline = Instant::now() + Duration::from_secs(10);
    while event_ids_and_unfinished(&app).1 > 0 {
        assert!(Instant::now() < deadline, "the loop did not finish every job within 10 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(true).expect("the loop listens");
    tokio::time::timeout(Duration::from_secs(10), running).await.expect("the loop stops").expect("task");

    let (mut ids, unfinished) = event_ids_and_unfinished(&app);
    let mut sent = recording.sent.lock().expect("lock").clone();
    sent.sort();
    assert_eq!(unfinished, 0);
    assert!(ids.len() > 20, "20 confirmations and the stock that ran out: {}", ids.len());
    assert_eq!(sent, ids, "every event sent exactly once");
    assert_eq!(app.count("notifications"), i64::try_from(ids.len()).expect("small"), "and recorded once");
    ids.dedup();
    assert_eq!(ids.len(), sent.len(), "event ids are unique");
    app.shutdown().await;
}

#[tokio::test]
async fn a_stopping_worker_loop_records_the_batch_it_was_delivering() {
    let app = spawn_app_without_workers().await;
    let order = place_kettle_order(&app).await;
    let stuck = Arc::new(StuckSender::default());
    let looping = Worker::new(app.state.reads.clone(), app.state.writer.clone(), stuck.clone(), no_backoff());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(looping.run(Arc::new(Notify::new()), stopped));
    stuck.entered.notified().await;

    // Stop while the batch is being delivered: no next claim will carry its record.
    stop.send(true).expect("the loop listens");
    stuck.release.notify_one();
    tokio::time::timeout(Duration::from_secs(10), running).await.expect("the loop stops").expect("task");

    assert_eq!(confirmation(&app, &order).await["status"], "sent");
    assert_eq!(event_ids_and_unfinished(&app).1, 0);
    assert_eq!(app.count("notifications"), 1);
    app.shutdown().await;
}

#[tokio::test]
async fn jobs_retry_is_refused_while_a_server_owns_the_data_folder() {
    let app = spawn_app_without_workers().await;
    let cli = Cli {
        config: app.config.clone(),
        command: Command::Jobs { state: None, limit: 10, action: Some(JobsAction::Retry { id: 1 }) },
    };

    let error = tokio::task::spawn_blocking(move || run(cli)).await.expect("task").expect_err("must refuse");

    assert!(error.to_string().contains("in use by another aforro process"), "{error:#}");
    app.shutdown().await;
}

#[tokio::test]
async fn jobs_retry_requeues_a_failed_job_with_fresh_attempts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = aforro::config::Config::in_dir(dir.path());
    let store = aforro::app::open_store(&config).expect("store");
    small_catalog(&store.write_conn);
    store
        .write_conn
        .execute_batch(
            "INSERT INTO orders (id, store_id, status, created_at) VALUES (1, 1, 'CONFIRMED', 1);
             INSERT INTO jobs (id, kind, order_id, state, attempts, run_at, created_at, updated_at, last_error)
               VALUES (7, 'order.confirmed', 1, 'failed', 8, 1, 1, 1, 'boom');",
        )
        .expect("a dead letter");
    drop(store);
    let list = Cli {
        config: config.clone(),
        command: Command::Jobs { state: Some("failed".into()), limit: 10, action: None },
    };
    let retry = Cli {
        config: config.clone(),
        command: Command::Jobs { state: None, limit: 10, action: Some(JobsAction::Retry { id: 7 }) },
    };
    let again = Cli {
        config: config.clone(),
        command: Command::Jobs { state: None, limit: 10, action: Some(JobsAction::Retry { id: 7 }) },
    };

    tokio::task::spawn_blocking(move || {
        run(list).expect("list");
        run(retry).expect("retry");
        assert!(run(again).is_err(), "a queued job is not a failed one");
    })
    .await
    .expect("task");

    let db = rusqlite::Connection::open(config.database_path()).expect("db");
    let (state, attempts): (String, i64) = db
        .query_row("SELECT state, attempts FROM jobs WHERE id = 7", [], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("job");
    assert_eq!((state.as_str(), attempts), ("queued", 0));
}
