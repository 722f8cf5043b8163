//! `GET /readyz` follows the job workers: ready while every configured worker runs, `503`
//! problem+json with `Retry-After` once one has died.

use std::time::{Duration, Instant};

use aforro::app::AppState;
use aforro::config::HttpOptions;
use aforro::db::records::Event;
use aforro::jobs::sender::{Answer, ConfirmationSender, SendFuture};
use aforro::jobs::{JobQueue, Worker, WorkerPool, WorkerSettings};
use reqwest::StatusCode;
use serde_json::json;
use tokio::net::TcpListener;

use crate::helpers::{TestApp, json_with_status, small_catalog};

/// A sender whose worker dies: `channel()` is called on the worker's own task when it records
/// a batch, so its panic ends that task (a panic inside `send` would only fail the attempt).
struct DeadlySender;

impl ConfirmationSender for DeadlySender {
    fn channel(&self) -> &'static str {
        panic!("the worker dies while recording its batch")
    }

    fn send<'a>(&'a self, _event: &'a Event, _body: &'a str) -> SendFuture<'a> {
        Box::pin(async { Ok(Answer::default()) })
    }
}

#[tokio::test]
async fn readyz_answers_503_once_a_job_worker_has_died() {
    // The app's own workers are off; this test's one worker serves its own router, so its
    // death is the only thing that can change readiness.
    let app = TestApp::builder().configure(|config| config.jobs.job_workers = 0).fixture(small_catalog).spawn().await;
    app.state.suggest.wait_until_current().await;
    let queue = JobQueue::new(1);
    let settings = WorkerSettings { poll_interval: Duration::from_millis(20), ..WorkerSettings::default() };
    let worker =
        Worker::new(app.state.reads.clone(), app.state.writer.clone(), std::sync::Arc::new(DeadlySender), settings);
    let pool = WorkerPool::start(&queue, &worker);
    let state = AppState { jobs: queue, ..app.state.clone() };
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let readyz = format!("http://{}/readyz", listener.local_addr().expect("addr"));
    let router = aforro::http::router(state, &HttpOptions::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let stopped = async move { drop(stopped.await) };
    let server = tokio::spawn(aforro::http::serve(listener, router, Duration::from_secs(30), stopped));
    let ready = app.client.get(&readyz).send().await.expect("request");
    json_with_status(ready, StatusCode::OK).await;

    // The order's confirmation job is what the worker dies on.
    let order = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]});
    json_with_status(app.post_order(&order).await, StatusCode::CREATED).await;

    let deadline = Instant::now() + Duration::from_secs(10);
    let problem = loop {
        let response = app.client.get(&readyz).send().await.expect("request");
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(
                response.headers().get("retry-after").map(reqwest::header::HeaderValue::as_bytes),
                Some(&b"1"[..]),
                "every 503 says when to retry"
            );
            break json_with_status(response, StatusCode::SERVICE_UNAVAILABLE).await;
        }
        assert!(Instant::now() < deadline, "readyz still answers {} 10 s after the worker died", response.status());
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(problem["detail"], "0 of 1 job workers are running");
    // This test's server, pool and worker hold writer handles: release them so the app's
    // shutdown can join the writer.
    drop(stop);
    server.await.expect("the test's server stops");
    pool.shutdown(Duration::from_secs(1)).await;
    drop(worker);
    app.shutdown().await;
}
