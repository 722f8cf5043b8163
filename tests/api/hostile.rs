//! Hostile input: generated requests to every route (paths, methods, query strings, bodies,
//! content types) never get a 5xx, every 4xx is problem+json, and a rejected request changes
//! nothing. `cases` holds the named hostile inputs the contract calls out, `slow` the slow
//! clients a request timeout must cut off.

mod cases;
mod limits;
mod slow;

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, small_catalog};

/// Everything a rejected request must leave as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot {
    orders: i64,
    order_items: i64,
    jobs: i64,
    idempotency_keys: i64,
    total_stock: i64,
    catalog_version: i64,
}

pub(crate) fn snapshot(app: &TestApp) -> Snapshot {
    let db = app.db();
    let one = |sql: &str| db.query_row(sql, [], |row| row.get::<_, i64>(0)).expect(sql);
    Snapshot {
        orders: app.count("orders"),
        order_items: app.count("order_items"),
        jobs: app.count("jobs"),
        idempotency_keys: app.count("idempotency_keys"),
        total_stock: one("SELECT COALESCE(SUM(quantity), 0) FROM inventory"),
        catalog_version: one("SELECT version FROM catalog_version"),
    }
}

/// Asserts the error contract on any response and returns its status: never a 5xx; every 4xx
/// is problem+json whose `status` matches (except the order body of a 409 from `POST /orders/`);
/// every body that is not a redirect or a HEAD answer is JSON.
pub(crate) async fn assert_contract(response: reqwest::Response, method: &Method, what: &str) -> StatusCode {
    let status = response.status();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let bytes = response.bytes().await.expect("body");
    let text = String::from_utf8_lossy(&bytes);
    assert!(!status.is_server_error(), "{what}: {status} {text}");
    let order_conflict = status == StatusCode::CONFLICT && content_type == "application/json";
    if status.is_client_error() && !order_conflict {
        assert_eq!(content_type, "application/problem+json", "{what}: {status} {text}");
    }
    if *method == Method::HEAD || status.is_redirection() {
        return status;
    }
    let body: Value = serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("{what}: not JSON: {status} {text}"));
    if status.is_client_error() && !order_conflict {
        assert_eq!(body["status"], json!(status.as_u16()), "{what}: {text}");
    }
    if order_conflict {
        assert_eq!(body["status"], "REJECTED", "{what}: a 409 is a rejected order: {text}");
    }
    status
}

/// Sends one request and checks the contract and, when it was rejected, that nothing changed.
pub(crate) async fn send_and_check(app: &TestApp, request: &HostileRequest) -> StatusCode {
    let before = snapshot(app);
    let url = format!("{}{}", app.url(&request.path), request.query);
    let mut builder = app.client.request(request.method.clone(), &url);
    if let Some(content_type) = &request.content_type {
        builder = builder.header("content-type", content_type.as_str());
    }
    let what = format!("{} {url} ({:?})", request.method, request.content_type);
    let response = builder.body(request.body.clone()).send().await.expect("request");
    let status = assert_contract(response, &request.method, &what).await;
    let placed = status == StatusCode::CREATED || status == StatusCode::CONFLICT;
    if !(request.method == Method::POST && placed) {
        assert_eq!(snapshot(app), before, "{what} answered {status} and must change nothing");
    }
    status
}

/// One generated request.
#[derive(Debug, Clone)]
pub(crate) struct HostileRequest {
    pub method: Method,
    pub path: String,
    /// Empty, or `?` and the raw query string.
    pub query: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// Strings that have broken parsers before: edges of integer types, floats, NUL, unicode,
/// percent signs, the contract's own keywords.
const NASTY: &[&str] = &[
    "",
    "0",
    "-0",
    "-1",
    "1",
    "01",
    "+1",
    "1.0",
    "1e3",
    "1e400",
    "NaN",
    "Infinity",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "18446744073709551616",
    "99999999999999999999999999",
    "\0",
    "a\0b",
    "é",
    "💥",
    "\u{202e}evil",
    "\u{feff}",
    "%",
    "%zz",
    "%00",
    "true",
    "FALSE",
    "CONFIRMED",
    "-price",
    "relevance",
    "kettle",
    "   ",
    "null",
    "[]",
    "{}",
    "'; DROP TABLE orders; --",
];

pub(crate) fn nasty_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(NASTY).prop_map(str::to_owned),
        2 => proptest::string::string_regex("(?s).{0,16}").expect("regex"),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(|n| n.to_string()),
    ]
}

fn any_id() -> impl Strategy<Value = String> {
    let odd = ["0", "-1", "00001", "1.0", "1e3", "%00", "%FF%FE", "%F0%9F%92%A5", "abc", "%20", "99999999999999999999"];
    prop_oneof![
        (1i64..=6).prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        proptest::sample::select(odd.to_vec()).prop_map(str::to_owned),
    ]
}

fn any_path() -> impl Strategy<Value = String> {
    let fixed = ["/orders/", "/api/search/products/", "/api/search/suggest/", "/healthz", "/readyz", "/", "/api/"];
    prop_oneof![
        any_id().prop_map(|id| format!("/orders/{id}/")),
        any_id().prop_map(|id| format!("/stores/{id}/orders/")),
        any_id().prop_map(|id| format!("/stores/{id}/inventory/")),
        any_id().prop_map(|id| format!("/stores/{id}/inventory")),
        proptest::sample::select(fixed.to_vec()).prop_map(str::to_owned),
        "[a-z%0-9]{1,12}".prop_map(|segment| format!("/{segment}/")),
    ]
}

/// Up to five parameters, known names or not, encoded properly or raw (percent garbage,
/// repeated keys and stray separators included).
pub(crate) fn any_query() -> impl Strategy<Value = String> {
    let names =
        ["page", "page_size", "q", "status", "in_stock", "store_id", "category", "min_price", "max_price", "sort"];
    let raw = ["%", "%zz", "%FF%FE=%C3", "q=%00", "=&=", "&&&", "page=1&page=x", "q=%E2%82", "%%%%=%%"];
    let pair = prop_oneof![
        4 => (prop_oneof![proptest::sample::select(names.to_vec()).prop_map(str::to_owned), nasty_string()], nasty_string())
            .prop_map(|(name, value)| serde_urlencoded::to_string([(name, value)]).expect("encodable")),
        1 => proptest::sample::select(raw.to_vec()).prop_map(str::to_owned),
    ];
    proptest::collection::vec(pair, 0..5)
        .prop_map(|pairs| if pairs.is_empty() { String::new() } else { format!("?{}", pairs.join("&")) })
}

pub(crate) fn any_content_type() -> impl Strategy<Value = Option<String>> {
    let types = [
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/merge-patch+json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
    ];
    proptest::option::of(proptest::sample::select(types.to_vec()).prop_map(str::to_owned))
}

fn any_method() -> impl Strategy<Value = Method> {
    prop_oneof![
        6 => Just(Method::GET),
        2 => Just(Method::POST),
        1 => proptest::sample::select(vec![Method::PUT, Method::DELETE, Method::PATCH, Method::HEAD, Method::OPTIONS]),
    ]
}

fn any_request() -> impl Strategy<Value = HostileRequest> {
    let body = proptest::collection::vec(any::<u8>(), 0..64);
    (any_method(), any_path(), any_query(), any_content_type(), body).prop_map(
        |(method, path, query, content_type, body)| HostileRequest { method, path, query, content_type, body },
    )
}

/// Runs `cases` generated requests against one app seeded with the small catalog.
pub(crate) fn run_cases(cases: u32, strategy: impl Strategy<Value = HostileRequest>) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let app = runtime.block_on(TestApp::builder().fixture(small_catalog).spawn());
    let mut runner = TestRunner::new(ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() });
    let outcome = runner.run(&strategy, |request| {
        runtime.block_on(send_and_check(&app, &request));
        Ok(())
    });
    runtime.block_on(app.shutdown());
    outcome.expect("every generated request is answered within the contract");
}

#[test]
fn any_method_path_and_query_is_answered_without_5xx_and_rejections_change_nothing() {
    run_cases(400, any_request());
}

#[test]
fn any_order_body_is_answered_without_5xx_and_rejections_change_nothing() {
    let order = (order_body(), any_content_type()).prop_map(|(body, content_type)| HostileRequest {
        method: Method::POST,
        path: "/orders/".to_owned(),
        query: String::new(),
        content_type,
        body,
    });
    run_cases(400, order);
}

/// Bodies shaped like an order with hostile values, raw numerals JSON cannot hold in a
/// `Value` (`1e400`, `18446744073709551616`), and arbitrary JSON.
fn order_body() -> impl Strategy<Value = Vec<u8>> {
    let numeral =
        ["1", "2", "-0", "0", "1e400", "1.0", "18446744073709551616", "-9223372036854775809", "\"1\"", "null"];
    let value = || {
        prop_oneof![
            3 => (1i64..=6).prop_map(|n| n.to_string()),
            2 => proptest::sample::select(numeral.to_vec()).prop_map(str::to_owned),
            1 => any::<i64>().prop_map(|n| n.to_string()),
            1 => nasty_string().prop_map(|s| Value::String(s).to_string()),
        ]
    };
    let line = (value(), value()).prop_map(|(p, q)| format!(r#"{{"product_id": {p}, "quantity_requested": {q}}}"#));
    let shaped = (value(), proptest::collection::vec(line, 0..4))
        .prop_map(|(store, lines)| format!(r#"{{"store_id": {store}, "items": [{}]}}"#, lines.join(",")).into_bytes());
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        nasty_string().prop_map(Value::String),
    ];
    let arbitrary = leaf
        .prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(nasty_string(), inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
        .prop_map(|value| value.to_string().into_bytes());
    prop_oneof![4 => shaped, 2 => arbitrary, 1 => proptest::collection::vec(any::<u8>(), 0..64)]
}
