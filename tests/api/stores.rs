//! `GET /stores/<id>/orders/` and `GET /stores/<id>/inventory/`, with the pagination envelope.

use reqwest::StatusCode;
use rusqlite::Connection;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_with_status, small_catalog};

/// Store 1 gets orders 1..=n (ids and created_at increasing) with 1..=n units on one line each,
/// plus one two-line order (id n+1) with 2 + 3 units; odd ids are CONFIRMED, even REJECTED.
fn orders_fixture(n: i64) -> impl FnOnce(&Connection) {
    move |conn| {
        small_catalog(conn);
        for id in 1..=n {
            let status = if id % 2 == 1 { "CONFIRMED" } else { "REJECTED" };
            conn.execute(
                "INSERT INTO orders (id, store_id, status, created_at) VALUES (?1, 1, ?2, ?1 * 1000)",
                rusqlite::params![id, status],
            )
            .expect("order");
            conn.execute("INSERT INTO order_items (order_id, product_id, quantity_requested) VALUES (?1, 1, ?1)", [id])
                .expect("item");
        }
        let last = n + 1;
        conn.execute(
            "INSERT INTO orders (id, store_id, status, created_at) VALUES (?1, 1, 'CONFIRMED', ?1 * 1000)",
            [last],
        )
        .expect("order");
        conn.execute_batch(&format!(
            "INSERT INTO order_items (order_id, product_id, quantity_requested) VALUES ({last}, 1, 2), ({last}, 2, 3);
             INSERT INTO orders (store_id, status, created_at) VALUES (2, 'CONFIRMED', 1);"
        ))
        .expect("items");
    }
}

async fn page(app: &TestApp, path: &str) -> Value {
    json_with_status(app.get(path).await, StatusCode::OK).await
}

#[tokio::test]
async fn store_orders_are_newest_first_with_total_quantity_summed() {
    let app = TestApp::builder().fixture(orders_fixture(3)).spawn().await;

    let body = page(&app, "/stores/1/orders/").await;

    assert_eq!(body["count"], 4, "store 2's order is not listed");
    let ids: Vec<i64> =
        body["results"].as_array().expect("results").iter().map(|r| r["id"].as_i64().expect("id")).collect();
    assert_eq!(ids, [4, 3, 2, 1]);
    assert_eq!(body["results"][0]["total_quantity"], 5, "2 + 3 over two lines");
    assert_eq!(
        body["results"][1],
        json!({"id": 3, "status": "CONFIRMED", "created_at": "1970-01-01T00:00:00.003000Z", "total_quantity": 3})
    );
    app.shutdown().await;
}

#[tokio::test]
async fn equal_timestamps_fall_back_to_id_descending() {
    let app = TestApp::builder().fixture(|conn| {
        small_catalog(conn);
        conn.execute_batch("INSERT INTO orders (id, store_id, status, created_at) VALUES (1, 1, 'CONFIRMED', 7), (2, 1, 'CONFIRMED', 7);")
            .expect("orders");
    }).spawn()
    .await;
    let body = page(&app, "/stores/1/orders/").await;
    assert_eq!(body["results"][0]["id"], 2);
    assert_eq!(body["results"][0]["total_quantity"], 0, "an order without items sums to 0");
    app.shutdown().await;
}

#[tokio::test]
async fn store_orders_filter_by_status() {
    let app = TestApp::builder().fixture(orders_fixture(5)).spawn().await;

    let body = page(&app, "/stores/1/orders/?status=REJECTED").await;

    assert_eq!(body["count"], 2);
    assert!(body["results"].as_array().expect("results").iter().all(|r| r["status"] == "REJECTED"));
    json_with_status(app.get("/stores/1/orders/?status=LOST").await, StatusCode::BAD_REQUEST).await;
    app.shutdown().await;
}

#[tokio::test]
async fn pagination_links_are_absolute_and_a_page_past_the_end_is_404() {
    let app = TestApp::builder().fixture(orders_fixture(24)).spawn().await; // 25 orders in store 1

    let first = page(&app, "/stores/1/orders/?page_size=10&status=").await;
    let second = page(&app, "/stores/1/orders/?page_size=10&page=2").await;
    let third = page(&app, "/stores/1/orders/?page_size=10&page=3").await;

    assert_eq!(first["count"], 25);
    assert_eq!(first["previous"], Value::Null);
    assert_eq!(first["next"], json!(app.url("/stores/1/orders/?page_size=10&status=&page=2")));
    assert_eq!(second["previous"], json!(app.url("/stores/1/orders/?page_size=10")));
    assert_eq!(second["next"], json!(app.url("/stores/1/orders/?page_size=10&page=3")));
    assert_eq!(third["next"], Value::Null);
    assert_eq!(third["results"].as_array().expect("results").len(), 5);
    assert_eq!(second["results"][0]["id"], 15);
    json_with_status(app.get("/stores/1/orders/?page_size=10&page=4").await, StatusCode::NOT_FOUND).await;
    app.shutdown().await;
}

#[tokio::test]
async fn page_size_is_clamped_to_one_hundred_and_bad_values_are_400() {
    let app = TestApp::builder().fixture(orders_fixture(120)).spawn().await;

    let body = page(&app, "/stores/1/orders/?page_size=1000").await;
    assert_eq!(body["results"].as_array().expect("results").len(), 100);

    for bad in ["page_size=0", "page_size=-1", "page_size=abc", "page=0", "page=x"] {
        let problem =
            json_with_status(app.get(&format!("/stores/1/orders/?{bad}")).await, StatusCode::BAD_REQUEST).await;
        let field = bad.split('=').next().expect("name");
        assert_eq!(problem["errors"][0]["field"], field, "{bad}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn an_empty_store_has_an_empty_first_page() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let body = page(&app, "/stores/2/orders/").await;
    assert_eq!(body, json!({"count": 0, "next": null, "previous": null, "results": []}));
    app.shutdown().await;
}

#[tokio::test]
async fn store_listings_of_an_unknown_store_are_404() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    for path in ["/stores/99/orders/", "/stores/99/inventory/", "/stores/abc/orders/"] {
        json_with_status(app.get(path).await, StatusCode::NOT_FOUND).await;
    }
    app.shutdown().await;
}

#[tokio::test]
async fn inventory_is_sorted_by_title_case_insensitively() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;

    let body = page(&app, "/stores/1/inventory/").await;

    let titles: Vec<&str> =
        body["results"].as_array().expect("results").iter().map(|r| r["title"].as_str().expect("title")).collect();
    assert_eq!(titles, ["Atlas Mug", "bamboo Cutting Board", "Camping Tent", "Headlamp", "Steel Kettle"]);
    assert_eq!(
        body["results"][1],
        json!({"product_id": 2, "title": "bamboo Cutting Board", "price": "12.50", "category": "Kitchen", "category_id": 1, "quantity": 3, "held": 0, "available": 3, "low_stock_threshold": 5})
    );
    app.shutdown().await;
}

#[tokio::test]
async fn inventory_filters_by_title_and_stock() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;

    let kettles = page(&app, "/stores/1/inventory/?q=KETT").await;
    let out_of_stock = page(&app, "/stores/1/inventory/?in_stock=false").await;
    let in_stock = page(&app, "/stores/1/inventory/?in_stock=true").await;
    let literal_percent = page(&app, "/stores/1/inventory/?q=%25").await;

    assert_eq!(kettles["count"], 1);
    assert_eq!(kettles["results"][0]["product_id"], 1);
    assert_eq!(out_of_stock["count"], 1);
    assert_eq!(out_of_stock["results"][0]["product_id"], 3);
    assert_eq!(in_stock["count"], 4);
    assert_eq!(literal_percent["count"], 0, "% is matched literally, not as a wildcard");
    json_with_status(app.get("/stores/1/inventory/?in_stock=maybe").await, StatusCode::BAD_REQUEST).await;
    app.shutdown().await;
}

#[tokio::test]
async fn inventory_reflects_a_confirmed_order() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let order = json!({"store_id": 1, "items": [{"product_id": 5, "quantity_requested": 1}]});
    json_with_status(app.post_order(&order).await, StatusCode::CREATED).await;

    let body = page(&app, "/stores/1/inventory/?q=mug").await;

    assert_eq!(body["results"][0]["quantity"], 0);
    app.shutdown().await;
}

#[tokio::test]
async fn the_database_enforces_one_inventory_row_per_store_and_product() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;

    let duplicate = app.db().execute("INSERT INTO inventory (store_id, product_id, quantity) VALUES (1, 1, 5)", []);

    let error = duplicate.expect_err("duplicate must fail").to_string();
    assert!(error.contains("UNIQUE"), "{error}");
    app.shutdown().await;
}

#[tokio::test]
async fn the_database_rejects_negative_stock_and_unknown_statuses() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let db = app.db();
    assert!(db.execute("UPDATE inventory SET quantity = -1 WHERE store_id = 1 AND product_id = 1", []).is_err());
    assert!(db.execute("INSERT INTO orders (store_id, status, created_at) VALUES (1, 'LOST', 0)", []).is_err());
    assert!(
        db.execute("INSERT INTO products (title, price_cents, category_id, created_at) VALUES ('x', -5, 1, 0)", [])
            .is_err()
    );
    app.shutdown().await;
}
