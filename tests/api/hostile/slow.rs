//! Slow clients: headers that trickle in (slowloris) are cut off by the header-read timeout;
//! a body that trickles in is cut off by the request timeout with a problem+json 503 and stores
//! nothing; a slow body that finishes in time is served.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::snapshot;
use aforro::config::HttpOptions;

use crate::helpers::{TestApp, small_catalog};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(1);
/// How long past the timeout the answer may take (scheduling on a loaded CI machine).
const MARGIN: Duration = Duration::from_secs(2);
const ORDER: &str = r#"{"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]}"#;

/// Sends one HTTP/1.1 request on a fresh connection and returns everything the server sends
/// back before closing (`Connection: close`), bounded by the timeout plus margin.
pub(super) async fn raw_request(address: SocketAddr, method: &str, framing: &str, body: &[u8]) -> String {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    let head = format!(
        "{method} /orders/ HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n{framing}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    // The server may answer (413) and close before reading everything: that is not an error.
    let _ = stream.write_all(body).await;
    read_answer(&mut stream).await
}

async fn read_answer(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let read = tokio::time::timeout(REQUEST_TIMEOUT + MARGIN, stream.read_to_end(&mut answer)).await;
    match read {
        Ok(_) => String::from_utf8_lossy(&answer).into_owned(),
        Err(_) => panic!("no complete answer in time; got so far: {}", String::from_utf8_lossy(&answer)),
    }
}

#[tokio::test]
async fn a_body_trickling_in_slower_than_the_request_timeout_gets_503_and_stores_nothing() {
    let app = spawn_app_with_request_timeout(REQUEST_TIMEOUT).await;
    let before = snapshot(&app);
    let mut stream = TcpStream::connect(app.address).await.expect("connect");
    let head = format!(
        "POST /orders/ HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        app.address,
        ORDER.len()
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    let (mut reader, mut writer) = stream.into_split();
    let started = Instant::now();

    // One byte every 100 ms: the whole body would take ~7 s, far past the 1 s timeout.
    let trickle = tokio::spawn(async move {
        for byte in ORDER.bytes() {
            if writer.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut answer = vec![0; 4096];
    let read = tokio::time::timeout(REQUEST_TIMEOUT + MARGIN, reader.read(&mut answer)).await;
    trickle.abort();

    let read = read.expect("answered within the timeout plus margin").expect("read");
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(started.elapsed() >= REQUEST_TIMEOUT - Duration::from_millis(100), "not before the timeout");
    assert_eq!(snapshot(&app), before, "the cut-off order stored nothing");
    app.shutdown().await;
}

#[tokio::test]
async fn headers_trickling_in_slower_than_the_request_timeout_get_the_connection_closed() {
    let app = spawn_app_with_request_timeout(REQUEST_TIMEOUT).await;
    let stream = TcpStream::connect(app.address).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let started = Instant::now();

    // One header byte every 100 ms, never the blank line that ends the head: without a
    // header-read timeout the server would wait for it forever.
    let head = format!("GET /healthz HTTP/1.1\r\nHost: {}\r\nX-Slow: {}\r\n", app.address, "a".repeat(200));
    let trickle = tokio::spawn(async move {
        for byte in head.bytes() {
            if writer.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(REQUEST_TIMEOUT + MARGIN, reader.read_to_end(&mut answer)).await;
    trickle.abort();

    // Closed (EOF, or a reset while we were still writing), with nothing served.
    let closed = read.expect("the connection was closed within the timeout plus margin");
    assert!(closed.is_err() || !String::from_utf8_lossy(&answer).contains(" 200 "), "{answer:?}");
    assert!(started.elapsed() >= REQUEST_TIMEOUT - Duration::from_millis(100), "not before the timeout");
    app.shutdown().await;
}

#[tokio::test]
async fn a_slow_body_that_finishes_within_the_timeout_is_served() {
    let app = spawn_app_with_request_timeout(Duration::from_secs(5)).await;
    let mut stream = TcpStream::connect(app.address).await.expect("connect");
    let head = format!(
        "POST /orders/ HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        app.address,
        ORDER.len()
    );
    stream.write_all(head.as_bytes()).await.expect("head");

    for chunk in ORDER.as_bytes().chunks(8) {
        stream.write_all(chunk).await.expect("chunk");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let answer = read_answer(&mut stream).await;

    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert_eq!(app.stock(1, 1), 9);
    app.shutdown().await;
}

/// The small catalog served with a short request timeout.
async fn spawn_app_with_request_timeout(request_timeout: Duration) -> TestApp {
    let http = HttpOptions { request_timeout, ..HttpOptions::default() };
    TestApp::builder().fixture(small_catalog).http(http).spawn().await
}
