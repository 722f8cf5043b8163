//! The hostile inputs the contract names, one behaviour each: huge numbers, negative ids,
//! unicode and NUL, deep nesting, 1 MB bodies, wrong content types, repeated query keys,
//! percent-encoded garbage.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{HostileRequest, send_and_check, snapshot};
use crate::helpers::{TestApp, json_with_status, small_catalog};

fn post_order(body: impl Into<Vec<u8>>, content_type: &str) -> HostileRequest {
    HostileRequest {
        method: Method::POST,
        path: "/orders/".to_owned(),
        query: String::new(),
        content_type: Some(content_type.to_owned()),
        body: body.into(),
    }
}

fn get(path: &str, query: &str) -> HostileRequest {
    HostileRequest {
        method: Method::GET,
        path: path.to_owned(),
        query: query.to_owned(),
        content_type: None,
        body: Vec::new(),
    }
}

async fn status_of(app: &TestApp, request: HostileRequest) -> StatusCode {
    send_and_check(app, &request).await
}

#[tokio::test]
async fn numbers_beyond_every_integer_type_are_400_not_500() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    for numeral in ["1e400", "18446744073709551616", "-9223372036854775809", "9223372036854775808", "1.5", "-0"] {
        for body in [
            format!(r#"{{"store_id": {numeral}, "items": [{{"product_id": 1, "quantity_requested": 1}}]}}"#),
            format!(r#"{{"store_id": 1, "items": [{{"product_id": {numeral}, "quantity_requested": 1}}]}}"#),
            format!(r#"{{"store_id": 1, "items": [{{"product_id": 1, "quantity_requested": {numeral}}}]}}"#),
        ] {
            assert_eq!(status_of(&app, post_order(body.clone(), "application/json")).await, 400, "{body}");
        }
    }
    for huge in ["99999999999999999999", "9223372036854775807", "4294967296"] {
        assert_eq!(status_of(&app, get("/stores/1/orders/", &format!("?page={huge}"))).await, 400, "page={huge}");
    }
    // Prices are stored in i64 cents: these overflow it.
    for huge in ["99999999999999999999", "9223372036854775807", "92233720368547758.08"] {
        let query = format!("?min_price={huge}");
        assert_eq!(status_of(&app, get("/api/search/products/", &query)).await, 400, "{query}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn negative_zero_and_overflowing_ids_in_paths_are_404() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    for id in ["-1", "0", "-9223372036854775808", "99999999999999999999", "1.0", "%00", "%F0%9F%92%A5"] {
        for path in [format!("/orders/{id}/"), format!("/stores/{id}/orders/"), format!("/stores/{id}/inventory/")] {
            assert_eq!(status_of(&app, get(&path, "")).await, 404, "{path}");
        }
    }
    app.shutdown().await;
}

#[tokio::test]
async fn ids_that_are_not_utf8_are_rejected_as_problems() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    for path in ["/orders/%FF%FE/", "/stores/%C3/orders/", "/stores/%80/inventory/"] {
        assert!(status_of(&app, get(path, "")).await.is_client_error(), "{path}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn unicode_and_nul_in_bodies_and_queries_are_answered_within_the_contract() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let body =
        json!({"store_id": "\u{0}", "items": [{"product_id": "💥", "quantity_requested": "\u{202e}1"}], "\u{0}": "é"});
    assert_eq!(status_of(&app, post_order(body.to_string(), "application/json")).await, 400);
    let lone_surrogate = r#"{"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}], "x": "\ud800"}"#;
    assert_eq!(status_of(&app, post_order(lone_surrogate, "application/json")).await, 400);
    for path in ["/api/search/products/", "/api/search/suggest/", "/stores/1/inventory/", "/stores/1/orders/"] {
        for query in ["?q=%00%00%00", "?q=%E2%80%AEkettle", "?q=%F0%9F%92%A5%F0%9F%92%A5%F0%9F%92%A5", "?category=%00"]
        {
            status_of(&app, get(path, query)).await;
        }
    }
    app.shutdown().await;
}

/// Regression: the title filter used LIKE, which stops reading its pattern at a NUL, so
/// `q=%00` matched every product. A control character in a query word is now refused outright
/// (contract, Conventions), so it can match nothing.
#[tokio::test]
async fn a_nul_in_the_inventory_title_filter_is_400() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;

    let page = json_with_status(app.get("/stores/1/inventory/?q=%00").await, StatusCode::BAD_REQUEST).await;
    let kettle = json_with_status(app.get("/stores/1/inventory/?q=kett%00le").await, StatusCode::BAD_REQUEST).await;

    assert_eq!(page["errors"][0]["field"], "q", "{page}");
    assert_eq!(kettle["errors"][0]["field"], "q", "{kettle}");
    app.shutdown().await;
}

#[tokio::test]
async fn json_nested_ten_thousand_levels_deep_is_400() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let arrays = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000));
    let items = format!(r#"{{"store_id": 1, "items": {}{}}}"#, "[".repeat(10_000), "]".repeat(10_000));
    for body in [arrays, objects, items] {
        assert_eq!(status_of(&app, post_order(body, "application/json")).await, 400);
    }
    app.shutdown().await;
}

#[tokio::test]
async fn a_one_megabyte_body_is_413_whether_its_length_is_declared_or_chunked() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let line = r#"{"product_id": 1, "quantity_requested": 1},"#;
    let big = format!(
        r#"{{"store_id": 1, "items": [{}{}]}}"#,
        line.repeat((1 << 20) / line.len()),
        line.trim_end_matches(',')
    );
    assert!(big.len() >= 1 << 20);
    let before = snapshot(&app);

    assert_eq!(status_of(&app, post_order(big.clone(), "application/json")).await, 413);
    let chunked =
        super::slow::raw_request(app.address, "POST", "Transfer-Encoding: chunked", &chunked_body(&big)).await;
    assert!(chunked.starts_with("HTTP/1.1 413"), "{chunked}");
    assert!(chunked.contains("application/problem+json"), "{chunked}");
    assert_eq!(snapshot(&app), before);
    app.shutdown().await;
}

/// `body` in HTTP/1.1 chunked encoding, 8 KiB a chunk.
fn chunked_body(body: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in body.as_bytes().chunks(8192) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

#[tokio::test]
async fn a_body_that_is_not_json_by_content_type_is_415() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let order = r#"{"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]}"#;
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""] {
        assert_eq!(status_of(&app, post_order(order, content_type)).await, 415, "{content_type:?}");
    }
    let mut missing = post_order(order, "");
    missing.content_type = None;
    assert_eq!(status_of(&app, missing).await, 415);
    app.shutdown().await;
}

#[tokio::test]
async fn a_repeated_query_key_uses_its_first_value() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;

    let page = json_with_status(app.get("/stores/1/inventory/?page_size=2&page_size=abc").await, StatusCode::OK).await;
    let bad_first = app.get("/stores/1/inventory/?page_size=abc&page_size=2").await;

    assert_eq!(page["results"].as_array().map(Vec::len), Some(2));
    json_with_status(bad_first, StatusCode::BAD_REQUEST).await;
    app.shutdown().await;
}

#[tokio::test]
async fn percent_encoded_garbage_in_query_strings_is_answered_within_the_contract() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let garbage = ["?%", "?%zz=%zz", "?q=%FF%FE", "?page=%FF", "?%00=%00", "?q=%E2%82", "?sort=%2Dprice", "?=&=&&"];
    for path in ["/api/search/products/", "/api/search/suggest/", "/stores/1/inventory/", "/stores/1/orders/"] {
        for query in garbage {
            status_of(&app, get(path, query)).await;
        }
    }
    assert_eq!(status_of(&app, get("/stores/1/orders/", "?page=%FF")).await, 400);
    app.shutdown().await;
}

/// Without a token the admin API answers 401 (or 404/405 for what it does not serve), never
/// data; paths that merely look interesting are not served at all.
#[tokio::test]
async fn admin_and_private_looking_paths_give_nothing_away() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let cases: [(&[&str], &[u16]); 2] = [
        (&["/api/admin/", "/api/admin/products/", "/api/admin/orders/", "/api/admin/stores/1/"], &[401, 404, 405]),
        (&["/api/users/", "/stores/1/", "/.env"], &[404, 405]),
    ];
    for (paths, allowed) in cases {
        for path in paths {
            for method in [Method::GET, Method::POST, Method::DELETE] {
                let request = HostileRequest { method, ..get(path, "") };
                let status = status_of(&app, request).await;
                assert!(allowed.contains(&status.as_u16()), "{path}: {status}");
            }
        }
    }
    app.shutdown().await;
}

/// `..` in a path, sent as raw bytes on a socket: HTTP clients (reqwest included) normalise
/// `/../aforro.db` to `/aforro.db` before sending, so a test through them never sends `..` at
/// all. Whatever the server does with the dots, it serves no file: a problem+json 4xx (or the
/// trailing-slash redirect), never the database.
#[tokio::test]
async fn paths_with_dot_dot_sent_raw_reach_no_file() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let paths = [
        "/../aforro.db",
        "/../../data/aforro.db",
        "/admin/../../aforro.db",
        "/docs/../../../etc/passwd",
        "/api/search/../../aforro.db",
        "/%2e%2e/aforro.db",
        "/..%2f..%2faforro.db",
        "/stores/1/../../aforro.db",
    ];
    for path in paths {
        let mut stream = tokio::net::TcpStream::connect(app.address).await.expect("connect");
        let head = format!("GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", app.address);
        stream.write_all(head.as_bytes()).await.expect("send the raw request");
        let mut answer = Vec::new();
        tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_end(&mut answer))
            .await
            .expect("an answer in time")
            .expect("read");
        let answer = String::from_utf8_lossy(&answer);
        let status: u16 = answer.split(' ').nth(1).and_then(|code| code.parse().ok()).expect("a status line");
        assert!([308, 400, 404].contains(&status), "{path}: {answer}");
        assert!(!answer.contains("SQLite format 3") && !answer.contains("root:"), "{path} served a file");
        if status != 308 {
            assert!(answer.to_ascii_lowercase().contains("content-type: application/problem+json"), "{path}: {answer}");
        }
    }
    app.shutdown().await;
}
