//! The layers around every route: request id, gzip, CORS and load shedding.

use std::time::{Duration, Instant};

use aforro::config::HttpOptions;
use axum::http::HeaderValue;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, json_with_status, spawn_app};

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_given_one_is_kept() {
    let app = spawn_app().await;

    let generated = app.get("/healthz").await;
    let given =
        app.client.get(app.url("/healthz")).header("x-request-id", "trace-me-42").send().await.expect("request");

    let id = generated.headers().get("x-request-id").expect("a generated request id");
    assert!(!id.is_empty());
    assert_eq!(given.headers()["x-request-id"], "trace-me-42");
    app.shutdown().await;
}

#[tokio::test]
async fn gzip_is_used_when_asked_and_problems_stay_problem_json() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(app.url("/no/such/route/with/a/long/enough/path/to/compress"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("request");

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let body = response.bytes().await.expect("body");
    assert_eq!(&body[..2], &[0x1f, 0x8b], "gzip magic bytes");
    app.shutdown().await;
}

#[tokio::test]
async fn metrics_are_gzipped_when_asked() {
    let app = spawn_app().await;

    let response = app.client.get(app.url("/metrics")).header("accept-encoding", "gzip").send().await.expect("request");

    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().expect("ascii").starts_with("text/plain"));
    assert_eq!(response.headers()["content-encoding"], "gzip");
    app.shutdown().await;
}

#[tokio::test]
async fn cors_headers_are_absent_by_default() {
    let app = spawn_app().await;

    let response =
        app.client.get(app.url("/healthz")).header("origin", "https://shop.example").send().await.expect("request");

    assert!(response.headers().get("access-control-allow-origin").is_none());
    app.shutdown().await;
}

#[tokio::test]
async fn a_configured_origin_is_allowed_and_others_are_not() {
    let http =
        HttpOptions { cors_origins: vec![HeaderValue::from_static("https://shop.example")], ..HttpOptions::default() };
    let app = TestApp::builder().http(http).spawn().await;

    let allowed = app
        .client
        .get(app.url("/api/search/products/"))
        .header("origin", "https://shop.example")
        .send()
        .await
        .expect("request");
    let other =
        app.client.get(app.url("/healthz")).header("origin", "https://evil.example").send().await.expect("request");

    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://shop.example");
    assert!(other.headers().get("access-control-allow-origin").is_none());
    app.shutdown().await;
}

/// Opens a `POST /orders/` whose body never finishes arriving: its handler holds a
/// concurrency slot until [`finish_held_order`] sends the rest.
async fn hold_an_order_request(app: &TestApp) -> TcpStream {
    let mut stream = TcpStream::connect(app.address).await.expect("connect");
    let head =
        "POST /orders/ HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{";
    stream.write_all(head.as_bytes()).await.expect("write");
    stream
}

async fn finish_held_order(mut stream: TcpStream) -> String {
    stream.write_all(b"}").await.expect("write");
    let mut head = [0_u8; 12];
    tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut head)).await.expect("in time").expect("read");
    String::from_utf8_lossy(&head).into_owned()
}

#[tokio::test]
async fn an_api_over_its_concurrency_limit_answers_503_problem_json_at_once() {
    let app =
        TestApp::builder().http(HttpOptions { max_concurrent_requests: 1, ..HttpOptions::default() }).spawn().await;
    let mut held = hold_an_order_request(&app).await;

    // The held request takes the slot once the server has read its head; until then a probe
    // may still get through, so probe (bounded) until one is refused.
    let deadline = Instant::now() + Duration::from_secs(10);
    let refused = loop {
        assert!(Instant::now() < deadline, "no request was refused while the only slot was held");
        let started = Instant::now();
        let response = app.get("/api/search/products/").await;
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            assert!(started.elapsed() < Duration::from_secs(2), "refused, but not at once: {:?}", started.elapsed());
            break response;
        }
        // If a probe held the slot when the order's head arrived, the order was the one
        // refused (its connection has an answer): hold another.
        if held.try_read(&mut [0_u8; 1]).is_ok() {
            held = hold_an_order_request(&app).await;
        }
    };

    assert_eq!(refused.headers()["retry-after"], "1");
    let problem = json_with_status(refused, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(problem["detail"].as_str().is_some_and(|detail| detail.contains("concurrent")), "{problem}");
    // Operations stay answerable while the API is saturated.
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(app.get("/metrics").await.status(), StatusCode::OK);
    // The held request completes normally (an empty order is a 400), and frees its slot.
    assert_eq!(finish_held_order(held).await, "HTTP/1.1 400");
    assert_eq!(app.get("/api/search/products/").await.status(), StatusCode::OK);
    app.shutdown().await;
}
