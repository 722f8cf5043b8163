//! The contract's error cases: every one is problem+json with the right status, never a 500.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_with_status, small_catalog, spawn_app};

async fn rejected_fields(app: &crate::helpers::TestApp, body: Value) -> Vec<String> {
    let problem = json_with_status(app.post_order(&body).await, StatusCode::BAD_REQUEST).await;
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_owned())
        .collect()
}

#[tokio::test]
async fn every_order_validation_case_is_400_naming_the_field_and_stores_nothing() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let line = |product: Value, quantity: Value| json!({"product_id": product, "quantity_requested": quantity});
    let cases = [
        (json!({"items": [line(json!(1), json!(1))]}), "store_id"),
        (json!({"store_id": "1", "items": [line(json!(1), json!(1))]}), "store_id"),
        (json!({"store_id": 1.5, "items": [line(json!(1), json!(1))]}), "store_id"),
        (json!({"store_id": 1}), "items"),
        (json!({"store_id": 1, "items": []}), "items"),
        (json!({"store_id": 1, "items": "lots"}), "items"),
        (json!({"store_id": 1, "items": [{"quantity_requested": 1}]}), "items[0].product_id"),
        (json!({"store_id": 1, "items": [line(json!(1), json!(0))]}), "items[0].quantity_requested"),
        (json!({"store_id": 1, "items": [line(json!(1), json!(-2))]}), "items[0].quantity_requested"),
        (json!({"store_id": 1, "items": [line(json!(1), json!(1_000_001))]}), "items[0].quantity_requested"),
        (json!({"store_id": 1, "items": [line(json!(1), json!("2"))]}), "items[0].quantity_requested"),
        (json!({"store_id": 1, "items": [line(json!(1), json!(1)), line(json!(1), json!(2))]}), "items[1].product_id"),
        (
            json!({"store_id": 1, "items": [line(json!(1), json!(1)), line(json!(999), json!(1))]}),
            "items[1].product_id",
        ),
    ];
    for (body, field) in cases {
        assert_eq!(rejected_fields(&app, body.clone()).await, [field], "{body}");
    }
    let too_many: Vec<Value> = (1..=101).map(|id| line(json!(id), json!(1))).collect();
    assert_eq!(rejected_fields(&app, json!({"store_id": 1, "items": too_many})).await, ["items"]);
    assert_eq!(app.count("orders"), 0);
    assert_eq!(app.stock(1, 1), 10);
    app.shutdown().await;
}

#[tokio::test]
async fn an_unknown_store_is_404() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let body = json!({"store_id": 99, "items": [{"product_id": 1, "quantity_requested": 1}]});
    json_with_status(app.post_order(&body).await, StatusCode::NOT_FOUND).await;
    assert_eq!(app.count("orders"), 0);
    app.shutdown().await;
}

#[tokio::test]
async fn malformed_json_and_wrong_content_type_are_problems() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let raw = |body: &'static str, content_type: &'static str| {
        app.client.post(app.url("/orders/")).header("content-type", content_type).body(body).send()
    };

    json_with_status(raw("{\"store_id\": 1,", "application/json").await.expect("send"), StatusCode::BAD_REQUEST).await;
    json_with_status(raw("[1, 2]", "application/json").await.expect("send"), StatusCode::BAD_REQUEST).await;
    json_with_status(
        raw("store_id=1", "application/x-www-form-urlencoded").await.expect("send"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_body_over_64_kib_is_413() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let padding = "x".repeat(70 * 1024);
    let response = app
        .client
        .post(app.url("/orders/"))
        .header("content-type", "application/json")
        .body(format!("{{\"store_id\": 1, \"pad\": \"{padding}\"}}"))
        .send()
        .await
        .expect("send");
    json_with_status(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_bad_idempotency_key_is_400() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let body = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]});
    let long_key = "k".repeat(256);
    let problem = json_with_status(app.post_order_with_key(&body, &long_key).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
    app.shutdown().await;
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    json_with_status(app.get("/nope").await, StatusCode::NOT_FOUND).await;
    json_with_status(app.get("/orders/").await, StatusCode::METHOD_NOT_ALLOWED).await;
    let delete = app.client.delete(app.url("/orders/1/")).send().await.expect("send");
    json_with_status(delete, StatusCode::METHOD_NOT_ALLOWED).await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_path_without_its_trailing_slash_is_redirected_keeping_the_method() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let body = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]});
    // reqwest follows 308 redirects and re-sends the body.
    let response = app.client.post(app.url("/orders")).json(&body).send().await.expect("send");
    json_with_status(response, StatusCode::CREATED).await;
    json_with_status(app.get("/stores/1/inventory?page_size=1").await, StatusCode::OK).await;
    app.shutdown().await;
}

#[tokio::test]
async fn healthz_answers_ok_even_on_an_empty_database() {
    let app = spawn_app().await;
    assert_eq!(json_with_status(app.get("/healthz").await, StatusCode::OK).await, json!({"status": "ok"}));
    app.shutdown().await;
}

#[tokio::test]
async fn readyz_names_no_view_building_once_the_autocomplete_map_is_built() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    app.state.suggest.wait_until_current().await;
    let body = json_with_status(app.get("/readyz").await, StatusCode::OK).await;
    assert_eq!(body, json!({"status": "ok", "role": "primary", "building": []}));
    app.shutdown().await;
}
