//! `POST /orders/<id>/cancel/`: the stock goes back in one transaction with the cancellation
//! event, a repeat changes nothing, rejected and unknown orders are refused, and every read
//! (search stock, inventory, the store's orders) shows the cancel in the very next request.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admin_support::spawn_admin_app;
use crate::helpers::{TestApp, json_with_status, small_catalog};

/// Workers off: the events stay in the queue for the test to read.
async fn spawn_app_without_workers() -> TestApp {
    TestApp::builder().configure(|config| config.jobs.job_workers = 0).fixture(small_catalog).spawn().await
}

async fn place(app: &TestApp, store_id: i64, lines: &[(i64, i64)], expected: StatusCode) -> Value {
    let items: Vec<Value> = lines
        .iter()
        .map(|(product, quantity)| json!({"product_id": product, "quantity_requested": quantity}))
        .collect();
    json_with_status(app.post_order(&json!({"store_id": store_id, "items": items})).await, expected).await
}

async fn cancel(app: &TestApp, order_id: &Value, expected: StatusCode) -> Value {
    let response = app.client.post(app.url(&format!("/orders/{order_id}/cancel/"))).send().await.expect("request");
    json_with_status(response, expected).await
}

/// Event kinds queued so far, oldest first.
fn events(app: &TestApp) -> Vec<String> {
    let db = app.db();
    let mut stmt = db.prepare("SELECT kind FROM jobs ORDER BY id").expect("sql");
    stmt.query_map([], |row| row.get(0)).expect("query").collect::<Result<_, _>>().expect("rows")
}

#[tokio::test]
async fn cancelling_a_confirmed_order_returns_its_stock_and_answers_the_cancelled_order() {
    let app = spawn_app_without_workers().await;
    let order = place(&app, 1, &[(1, 4), (2, 3)], StatusCode::CREATED).await;
    assert_eq!((app.stock(1, 1), app.stock(1, 2)), (6, 0));

    let cancelled = cancel(&app, &order["id"], StatusCode::OK).await;

    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["id"], order["id"]);
    assert_eq!(cancelled["items"], order["items"]);
    assert_eq!(cancelled["total_quantity"], 7);
    assert_eq!((app.stock(1, 1), app.stock(1, 2)), (10, 3));
    let stored = json_with_status(app.get(&format!("/orders/{}/", order["id"])).await, StatusCode::OK).await;
    assert_eq!(stored, cancelled);
    app.shutdown().await;
}

#[tokio::test]
async fn a_second_cancel_answers_the_same_body_and_changes_nothing() {
    let app = spawn_app_without_workers().await;
    let order = place(&app, 1, &[(1, 2)], StatusCode::CREATED).await;
    let first = cancel(&app, &order["id"], StatusCode::OK).await;
    let jobs_after_first = app.count("jobs");

    let second = cancel(&app, &order["id"], StatusCode::OK).await;

    assert_eq!(second, first);
    assert_eq!(app.stock(1, 1), 10, "the stock went back once");
    assert_eq!(app.count("jobs"), jobs_after_first, "no second cancellation event");
    app.shutdown().await;
}

#[tokio::test]
async fn cancelling_a_rejected_order_is_409_and_changes_nothing() {
    let app = spawn_app_without_workers().await;
    let rejected = place(&app, 1, &[(1, 1), (3, 1)], StatusCode::CONFLICT).await;

    let problem = cancel(&app, &rejected["id"], StatusCode::CONFLICT).await;

    assert!(problem["detail"].as_str().expect("detail").contains("REJECTED"), "{problem}");
    assert_eq!(app.stock(1, 1), 10);
    let stored = json_with_status(app.get(&format!("/orders/{}/", rejected["id"])).await, StatusCode::OK).await;
    assert_eq!(stored["status"], "REJECTED");
    assert_eq!(app.count("jobs"), 0);
    app.shutdown().await;
}

#[tokio::test]
async fn cancelling_an_unknown_order_is_404() {
    let app = spawn_app_without_workers().await;

    cancel(&app, &json!(999), StatusCode::NOT_FOUND).await;
    cancel(&app, &json!("abc"), StatusCode::NOT_FOUND).await;
    cancel(&app, &json!(0), StatusCode::NOT_FOUND).await;
    app.shutdown().await;
}

#[tokio::test]
async fn the_cancel_route_refuses_other_methods_with_405() {
    let app = spawn_app_without_workers().await;
    let response = app.get("/orders/1/cancel/").await;
    json_with_status(response, StatusCode::METHOD_NOT_ALLOWED).await;
    app.shutdown().await;
}

#[tokio::test]
async fn search_stock_and_the_inventory_listing_show_a_cancel_in_the_very_next_request() {
    let app = spawn_app_without_workers().await;
    // Store 1 holds 3 cutting boards (product 2); the order takes all of them.
    let order = place(&app, 1, &[(2, 3)], StatusCode::CREATED).await;
    let in_stock_ids = |page: &Value| -> Vec<i64> {
        page["results"].as_array().expect("results").iter().map(|hit| hit["id"].as_i64().expect("id")).collect()
    };
    let search = "/api/search/products/?store_id=1&in_stock=true&page_size=100";
    let before = json_with_status(app.get(search).await, StatusCode::OK).await;
    assert!(!in_stock_ids(&before).contains(&2));

    cancel(&app, &order["id"], StatusCode::OK).await;

    let after = json_with_status(app.get(search).await, StatusCode::OK).await;
    assert!(in_stock_ids(&after).contains(&2), "in_stock sees the returned boards");
    let hit = after["results"].as_array().expect("results").iter().find(|hit| hit["id"] == 2).expect("board").clone();
    assert_eq!(hit["quantity"], 3);
    let inventory = json_with_status(app.get("/stores/1/inventory/?q=board&in_stock=true").await, StatusCode::OK).await;
    assert_eq!(inventory["results"][0]["quantity"], 3);
    app.shutdown().await;
}

#[tokio::test]
async fn the_store_orders_listing_filters_cancelled_orders() {
    let app = spawn_app_without_workers().await;
    let kept = place(&app, 1, &[(1, 1)], StatusCode::CREATED).await;
    let cancelled = place(&app, 1, &[(4, 1)], StatusCode::CREATED).await;
    cancel(&app, &cancelled["id"], StatusCode::OK).await;

    let page = json_with_status(app.get("/stores/1/orders/?status=CANCELLED").await, StatusCode::OK).await;

    assert_eq!(page["count"], 1);
    assert_eq!(page["results"][0]["id"], cancelled["id"]);
    assert_eq!(page["results"][0]["status"], "CANCELLED");
    let confirmed = json_with_status(app.get("/stores/1/orders/?status=CONFIRMED").await, StatusCode::OK).await;
    assert_eq!(confirmed["results"][0]["id"], kept["id"]);
    assert_eq!(confirmed["count"], 1);
    app.shutdown().await;
}

#[tokio::test]
async fn a_cancel_queues_its_event_and_announces_stock_back_from_zero() {
    let app = spawn_app_without_workers().await;
    // Takes the last cutting boards (3 → 0) and some kettles (10 → 9).
    let order = place(&app, 1, &[(2, 3), (1, 1)], StatusCode::CREATED).await;
    assert_eq!(events(&app), ["inventory.out_of_stock", "order.confirmed"]);

    cancel(&app, &order["id"], StatusCode::OK).await;

    assert_eq!(
        events(&app),
        ["inventory.out_of_stock", "order.confirmed", "inventory.back_in_stock", "order.cancelled"],
        "back in stock for the boards only: the kettles never reached zero"
    );
    let payload: String = app
        .db()
        .query_row("SELECT payload FROM jobs WHERE kind = 'inventory.back_in_stock'", [], |row| row.get(0))
        .expect("event");
    let data: Value = serde_json::from_str(&payload).expect("JSON");
    assert_eq!(data, json!({"store_id": 1, "product_id": 2, "quantity": 3}));
    app.shutdown().await;
}

#[tokio::test]
async fn the_confirmation_object_of_a_confirmed_order_still_reads_its_job() {
    let app = spawn_app_without_workers().await;
    let order = place(&app, 1, &[(1, 1)], StatusCode::CREATED).await;

    let stored = json_with_status(app.get(&format!("/orders/{}/", order["id"])).await, StatusCode::OK).await;

    assert_eq!(stored["confirmation"], json!({"status": "queued", "attempts": 0, "sent_at": null}));
    app.shutdown().await;
}

#[tokio::test]
async fn the_admin_api_cancels_with_the_public_answer_and_needs_a_session() {
    let admin = spawn_admin_app().await;
    let order = place(&admin.app, 1, &[(1, 2)], StatusCode::CREATED).await;
    let path = format!("/api/admin/orders/{}/cancel/", order["id"]);
    let anonymous = admin.app.client.post(admin.app.url(&path)).send().await.expect("request");
    json_with_status(anonymous, StatusCode::UNAUTHORIZED).await;
    assert_eq!(admin.app.stock(1, 1), 8);

    let cancelled = admin.call(Method::POST, &path, None, StatusCode::OK).await;

    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(admin.app.stock(1, 1), 10);
    let listed = admin.call(Method::GET, "/api/admin/orders/?status=CANCELLED", None, StatusCode::OK).await;
    assert_eq!(listed["results"][0]["id"], order["id"]);
    admin.call(Method::POST, "/api/admin/orders/424242/cancel/", None, StatusCode::NOT_FOUND).await;
    let recorded: String = admin
        .app
        .db()
        .query_row("SELECT changes FROM admin_log WHERE object_type = 'order'", [], |row| row.get(0))
        .expect("one history entry");
    assert_eq!(recorded, r#"{"status":["CONFIRMED","CANCELLED"]}"#);
    admin.shutdown().await;
}
