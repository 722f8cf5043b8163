//! Bulk stock updates (contract, "Stock movements, thresholds and bulk updates"): both error
//! policies, rows in order in one transaction, one `bulk` movement per changed row, stock
//! events for every crossing, search and listings current in the next request, and the
//! request's own statuses (400, 401, 413, 415).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admin_support::{AdminApp, spawn_admin_app};
use crate::helpers::json_with_status;

const BULK: &str = "/api/admin/stock/bulk/";

fn set(store: i64, product: i64, quantity: i64) -> Value {
    json!({"store_id": store, "product_id": product, "quantity": quantity})
}

fn delta(store: i64, product: i64, delta: i64) -> Value {
    json!({"store_id": store, "product_id": product, "delta": delta})
}

/// (store, product, delta, quantity_after, reason, actor) of every movement, oldest first.
fn movements(admin: &AdminApp) -> Vec<(i64, i64, i64, i64, String, Option<String>)> {
    let db = admin.app.db();
    let mut stmt = db
        .prepare("SELECT store_id, product_id, delta, quantity_after, reason, actor FROM stock_movements ORDER BY id")
        .expect("sql");
    stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?)))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_owned())
        .collect()
}

#[tokio::test]
async fn rows_apply_in_order_with_one_bulk_movement_per_change() {
    let admin = spawn_admin_app().await;
    // Store 1 holds 10 of product 1; store 2 has no row for product 2.
    let rows = json!([set(1, 1, 4), delta(1, 1, 3), delta(1, 1, 3), set(1, 2, 3), delta(2, 2, 2), set(1, 3, 0)]);

    let outcome = admin.call(Method::POST, BULK, Some(json!({"rows": rows})), StatusCode::OK).await;

    assert_eq!(outcome, json!({"applied": 6, "failed": []}));
    assert_eq!((admin.app.stock(1, 1), admin.app.stock(2, 2)), (10, 2), "a repeated pair applies twice");
    let boss = Some("admin:boss".to_owned());
    let bulk = |store, product, delta, after| (store, product, delta, after, "bulk".to_owned(), boss.clone());
    assert_eq!(
        movements(&admin),
        vec![bulk(1, 1, -6, 4), bulk(1, 1, 3, 7), bulk(1, 1, 3, 10), bulk(2, 2, 2, 2)],
        "none for the rows that changed nothing (1/2 stays 3, 1/3 stays 0)"
    );
    let listing = json_with_status(admin.app.get("/stores/2/inventory/").await, StatusCode::OK).await;
    let ids: Vec<i64> =
        listing["results"].as_array().expect("rows").iter().map(|r| r["product_id"].as_i64().expect("id")).collect();
    assert!(ids.contains(&2), "the new row is listed in the next request: {ids:?}");
    assert!(admin.search_ids("store_id=2&in_stock=true").await.contains(&2), "and searchable");
    admin.shutdown().await;
}

#[tokio::test]
async fn reject_everything_names_every_failed_row_and_applies_nothing() {
    let admin = spawn_admin_app().await;
    let rows = json!([
        set(1, 1, 2),
        set(9, 1, 2),
        delta(1, 99, 1),
        delta(1, 2, -4),
        set(1, 4, 1_000_000_001),
        {"store_id": 1, "product_id": 1},
        delta(1, 1, 1_000_000_000),
    ]);

    let problem = admin
        .call(
            Method::POST,
            BULK,
            Some(json!({"error_policy": "reject_everything", "rows": rows})),
            StatusCode::BAD_REQUEST,
        )
        .await;

    assert_eq!(
        fields(&problem),
        [
            "rows[1].store_id",
            "rows[2].product_id",
            "rows[3].delta",
            "rows[4].quantity",
            "rows[5].quantity",
            "rows[6].delta"
        ]
    );
    assert_eq!(admin.app.stock(1, 1), 10, "the good first row was undone");
    assert!(movements(&admin).is_empty());
    admin.shutdown().await;
}

#[tokio::test]
async fn reject_failed_rows_applies_the_good_rows_and_reports_the_others_by_index() {
    let admin = spawn_admin_app().await;
    let rows = json!([delta(1, 2, -4), set(1, 2, 1), set(9, 9, 1), delta(1, 2, -1)]);

    let outcome = admin
        .call(Method::POST, BULK, Some(json!({"error_policy": "reject_failed_rows", "rows": rows})), StatusCode::OK)
        .await;

    assert_eq!(outcome["applied"], 2);
    let failed: Vec<(i64, Vec<String>)> = outcome["failed"]
        .as_array()
        .expect("failed")
        .iter()
        .map(|row| (row["index"].as_i64().expect("index"), fields(row)))
        .collect();
    assert_eq!(
        failed,
        vec![
            (0, vec!["rows[0].delta".to_owned()]),
            (2, vec!["rows[2].store_id".to_owned(), "rows[2].product_id".to_owned()])
        ]
    );
    assert_eq!(admin.app.stock(1, 2), 0, "3 → 1 → 0");
    admin.shutdown().await;
}

#[tokio::test]
async fn every_crossing_queues_its_stock_event() {
    let admin = spawn_admin_app().await;
    // Store 1: product 1 holds 10 (falls to 3: low stock), product 3 holds 0 (back in stock),
    // product 5 holds 1 (out of stock, already low).
    let rows = json!([set(1, 1, 3), delta(1, 3, 7), set(1, 5, 0)]);
    admin.call(Method::POST, BULK, Some(json!({"rows": rows})), StatusCode::OK).await;

    let db = admin.app.db();
    let mut stmt = db.prepare("SELECT kind, payload FROM jobs WHERE kind LIKE 'inventory.%' ORDER BY id").expect("sql");
    let events: Vec<(String, Value)> = stmt
        .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))
        .expect("query")
        .map(|row| row.map(|(kind, payload)| (kind, serde_json::from_str(&payload).expect("JSON"))))
        .collect::<rusqlite::Result<_>>()
        .expect("rows");
    assert_eq!(
        events,
        vec![
            ("inventory.low_stock".to_owned(), json!({"store_id": 1, "product_id": 1, "quantity": 3, "threshold": 5})),
            ("inventory.back_in_stock".to_owned(), json!({"store_id": 1, "product_id": 3, "quantity": 7})),
            ("inventory.out_of_stock".to_owned(), json!({"store_id": 1, "product_id": 5, "quantity": 0})),
        ]
    );
    admin.shutdown().await;
}

#[tokio::test]
async fn the_request_itself_is_checked_first() {
    let admin = spawn_admin_app().await;
    let one = json!([set(1, 1, 1)]);
    for (body, field) in [
        (json!({"rows": []}), "rows"),
        (json!({"rows": "all"}), "rows"),
        (json!({}), "rows"),
        (json!({"error_policy": "some", "rows": one}), "error_policy"),
        (json!([1, 2]), "body"),
    ] {
        let problem = admin.call(Method::POST, BULK, Some(body.clone()), StatusCode::BAD_REQUEST).await;
        assert_eq!(fields(&problem), [field], "{body}");
    }
    let too_many: Vec<Value> = (0..10_001).map(|_| delta(1, 1, 1)).collect();
    let problem = admin.call(Method::POST, BULK, Some(json!({"rows": too_many})), StatusCode::BAD_REQUEST).await;
    assert_eq!(fields(&problem), ["rows"]);
    assert_eq!(admin.app.stock(1, 1), 10);

    let not_json = admin.request(Method::POST, BULK).body("rows").send().await.expect("request");
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let broken = admin.request(Method::POST, BULK).header("content-type", "application/json").body("{").send().await;
    assert_eq!(broken.expect("request").status(), StatusCode::BAD_REQUEST);
    let anonymous = admin.app.client.post(admin.app.url(BULK)).json(&json!({"rows": one})).send().await;
    assert_eq!(anonymous.expect("request").status(), StatusCode::UNAUTHORIZED);
    admin.shutdown().await;
}

#[tokio::test]
async fn the_bulk_route_takes_two_mib_and_no_more() {
    let admin = spawn_admin_app().await;
    // 10,000 rows of about 60 bytes: well over the usual 64 KiB, under 2 MiB.
    let rows: Vec<Value> = (0..10_000).map(|i| delta(1, 1 + i % 5, 1)).collect();
    let outcome = admin.call(Method::POST, BULK, Some(json!({"rows": rows})), StatusCode::OK).await;
    assert_eq!(outcome["applied"], 10_000);
    assert_eq!(admin.app.stock(1, 1), 10 + 2_000);

    let padding = " ".repeat(2 * 1024 * 1024);
    let over = format!("{{\"rows\": [{{\"store_id\": 1, \"product_id\": 1, \"delta\": 1}}]{padding}}}");
    let response = admin.request(Method::POST, BULK).header("content-type", "application/json").body(over).send().await;
    let response = response.expect("request");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let other = admin
        .request(Method::POST, "/api/admin/categories/")
        .header("content-type", "application/json")
        .body(format!("{{\"name\": \"x\"{}}}", " ".repeat(70 * 1024)))
        .send()
        .await
        .expect("request");
    assert_eq!(other.status(), StatusCode::PAYLOAD_TOO_LARGE, "other routes keep 64 KiB");
    admin.shutdown().await;
}
