//! Requests hyper refuses before they reach the router (a URI over 64 KiB, more than 100
//! header fields, a malformed header line) are answered in the contract's problem+json shape,
//! not with hyper's bare, bodiless status line.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, spawn_app};

/// Bounds each exchange: the server answers these at once, from the head alone.
const ANSWER_DEADLINE: Duration = Duration::from_secs(10);

/// Sends `head` (a whole request head, blank line included) and returns the status code and
/// the JSON body of the answer, asserting it is problem+json.
async fn problem_for(app: &TestApp, head: &str) -> (u16, Value) {
    let mut stream = TcpStream::connect(app.address).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("head");
    let mut answer = Vec::new();
    tokio::time::timeout(ANSWER_DEADLINE, stream.read_to_end(&mut answer))
        .await
        .expect("answered and closed in time")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no head: {answer:?}"));
    let status: u16 = head.get(9..12).and_then(|code| code.parse().ok()).unwrap_or_else(|| panic!("{head}"));
    assert!(head.to_ascii_lowercase().contains("content-type: application/problem+json"), "{head}");
    let problem: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body:?}"));
    assert_eq!(problem["status"], status, "{body}");
    (status, problem)
}

#[tokio::test]
async fn a_uri_over_64_kib_gets_414_problem_json() {
    let app = spawn_app().await;
    let path = format!("/api/search/products/?q={}", "a".repeat(70_000));

    let (status, problem) = problem_for(&app, &format!("GET {path} HTTP/1.1\r\nHost: aforro\r\n\r\n")).await;

    assert_eq!(status, 414);
    assert_eq!(problem["title"], "URI Too Long");
    app.shutdown().await;
}

#[tokio::test]
async fn more_than_100_header_fields_get_431_problem_json() {
    let app = spawn_app().await;
    let fields: String = (0..101).map(|n| format!("X-Field-{n}: {n}\r\n")).collect();

    let (status, _) = problem_for(&app, &format!("GET /healthz HTTP/1.1\r\nHost: aforro\r\n{fields}\r\n")).await;

    assert_eq!(status, 431);
    app.shutdown().await;
}

#[tokio::test]
async fn a_malformed_header_line_gets_400_problem_json() {
    let app = spawn_app().await;

    let (status, _) = problem_for(&app, "GET /healthz HTTP/1.1\r\nHost: aforro\r\nno colon here\r\n\r\n").await;

    assert_eq!(status, 400);
    app.shutdown().await;
}
