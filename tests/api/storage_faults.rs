//! A full data volume, emulated with SQLite's `max_page_count` on the writer's connection (the
//! database may not grow past the size it has): orders are 503 with `Retry-After` and a detail
//! an operator can act on, never 500; `/readyz` turns 503; nothing is half-written; once space
//! is "freed" readiness and orders come back by themselves.

use std::time::Duration;

use reqwest::StatusCode;
use rusqlite::Connection;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_with_status};

const STOCK: i64 = 1_000_000;
/// Orders to try before giving up on filling the database (a few hundred fill it).
const MAX_ORDERS: usize = 5_000;
/// 503s in a row that show the database is full.
const REFUSALS_IN_A_ROW: usize = 10;

fn stocked_catalog(conn: &Connection) {
    conn.execute_batch(&format!(
        "INSERT INTO categories (id, name) VALUES (1, 'Kitchen');
         INSERT INTO products (id, title, price_cents, category_id, created_at) VALUES (1, 'Steel Kettle', 2500, 1, 1);
         INSERT INTO stores (id, name) VALUES (1, 'Lisbon');
         INSERT INTO inventory (store_id, product_id, quantity) VALUES (1, 1, {STOCK});"
    ))
    .expect("catalog");
}

fn order() -> Value {
    json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 2}]})
}

/// Caps (or lifts) the database's size in pages on the writer's connection, between batches.
async fn set_max_pages(app: &TestApp, pages: Option<i64>) -> i64 {
    app.state.writer.limit_database_pages(pages).await.expect("max_page_count")
}

async fn ready_status(app: &TestApp) -> (StatusCode, Value) {
    let response = app.get("/readyz").await;
    (response.status(), response.json().await.expect("JSON body"))
}

#[tokio::test]
async fn a_full_volume_is_503_with_readiness_red_writes_nothing_partial_and_recovers_by_itself() {
    let app = TestApp::builder().fixture(stocked_catalog).spawn().await;
    assert_eq!(ready_status(&app).await.0, StatusCode::OK);
    set_max_pages(&app, None).await;

    // Act: order until the database cannot grow: several refusals in a row (before that, a
    // batch that needed a page may fail while the next, smaller one still fits).
    let mut confirmed = 0_i64;
    let mut refused_in_a_row = 0;
    let mut first_refusal = None;
    for _ in 0..MAX_ORDERS {
        let response = app.post_order(&order()).await;
        match response.status() {
            StatusCode::CREATED => {
                confirmed += 1;
                refused_in_a_row = 0;
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                refused_in_a_row += 1;
                first_refusal.get_or_insert(response);
                if refused_in_a_row == REFUSALS_IN_A_ROW {
                    break;
                }
            }
            status => {
                panic!("an order on a filling volume was {status}: {}", response.text().await.unwrap_or_default())
            }
        }
    }
    assert_eq!(refused_in_a_row, REFUSALS_IN_A_ROW, "the capped database never filled up");

    // Assert: a 503 that says what to do, with Retry-After.
    let refusal = first_refusal.expect("a refusal");
    let retry_after = refusal.headers().get("retry-after").map(|value| value.to_str().expect("ascii").to_owned());
    let body = json_with_status(refusal, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(body["detail"].as_str().expect("detail").starts_with("the data volume is full"), "{body}");
    assert!(retry_after.expect("Retry-After").parse::<u64>().expect("seconds") > 0);
    let (status, readiness) = ready_status(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{readiness}");
    assert!(readiness["detail"].as_str().expect("detail").contains("full"), "{readiness}");
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(metrics.lines().any(|line| line.starts_with("aforro_storage_failed_commits_total{cause=\"full\"}")));

    // Assert: every acknowledged order is whole, nothing refused left a trace.
    assert_eq!(app.count("orders"), confirmed);
    assert_eq!(app.count("order_items"), confirmed);
    assert_eq!(app.stock(1, 1), STOCK - 2 * confirmed);
    let integrity: String = app.db().query_row("PRAGMA integrity_check", [], |row| row.get(0)).expect("check");
    assert_eq!(integrity, "ok");

    // Act: space comes back; readiness recovers through its probe, with no order sent.
    set_max_pages(&app, Some(1_000_000_000)).await;
    let mut recovered = false;
    for _ in 0..100 {
        if ready_status(&app).await.0 == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(recovered, "/readyz stayed 503 after space was freed");
    json_with_status(app.post_order(&order()).await, StatusCode::CREATED).await;
    assert_eq!(app.stock(1, 1), STOCK - 2 * (confirmed + 1));
    app.shutdown().await;
}
