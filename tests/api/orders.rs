//! `POST /orders/` and `GET /orders/<id>/`.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, json_with_status, small_catalog};

#[tokio::test]
async fn a_confirmed_order_deducts_exactly_what_it_asked_for() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let body = json!({"store_id": 1, "items": [
        {"product_id": 1, "quantity_requested": 4}, {"product_id": 2, "quantity_requested": 3}
    ]});

    let order = json_with_status(app.post_order(&body).await, StatusCode::CREATED).await;

    assert_eq!(order["status"], "CONFIRMED");
    assert_eq!(order["store_id"], 1);
    assert_eq!(order["total_quantity"], 7);
    assert_eq!(order["items"][0], json!({"product_id": 1, "title": "Steel Kettle", "quantity_requested": 4}));
    assert!(order.get("errors").is_none());
    assert_eq!(app.stock(1, 1), 6);
    assert_eq!(app.stock(1, 2), 0);
    assert_eq!(app.stock(2, 1), 7, "another store's stock is untouched");
    app.shutdown().await;
}

#[tokio::test]
async fn a_short_order_is_rejected_and_deducts_nothing() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let body = json!({"store_id": 1, "items": [
        {"product_id": 1, "quantity_requested": 2},
        {"product_id": 2, "quantity_requested": 4},
        {"product_id": 3, "quantity_requested": 1}
    ]});

    let order = json_with_status(app.post_order(&body).await, StatusCode::CONFLICT).await;

    assert_eq!(order["status"], "REJECTED");
    assert_eq!(
        order["errors"],
        json!([{"product_id": 2, "requested": 4, "available": 3}, {"product_id": 3, "requested": 1, "available": 0}])
    );
    assert_eq!((app.stock(1, 1), app.stock(1, 2), app.stock(1, 3)), (10, 3, 0));
    let stored = json_with_status(app.get(&format!("/orders/{}/", order["id"])).await, StatusCode::OK).await;
    assert_eq!(stored["status"], "REJECTED");
    assert_eq!(app.count("jobs"), 0, "a rejected order queues no confirmation");
    app.shutdown().await;
}

#[tokio::test]
async fn an_order_short_on_a_later_line_gives_back_what_the_earlier_lines_took() {
    // The writer takes each line as it goes and puts them back when a later one cannot be
    // filled; the first line here would empty product 2, which would queue an
    // `inventory.out_of_stock` event if the take stood.
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let short_last = json!({"store_id": 1, "items": [
        {"product_id": 2, "quantity_requested": 3}, {"product_id": 5, "quantity_requested": 2}
    ]});
    let unknown_last = json!({"store_id": 1, "items": [
        {"product_id": 2, "quantity_requested": 3}, {"product_id": 99, "quantity_requested": 1}
    ]});

    let order = json_with_status(app.post_order(&short_last).await, StatusCode::CONFLICT).await;
    let problem = json_with_status(app.post_order(&unknown_last).await, StatusCode::BAD_REQUEST).await;

    assert_eq!(order["errors"], json!([{"product_id": 5, "requested": 2, "available": 1}]));
    assert_eq!(order["items"][0], json!({"product_id": 2, "title": "bamboo Cutting Board", "quantity_requested": 3}));
    assert_eq!(problem["errors"][0]["field"], "items[1].product_id");
    assert_eq!((app.stock(1, 2), app.stock(1, 5)), (3, 1), "every line's stock as it was");
    assert_eq!(app.count("jobs"), 0, "no stock event, no confirmation");
    let in_stock = json_with_status(app.get("/stores/1/inventory/?in_stock=true").await, StatusCode::OK).await;
    let mut quantities: Vec<(i64, i64)> = in_stock["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|row| (row["product_id"].as_i64().expect("id"), row["quantity"].as_i64().expect("quantity")))
        .filter(|(product_id, _)| matches!(product_id, 2 | 5))
        .collect();
    quantities.sort_unstable();
    assert_eq!(quantities, [(2, 3), (5, 1)], "the stock view saw no change either");
    app.shutdown().await;
}

#[tokio::test]
async fn a_product_the_store_does_not_carry_has_zero_stock() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let body = json!({"store_id": 2, "items": [{"product_id": 4, "quantity_requested": 1}]});

    let order = json_with_status(app.post_order(&body).await, StatusCode::CONFLICT).await;

    assert_eq!(order["errors"], json!([{"product_id": 4, "requested": 1, "available": 0}]));
    app.shutdown().await;
}

#[tokio::test]
async fn a_confirmed_order_is_stored_whole_with_its_confirmation_job() {
    // No job workers: the job must still be there, queued, when we look.
    let app = TestApp::builder().configure(|config| config.jobs.job_workers = 0).fixture(small_catalog).spawn().await;
    let body = json!({"store_id": 1, "items": [{"product_id": 4, "quantity_requested": 2}, {"product_id": 5, "quantity_requested": 1}]});
    let created = json_with_status(app.post_order(&body).await, StatusCode::CREATED).await;

    let fetched = json_with_status(app.get(&format!("/orders/{}/", created["id"])).await, StatusCode::OK).await;

    assert_eq!(fetched["items"], created["items"]);
    assert_eq!(fetched["created_at"], created["created_at"]);
    assert_eq!(fetched["total_quantity"], 3);
    assert_eq!(fetched["confirmation"], json!({"status": "queued", "attempts": 0, "sent_at": null}));
    assert_eq!(app.count("order_items"), 2);
    let events: Vec<String> = app
        .db()
        .prepare("SELECT kind FROM jobs ORDER BY id")
        .and_then(|mut stmt| stmt.query_map([], |row| row.get(0))?.collect())
        .expect("jobs");
    assert_eq!(events, ["inventory.out_of_stock", "order.confirmed"], "the last mug sold: one crossing, one order");
    app.shutdown().await;
}

#[tokio::test]
async fn timestamps_are_rfc3339_utc_with_microseconds() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let body = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]});
    let order = json_with_status(app.post_order(&body).await, StatusCode::CREATED).await;

    let created_at = order["created_at"].as_str().expect("string");

    assert_eq!(created_at.len(), "2026-11-24T19:05:11.123456Z".len(), "{created_at}");
    assert!(created_at.ends_with('Z') && created_at.as_bytes()[10] == b'T', "{created_at}");
    app.shutdown().await;
}

#[tokio::test]
async fn an_unknown_order_is_404() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    for path in ["/orders/999/", "/orders/abc/", "/orders/0/"] {
        json_with_status(app.get(path).await, StatusCode::NOT_FOUND).await;
    }
    app.shutdown().await;
}

#[tokio::test]
async fn an_idempotent_retry_returns_the_first_response_and_stores_nothing_new() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let body = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 2}]});
    let first = json_with_status(app.post_order_with_key(&body, "retry-1").await, StatusCode::CREATED).await;

    let reordered = json!({"items": [{"quantity_requested": 2, "product_id": 1}], "store_id": 1});
    let second = json_with_status(app.post_order_with_key(&reordered, "retry-1").await, StatusCode::CREATED).await;

    assert_eq!(first, second);
    assert_eq!(app.count("orders"), 1);
    assert_eq!(app.stock(1, 1), 8);
    app.shutdown().await;
}

#[tokio::test]
async fn an_idempotency_key_reused_with_another_body_is_422() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let body = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 2}]});
    json_with_status(app.post_order_with_key(&body, "key-a").await, StatusCode::CREATED).await;

    let other = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 3}]});
    json_with_status(app.post_order_with_key(&other, "key-a").await, StatusCode::UNPROCESSABLE_ENTITY).await;

    assert_eq!(app.count("orders"), 1);
    assert_eq!(app.stock(1, 1), 8);
    app.shutdown().await;
}

#[tokio::test]
async fn a_rejected_order_is_replayed_for_its_key_too() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let body = json!({"store_id": 1, "items": [{"product_id": 3, "quantity_requested": 1}]});
    let first = json_with_status(app.post_order_with_key(&body, "k").await, StatusCode::CONFLICT).await;
    let second = json_with_status(app.post_order_with_key(&body, "k").await, StatusCode::CONFLICT).await;
    assert_eq!(first, second);
    assert_eq!(app.count("orders"), 1);
    app.shutdown().await;
}

#[tokio::test]
async fn a_replay_is_the_first_response_byte_for_byte() {
    // A keyed order is serialised on the writer (its key stores the text); an unkeyed one is
    // serialised after the commit. A replay must be the stored text itself, not a re-render.
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let body = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}, {"product_id": 2, "quantity_requested": 2}]});
    let first = app.post_order_with_key(&body, "bytes-1").await;
    let (first_status, first_type) = (first.status(), first.headers().get("content-type").cloned());
    let first_text = first.text().await.expect("body");

    let replay = app.post_order_with_key(&body, "bytes-1").await;

    assert_eq!((replay.status(), first_status), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(replay.headers().get("content-type"), first_type.as_ref());
    assert_eq!(replay.text().await.expect("body"), first_text);
    app.shutdown().await;
}

#[tokio::test]
async fn an_order_answers_the_same_body_with_or_without_a_key() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let body = json!({"store_id": 1, "items": [{"product_id": 2, "quantity_requested": 1}, {"product_id": 1, "quantity_requested": 3}]});
    let keyed = json_with_status(app.post_order_with_key(&body, "same-shape").await, StatusCode::CREATED).await;

    let unkeyed = json_with_status(app.post_order(&body).await, StatusCode::CREATED).await;

    let without_identity = |order: &serde_json::Value| {
        let mut order = order.clone();
        let object = order.as_object_mut().expect("an object");
        assert!(object.remove("id").is_some_and(|id| id.is_i64()) && object.remove("created_at").is_some());
        order
    };
    assert_eq!(without_identity(&keyed), without_identity(&unkeyed));
    assert_eq!(unkeyed["id"].as_i64(), keyed["id"].as_i64().map(|id| id + 1));
    let stored = json_with_status(app.get(&format!("/orders/{}/", unkeyed["id"])).await, StatusCode::OK).await;
    assert_eq!((&stored["items"], &stored["created_at"]), (&unkeyed["items"], &unkeyed["created_at"]));
    app.shutdown().await;
}

#[tokio::test]
async fn racing_orders_for_the_last_units_sell_exactly_the_stock() {
    // Store 1 has 10 kettles; 24 clients each want 1, all at once.
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let body = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]});
    let requests = (0..24).map(|_| {
        let (client, url, body) = (app.client.clone(), app.url("/orders/"), body.clone());
        tokio::spawn(async move { client.post(url).json(&body).send().await.expect("request").status() })
    });

    let mut confirmed = 0;
    let mut rejected = 0;
    for request in requests {
        match request.await.expect("task") {
            StatusCode::CREATED => confirmed += 1,
            StatusCode::CONFLICT => rejected += 1,
            other => panic!("unexpected status {other}"),
        }
    }

    assert_eq!((confirmed, rejected), (10, 14));
    assert_eq!(app.stock(1, 1), 0);
    let sold: i64 = app
        .db()
        .query_row(
            "SELECT SUM(oi.quantity_requested) FROM order_items oi JOIN orders o ON o.id = oi.order_id WHERE o.status = 'CONFIRMED'",
            [],
            |row| row.get(0),
        )
        .expect("sum");
    assert_eq!(sold, 10);
    app.shutdown().await;
}

#[tokio::test]
async fn racing_multi_line_orders_never_oversell_any_line() {
    // Each order takes 1 kettle and 1 headlamp from store 1 (10 and 5 in stock): 5 can win.
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let body = json!({"store_id": 1, "items": [
        {"product_id": 1, "quantity_requested": 1}, {"product_id": 4, "quantity_requested": 1}
    ]});
    let requests: Vec<_> = (0..16)
        .map(|_| {
            let (client, url, body) = (app.client.clone(), app.url("/orders/"), body.clone());
            tokio::spawn(async move { client.post(url).json(&body).send().await.expect("request").status() })
        })
        .collect();
    let mut confirmed = 0;
    for request in requests {
        if request.await.expect("task") == StatusCode::CREATED {
            confirmed += 1;
        }
    }
    assert_eq!(confirmed, 5);
    assert_eq!((app.stock(1, 1), app.stock(1, 4)), (5, 0));
    app.shutdown().await;
}
