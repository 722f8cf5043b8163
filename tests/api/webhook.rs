//! The `webhook` sender against a local server on 127.0.0.1: a signed POST per event (here an
//! order's confirmation), retried on a non-2xx answer or a timeout.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aforro::jobs::settings::Secret;
use aforro::jobs::webhook::{EVENT_HEADER, SIGNATURE_HEADER, WebhookSender};
use aforro::jobs::{BatchReport, ExecutionOutcome, Worker, WorkerSettings};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{TestApp, json_with_status, small_catalog};

const SECRET: &str = "test-webhook-secret";

/// What the receiving end saw, and how it answers (in turn; the last answer repeats).
#[derive(Default)]
struct Receiver {
    requests: Mutex<Vec<(HeaderMap, Bytes)>>,
    answers: Mutex<Vec<(StatusCode, Duration)>>,
}

async fn receive(State(receiver): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    receiver.requests.lock().expect("lock").push((headers, body));
    let (status, delay) = {
        let mut answers = receiver.answers.lock().expect("lock");
        if answers.len() > 1 { answers.remove(0) } else { answers[0] }
    };
    tokio::time::sleep(delay).await;
    status
}

/// Starts the receiver on 127.0.0.1:0 and returns it with its URL.
async fn spawn_receiver(answers: Vec<(StatusCode, Duration)>) -> (Arc<Receiver>, String) {
    let receiver = Arc::new(Receiver { answers: Mutex::new(answers), ..Receiver::default() });
    let router = Router::new().route("/hook", post(receive)).with_state(Arc::clone(&receiver));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    (receiver, url)
}

async fn app_with_an_order() -> (TestApp, Value) {
    let app = TestApp::builder().configure(|config| config.jobs.job_workers = 0).fixture(small_catalog).spawn().await;
    let body = json!({"store_id": 1, "items": [{"product_id": 4, "quantity_requested": 2}]});
    let order = json_with_status(app.post_order(&body).await, reqwest::StatusCode::CREATED).await;
    (app, order)
}

fn webhook_worker(app: &TestApp, url: &str, timeout: Duration) -> Worker {
    let sender = WebhookSender::new(url, Secret::from(SECRET.to_owned()), timeout).expect("sender");
    let settings = WorkerSettings { backoff_base: Duration::ZERO, ..WorkerSettings::default() };
    Worker::new(app.state.reads.clone(), app.state.writer.clone(), Arc::new(sender), settings)
}

fn completed(done: usize, retried: usize) -> ExecutionOutcome {
    ExecutionOutcome::TasksCompleted(BatchReport { done, retried, failed: 0 })
}

#[tokio::test]
async fn the_webhook_receives_the_confirmation_signed_with_hmac_sha256() {
    let (app, order) = app_with_an_order().await;
    let (receiver, url) = spawn_receiver(vec![(StatusCode::OK, Duration::ZERO)]).await;
    let worker = webhook_worker(&app, &url, Duration::from_secs(5));

    assert_eq!(worker.try_execute_task().await.expect("step"), completed(1, 0));

    let requests = receiver.requests.lock().expect("lock").clone();
    assert_eq!(requests.len(), 1);
    let (headers, body) = &requests[0];
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(headers.get(SIGNATURE_HEADER).and_then(|value| value.to_str().ok()), Some(expected.as_str()));
    assert_eq!(headers.get(EVENT_HEADER).and_then(|value| value.to_str().ok()), Some("order.confirmed"));
    let sent: Value = serde_json::from_slice(body).expect("JSON");
    assert_eq!(sent["event"], "order.confirmed");
    assert_eq!(sent["data"], order, "the data is the order body");
    assert!(sent["created_at"].is_string() && sent["id"].is_string(), "{sent}");
    let channel: String = app.db().query_row("SELECT channel FROM notifications", [], |row| row.get(0)).expect("row");
    assert_eq!(channel, "webhook");
    // The worker holds a writer handle: the writer thread ends when the last one goes.
    drop(worker);
    app.shutdown().await;
}

#[tokio::test]
async fn a_webhook_answering_an_error_is_retried() {
    let (app, _order) = app_with_an_order().await;
    let (receiver, url) =
        spawn_receiver(vec![(StatusCode::INTERNAL_SERVER_ERROR, Duration::ZERO), (StatusCode::OK, Duration::ZERO)])
            .await;
    let worker = webhook_worker(&app, &url, Duration::from_secs(5));

    assert_eq!(worker.try_execute_task().await.expect("step"), completed(0, 1));
    assert_eq!(worker.try_execute_task().await.expect("step"), completed(1, 0));

    assert_eq!(receiver.requests.lock().expect("lock").len(), 2);
    let last_error: Option<String> =
        app.db().query_row("SELECT last_error FROM jobs", [], |row| row.get(0)).expect("job");
    assert_eq!(last_error, None, "a success clears the last error");
    // The worker holds a writer handle: the writer thread ends when the last one goes.
    drop(worker);
    app.shutdown().await;
}

#[tokio::test]
async fn a_webhook_that_does_not_answer_in_time_is_retried() {
    let (app, _order) = app_with_an_order().await;
    let (_receiver, url) = spawn_receiver(vec![(StatusCode::OK, Duration::from_secs(3))]).await;
    let worker = webhook_worker(&app, &url, Duration::from_millis(200));

    assert_eq!(worker.try_execute_task().await.expect("step"), completed(0, 1));

    let last_error: String = app.db().query_row("SELECT last_error FROM jobs", [], |row| row.get(0)).expect("job");
    assert!(last_error.contains("webhook request failed"), "{last_error}");
    assert_eq!(app.count("notifications"), 0);
    // The worker holds a writer handle: the writer thread ends when the last one goes.
    drop(worker);
    app.shutdown().await;
}
