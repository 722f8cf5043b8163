//! Admin inventory changes (set, adjust, restock) reaching the stock view before the reply,
//! and the order list across stores.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::admin_support::spawn_admin_app;

#[tokio::test]
async fn a_restock_makes_the_product_match_in_stock_searches_at_once() {
    let admin = spawn_admin_app().await;
    assert!(!admin.search_ids("q=tent&store_id=1&in_stock=true").await.contains(&3), "store 1 has none");
    assert!(admin.search_ids("q=tent&in_stock=true").await.is_empty(), "no store has any");

    let stock = admin
        .call(Method::POST, "/api/admin/stores/1/inventory/3/restock/", Some(json!({"quantity": 4})), StatusCode::OK)
        .await;

    assert_eq!(stock, json!({"store_id": 1, "product_id": 3, "quantity": 4}));
    assert_eq!(admin.search_ids("q=tent&store_id=1&in_stock=true").await, [3]);
    assert_eq!(admin.search_ids("q=tent&in_stock=true").await, [3]);
    assert_eq!(admin.app.stock(1, 3), 4);
    admin.shutdown().await;
}

#[tokio::test]
async fn a_new_store_stocked_by_the_admin_is_searchable_by_store() {
    let admin = spawn_admin_app().await;
    let store =
        admin.call(Method::POST, "/api/admin/stores/", Some(json!({"name": "Braga"})), StatusCode::CREATED).await;
    let id = store["id"].as_i64().expect("id");

    admin
        .call(
            Method::PUT,
            &format!("/api/admin/stores/{id}/inventory/5/"),
            Some(json!({"quantity": 2})),
            StatusCode::OK,
        )
        .await;

    assert_eq!(admin.search_ids(&format!("store_id={id}")).await, [5]);
    assert_eq!(admin.search_ids(&format!("store_id={id}&in_stock=true")).await, [5]);
    admin.shutdown().await;
}

#[tokio::test]
async fn adjustments_add_and_subtract_but_never_below_zero() {
    let admin = spawn_admin_app().await;
    let adjust = |delta: i64| json!({"delta": delta});

    let down =
        admin.call(Method::POST, "/api/admin/stores/1/inventory/1/adjust/", Some(adjust(-4)), StatusCode::OK).await;
    admin.call(Method::POST, "/api/admin/stores/1/inventory/1/adjust/", Some(adjust(-7)), StatusCode::CONFLICT).await;

    assert_eq!(down["quantity"], 6);
    assert_eq!(admin.app.stock(1, 1), 6, "the refused adjustment changed nothing");
    admin.call(Method::PUT, "/api/admin/stores/1/inventory/1/", Some(json!({"quantity": 0})), StatusCode::OK).await;
    assert!(!admin.search_ids("store_id=1&in_stock=true").await.contains(&1));
    admin.shutdown().await;
}

#[tokio::test]
async fn stock_changes_for_unknown_stores_or_products_are_404_and_bad_quantities_400() {
    let admin = spawn_admin_app().await;
    let restock = Some(json!({"quantity": 1}));
    admin.call(Method::POST, "/api/admin/stores/9/inventory/1/restock/", restock.clone(), StatusCode::NOT_FOUND).await;
    admin.call(Method::POST, "/api/admin/stores/1/inventory/99/restock/", restock, StatusCode::NOT_FOUND).await;

    let problem = admin
        .call(Method::PUT, "/api/admin/stores/1/inventory/1/", Some(json!({"quantity": -1})), StatusCode::BAD_REQUEST)
        .await;

    assert_eq!(problem["errors"][0]["field"], "quantity");
    admin.shutdown().await;
}

#[tokio::test]
async fn the_order_list_spans_stores_and_filters_by_store_and_status() {
    let admin = spawn_admin_app().await;
    let line = |store: i64, product: i64, quantity: i64| json!({"store_id": store, "items": [{"product_id": product, "quantity_requested": quantity}]});
    for (body, status) in [
        (line(1, 1, 2), StatusCode::CREATED),
        (line(2, 1, 1), StatusCode::CREATED),
        (line(1, 3, 1), StatusCode::CONFLICT),
    ] {
        assert_eq!(admin.app.post_order(&body).await.status(), status);
    }

    let all = admin.call(Method::GET, "/api/admin/orders/", None, StatusCode::OK).await;
    let store_two = admin.call(Method::GET, "/api/admin/orders/?store=2", None, StatusCode::OK).await;
    let rejected = admin.call(Method::GET, "/api/admin/orders/?status=rejected", None, StatusCode::OK).await;

    assert_eq!(all["count"], 3);
    assert_eq!(store_two["count"], 1);
    assert_eq!(store_two["results"][0]["store_id"], 2);
    assert_eq!(rejected["count"], 1);
    assert_eq!(rejected["results"][0]["status"], "REJECTED");
    let problem =
        admin.call(Method::GET, "/api/admin/orders/?status=LOST&store=x", None, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["errors"].as_array().map(Vec::len), Some(2));
    admin.shutdown().await;
}
