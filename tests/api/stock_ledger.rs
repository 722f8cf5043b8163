//! The stock ledger and thresholds (contract, "Stock movements, thresholds and bulk updates"):
//! one movement per change of on-hand stock with its reason, order and actor; none for a write
//! that changes nothing; the movements route's statuses; movements gone with their product;
//! `low_stock_threshold` on `PUT` and `inventory.low_stock` on a fall to it.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admin_support::{catalog_and_admin, spawn_admin_app};
use crate::helpers::{TestApp, json_with_status};

const MASTER: &str = "master-key-for-ledger-0123456789";

fn movements_path(store: i64, product: i64) -> String {
    format!("/api/admin/stores/{store}/inventory/{product}/movements/")
}

/// (delta, quantity_after, reason, order_id, actor) of each movement, newest first.
fn summary(page: &Value) -> Vec<(i64, i64, String, Value, Value)> {
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|row| {
            (
                row["delta"].as_i64().expect("delta"),
                row["quantity_after"].as_i64().expect("quantity_after"),
                row["reason"].as_str().expect("reason").to_owned(),
                row["order_id"].clone(),
                row["actor"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_stock_path_writes_one_movement_with_its_reason_order_and_actor() {
    let admin = spawn_admin_app().await;
    let order =
        admin.app.post_order(&json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 3}]})).await;
    let order = json_with_status(order, StatusCode::CREATED).await;
    let order_id = order["id"].as_i64().expect("order id");
    admin.call(Method::POST, &format!("/api/admin/orders/{order_id}/cancel/"), None, StatusCode::OK).await;
    let stock = |path: &str| format!("/api/admin/stores/1/inventory/1/{path}");
    admin.call(Method::POST, &stock("restock/"), Some(json!({"quantity": 5})), StatusCode::OK).await;
    admin.call(Method::POST, &stock("adjust/"), Some(json!({"delta": -2})), StatusCode::OK).await;
    admin.call(Method::PUT, &stock(""), Some(json!({"quantity": 4})), StatusCode::OK).await;
    // Changes nothing: no movement.
    admin.call(Method::PUT, &stock(""), Some(json!({"quantity": 4})), StatusCode::OK).await;
    admin.call(Method::POST, &stock("adjust/"), Some(json!({"delta": -9})), StatusCode::CONFLICT).await;

    let page = admin.call(Method::GET, &movements_path(1, 1), None, StatusCode::OK).await;

    let boss = json!("admin:boss");
    assert_eq!(
        summary(&page),
        vec![
            (-9, 4, "set".to_owned(), Value::Null, boss.clone()),
            (-2, 13, "adjust".to_owned(), Value::Null, boss.clone()),
            (5, 15, "restock".to_owned(), Value::Null, boss.clone()),
            (3, 10, "cancel".to_owned(), json!(order_id), boss),
            (-3, 7, "order".to_owned(), json!(order_id), Value::Null),
        ],
        "newest first; the order in open mode has no actor"
    );
    assert_eq!(page["count"], 5);
    let first = &page["results"][0];
    assert_eq!((first["store_id"].as_i64(), first["product_id"].as_i64()), (Some(1), Some(1)));
    assert!(first["id"].as_i64().expect("id") > page["results"][1]["id"].as_i64().expect("id"));
    assert!(first["created_at"].as_str().expect("created_at").ends_with('Z'));
    assert_eq!(admin.app.stock(1, 1), 4, "the newest movement is the current quantity");
    admin.shutdown().await;
}

#[tokio::test]
async fn the_movements_route_pages_and_answers_404_400_and_401() {
    let admin = spawn_admin_app().await;
    for quantity in 1..=3 {
        let body = Some(json!({"quantity": quantity}));
        admin.call(Method::PUT, "/api/admin/stores/1/inventory/2/", body, StatusCode::OK).await;
    }
    let first = admin.call(Method::GET, &format!("{}?page_size=2", movements_path(1, 2)), None, StatusCode::OK).await;
    assert_eq!((first["count"].as_i64(), first["results"].as_array().map(Vec::len)), (Some(3), Some(2)));
    assert!(first["next"].as_str().expect("next").contains("page=2"));
    assert_eq!(first["previous"], Value::Null);
    let second =
        admin.call(Method::GET, &format!("{}?page_size=2&page=2", movements_path(1, 2)), None, StatusCode::OK).await;
    assert_eq!(
        summary(&second),
        vec![(-2, 1, "set".to_owned(), Value::Null, json!("admin:boss"))],
        "the oldest: 3 → 1"
    );

    let empty = admin.call(Method::GET, &movements_path(2, 1), None, StatusCode::OK).await;
    assert_eq!((empty["count"].as_i64(), empty["results"].as_array().map(Vec::len)), (Some(0), Some(0)));
    for (path, status) in [
        (format!("{}?page=9", movements_path(1, 2)), StatusCode::NOT_FOUND),
        (movements_path(9, 1), StatusCode::NOT_FOUND),
        (movements_path(1, 99), StatusCode::NOT_FOUND),
        ("/api/admin/stores/x/inventory/1/movements/".to_owned(), StatusCode::NOT_FOUND),
        (format!("{}?page_size=0", movements_path(1, 2)), StatusCode::BAD_REQUEST),
        (format!("{}?page=abc", movements_path(1, 2)), StatusCode::BAD_REQUEST),
    ] {
        let response = admin.send(Method::GET, &path, None).await;
        assert_eq!(response.status(), status, "{path}");
        let content_type = response.headers()[reqwest::header::CONTENT_TYPE].to_str().expect("ascii").to_owned();
        assert_eq!(content_type, "application/problem+json", "{path}");
    }
    let anonymous = admin.app.get(&movements_path(1, 2)).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "an admin token is needed");
    let wrong_method = admin.send(Method::POST, &movements_path(1, 2), None).await;
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    admin.shutdown().await;
}

#[tokio::test]
async fn deleting_a_product_deletes_its_movements() {
    let admin = spawn_admin_app().await;
    admin
        .call(Method::POST, "/api/admin/stores/1/inventory/3/restock/", Some(json!({"quantity": 2})), StatusCode::OK)
        .await;
    admin
        .call(Method::POST, "/api/admin/stores/1/inventory/4/restock/", Some(json!({"quantity": 2})), StatusCode::OK)
        .await;
    assert_eq!(admin.app.count("stock_movements"), 2);

    let deleted = admin.send(Method::DELETE, "/api/admin/products/3/", None).await;

    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let left: i64 = admin
        .app
        .db()
        .query_row("SELECT COUNT(*) FROM stock_movements WHERE product_id = 3", [], |row| row.get(0))
        .expect("count");
    assert_eq!(left, 0);
    assert_eq!(admin.app.count("stock_movements"), 1, "another product's movements stay");
    admin.shutdown().await;
}

#[tokio::test]
async fn keyed_mode_names_the_master_key_and_api_keys_as_actors() {
    let app = TestApp::builder().fixture(catalog_and_admin).master_key(MASTER).spawn().await;
    let send = |method: Method, path: &str, credential: &str, body: Option<Value>| {
        let mut request = app.client.request(method, app.url(path)).bearer_auth(credential);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send()
    };
    let created = send(
        Method::POST,
        "/api/keys/",
        MASTER,
        Some(json!({"name": "erp", "actions": ["stock.write", "orders.create"]})),
    )
    .await
    .expect("request");
    let created = json_with_status(created, StatusCode::CREATED).await;
    let (key_id, secret) = (created["id"].as_i64().expect("id"), created["key"].as_str().expect("key").to_owned());
    let restock = Some(json!({"quantity": 1}));
    let by_master = send(Method::POST, "/api/admin/stores/1/inventory/1/restock/", MASTER, restock.clone()).await;
    json_with_status(by_master.expect("request"), StatusCode::OK).await;
    let by_key = send(Method::POST, "/api/admin/stores/1/inventory/1/restock/", &secret, restock).await;
    json_with_status(by_key.expect("request"), StatusCode::OK).await;
    let order = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]});
    json_with_status(send(Method::POST, "/orders/", &secret, Some(order)).await.expect("request"), StatusCode::CREATED)
        .await;

    let page = send(Method::GET, &movements_path(1, 1), &secret, None).await.expect("request");
    let page = json_with_status(page, StatusCode::OK).await;

    let actors: Vec<Value> = summary(&page).into_iter().map(|row| row.4).collect();
    let key = json!(format!("key:{key_id}"));
    assert_eq!(actors, vec![key.clone(), key, json!("master")]);
    app.shutdown().await;
}

#[tokio::test]
async fn a_threshold_is_set_alone_or_with_the_quantity_and_its_bad_values_are_named() {
    let admin = spawn_admin_app().await;
    let put = |path: &'static str, body: Value, status: StatusCode| {
        let admin = &admin;
        async move { admin.call(Method::PUT, path, Some(body), status).await }
    };

    let alone = put("/api/admin/stores/1/inventory/1/", json!({"low_stock_threshold": 8}), StatusCode::OK).await;
    assert_eq!(alone, json!({"store_id": 1, "product_id": 1, "quantity": 10, "low_stock_threshold": 8}));
    assert_eq!(admin.app.count("stock_movements"), 0, "a threshold is no movement");
    let both =
        put("/api/admin/stores/2/inventory/2/", json!({"quantity": 3, "low_stock_threshold": 1}), StatusCode::OK).await;
    assert_eq!(both, json!({"store_id": 2, "product_id": 2, "quantity": 3, "low_stock_threshold": 1}), "a new row");
    let set = put("/api/admin/stores/1/inventory/4/", json!({"quantity": 6}), StatusCode::OK).await;
    assert_eq!(set["low_stock_threshold"], 5, "the default");

    put("/api/admin/stores/2/inventory/3/", json!({"low_stock_threshold": 2}), StatusCode::NOT_FOUND).await;
    put("/api/admin/stores/9/inventory/1/", json!({"low_stock_threshold": 2}), StatusCode::NOT_FOUND).await;
    put("/api/admin/stores/1/inventory/99/", json!({"low_stock_threshold": 2}), StatusCode::NOT_FOUND).await;
    for (body, field) in [
        (json!({"low_stock_threshold": -1}), "low_stock_threshold"),
        (json!({"low_stock_threshold": 1_000_000_001}), "low_stock_threshold"),
        (json!({"low_stock_threshold": "5"}), "low_stock_threshold"),
        (json!({"quantity": 1, "low_stock_threshold": 1.5}), "low_stock_threshold"),
        (json!({}), "quantity"),
        (json!({"quantity": null}), "quantity"),
    ] {
        let problem = put("/api/admin/stores/1/inventory/1/", body.clone(), StatusCode::BAD_REQUEST).await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    put("/api/admin/stores/1/inventory/1/", json!({"low_stock_threshold": 1_000_000_000}), StatusCode::OK).await;
    admin.shutdown().await;
}

/// The queued `inventory.low_stock` events' data, oldest first.
fn low_stock_events(app: &TestApp) -> Vec<Value> {
    let db = app.db();
    let mut stmt = db.prepare("SELECT payload FROM jobs WHERE kind = 'inventory.low_stock' ORDER BY id").expect("jobs");
    stmt.query_map([], |row| row.get::<_, String>(0))
        .expect("jobs")
        .map(|payload| serde_json::from_str(&payload.expect("payload")).expect("JSON"))
        .collect()
}

#[tokio::test]
async fn low_stock_fires_on_a_fall_to_the_threshold_and_never_for_a_threshold_change() {
    let admin = spawn_admin_app().await;
    let path = "/api/admin/stores/1/inventory/1/";
    // 10 on hand, threshold 5: raising the threshold over the stock announces nothing.
    admin.call(Method::PUT, path, Some(json!({"low_stock_threshold": 12})), StatusCode::OK).await;
    admin.call(Method::PUT, path, Some(json!({"low_stock_threshold": 6})), StatusCode::OK).await;
    assert!(low_stock_events(&admin.app).is_empty());

    let order = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 3}]});
    json_with_status(admin.app.post_order(&order).await, StatusCode::CREATED).await; // 10 → 7: above 6
    assert!(low_stock_events(&admin.app).is_empty());
    json_with_status(admin.app.post_order(&order).await, StatusCode::CREATED).await; // 7 → 4: crossed
    json_with_status(admin.app.post_order(&order).await, StatusCode::CREATED).await; // 4 → 1: already low

    assert_eq!(
        low_stock_events(&admin.app),
        vec![json!({"store_id": 1, "product_id": 1, "quantity": 4, "threshold": 6})]
    );
    admin.call(Method::PUT, path, Some(json!({"quantity": 20})), StatusCode::OK).await;
    admin.call(Method::POST, &format!("{path}adjust/"), Some(json!({"delta": -14})), StatusCode::OK).await; // 20 → 6
    assert_eq!(low_stock_events(&admin.app).len(), 2, "a fall to exactly the threshold counts");
    admin.shutdown().await;
}

#[tokio::test]
async fn the_inventory_listing_shows_thresholds_and_filters_low_stock() {
    let admin = spawn_admin_app().await;
    // Store 1: 1 → 10, 2 → 3, 3 → 0, 4 → 5, 5 → 1; threshold 5 but product 1's raised to 10.
    admin
        .call(Method::PUT, "/api/admin/stores/1/inventory/1/", Some(json!({"low_stock_threshold": 10})), StatusCode::OK)
        .await;
    admin
        .call(Method::PUT, "/api/admin/stores/1/inventory/2/", Some(json!({"low_stock_threshold": 2})), StatusCode::OK)
        .await;
    let ids = |body: &Value| -> Vec<i64> {
        body["results"].as_array().expect("rows").iter().map(|row| row["product_id"].as_i64().expect("id")).collect()
    };

    let all = json_with_status(admin.app.get("/stores/1/inventory/").await, StatusCode::OK).await;
    let low = json_with_status(admin.app.get("/stores/1/inventory/?low_stock=true").await, StatusCode::OK).await;
    let not_low = json_with_status(admin.app.get("/stores/1/inventory/?low_stock=false").await, StatusCode::OK).await;
    let low_in_stock =
        json_with_status(admin.app.get("/stores/1/inventory/?low_stock=true&in_stock=true").await, StatusCode::OK)
            .await;

    let threshold_of = |id: i64| {
        all["results"].as_array().expect("rows").iter().find(|row| row["product_id"] == id).expect("row")
            ["low_stock_threshold"]
            .as_i64()
    };
    assert_eq!((threshold_of(1), threshold_of(2), threshold_of(4)), (Some(10), Some(2), Some(5)));
    // By title: Atlas Mug (5), bamboo Cutting Board (2), Camping Tent (3), Headlamp (4), Steel Kettle (1).
    assert_eq!(ids(&low), [5, 3, 4, 1], "at or below the row's threshold");
    assert_eq!(low["count"], 4);
    assert_eq!(ids(&not_low), [2]);
    assert_eq!(ids(&low_in_stock), [5, 4, 1]);
    let problem = admin.app.get("/stores/1/inventory/?low_stock=maybe").await;
    assert_eq!(problem.status(), StatusCode::BAD_REQUEST);
    let problem = json_with_status(problem, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["errors"][0]["field"], "low_stock");
    admin.shutdown().await;
}
