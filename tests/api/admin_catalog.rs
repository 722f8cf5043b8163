//! Admin CRUD for categories, products and stores, and that every change is visible to the
//! public search and autocomplete in the very next request.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::admin_support::spawn_admin_app;
use crate::helpers::json_with_status;

#[tokio::test]
async fn a_created_product_is_searchable_and_suggested_in_the_next_request() {
    let admin = spawn_admin_app().await;

    let created = admin
        .call(
            Method::POST,
            "/api/admin/products/",
            Some(json!({"title": "Copper Saucepan", "description": "heavy", "price": "45.00", "category_id": 1})),
            StatusCode::CREATED,
        )
        .await;

    let id = created["id"].as_i64().expect("id");
    assert_eq!(created["category"], "Kitchen");
    assert_eq!(created["price"], "45.00");
    assert_eq!(admin.search_ids("q=saucepan").await, [id]);
    assert_eq!(admin.suggestions("sauce").await, ["Copper Saucepan"]);
    admin.shutdown().await;
}

#[tokio::test]
async fn an_edited_title_replaces_the_old_one_in_search_and_suggest() {
    let admin = spawn_admin_app().await;
    let body = json!({"title": "Enamel Kettle", "description": "boils water", "price": "25.00", "category_id": 1});

    let edited = admin.call(Method::PUT, "/api/admin/products/1/", Some(body), StatusCode::OK).await;

    assert_eq!(edited["title"], "Enamel Kettle");
    assert_eq!(admin.search_ids("q=enamel").await, [1]);
    assert!(admin.search_ids("q=steel").await.is_empty(), "the old title is gone from search");
    assert_eq!(admin.suggestions("enam").await, ["Enamel Kettle"]);
    assert!(admin.suggestions("steel").await.is_empty(), "the old title is gone from suggest");
    admin.shutdown().await;
}

#[tokio::test]
async fn a_deleted_product_leaves_search_suggest_and_store_listings() {
    let admin = spawn_admin_app().await;
    assert_eq!(admin.search_ids("q=headlamp&store_id=1").await, [4]);

    let response = admin.send(Method::DELETE, "/api/admin/products/4/", None).await;

    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(admin.search_ids("q=headlamp").await.is_empty());
    assert!(!admin.search_ids("store_id=1").await.contains(&4), "the store browse forgot it");
    assert!(admin.suggestions("headl").await.is_empty());
    assert_eq!(admin.app.state.search.stock().quantity(aforro::domain::StoreId(1), aforro::domain::ProductId(4)), None);
    admin.call(Method::GET, "/api/admin/products/4/", None, StatusCode::NOT_FOUND).await;
    admin.shutdown().await;
}

#[tokio::test]
async fn a_product_named_by_an_order_cannot_be_deleted() {
    let admin = spawn_admin_app().await;
    let order =
        admin.app.post_order(&json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]})).await;
    assert_eq!(order.status(), StatusCode::CREATED);

    admin.call(Method::DELETE, "/api/admin/products/1/", None, StatusCode::CONFLICT).await;

    assert_eq!(admin.search_ids("q=kettle").await, [1], "still searchable");
    admin.shutdown().await;
}

#[tokio::test]
async fn a_renamed_category_shows_in_search_rows_and_facets_at_once() {
    let admin = spawn_admin_app().await;
    let before = json_with_status(admin.app.get("/api/search/products/?q=tent").await, StatusCode::OK).await;
    assert_eq!(before["results"][0]["category"], "Outdoor", "and now cached");

    admin.call(Method::PUT, "/api/admin/categories/2/", Some(json!({"name": "Camping"})), StatusCode::OK).await;

    let after = json_with_status(admin.app.get("/api/search/products/?q=tent").await, StatusCode::OK).await;
    assert_eq!(after["results"][0]["category"], "Camping");
    assert_eq!(after["facets"]["category"][0]["name"], "Camping");
    assert_eq!(admin.search_ids("category=camping").await.len(), 2);
    admin.shutdown().await;
}

#[tokio::test]
async fn a_category_in_use_cannot_be_deleted_and_an_unused_one_can() {
    let admin = spawn_admin_app().await;
    admin.call(Method::DELETE, "/api/admin/categories/1/", None, StatusCode::CONFLICT).await;
    let garden =
        admin.call(Method::POST, "/api/admin/categories/", Some(json!({"name": "Garden"})), StatusCode::CREATED).await;
    let path = format!("/api/admin/categories/{}/", garden["id"]);

    assert_eq!(admin.send(Method::DELETE, &path, None).await.status(), StatusCode::NO_CONTENT);

    admin.call(Method::GET, &path, None, StatusCode::NOT_FOUND).await;
    admin.shutdown().await;
}

#[tokio::test]
async fn invalid_bodies_are_400_naming_each_field() {
    let admin = spawn_admin_app().await;
    let cases = [
        (
            "/api/admin/products/",
            json!({"title": "", "price": "-1", "category_id": "x"}),
            vec!["title", "price", "category_id"],
        ),
        ("/api/admin/products/", json!({"title": "Spoon", "price": "1.00", "category_id": 99}), vec!["category_id"]),
        ("/api/admin/categories/", json!({"name": "kitchen"}), vec!["name"]),
        ("/api/admin/stores/", json!({"location": 5}), vec!["name", "location"]),
    ];
    for (path, body, expected) in cases {
        let problem = admin.call(Method::POST, path, Some(body.clone()), StatusCode::BAD_REQUEST).await;
        let fields: Vec<&str> =
            problem["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
        assert_eq!(fields, expected, "{path} {body}");
    }
    assert_eq!(admin.app.count("products"), 5, "nothing stored");
    admin.shutdown().await;
}

#[tokio::test]
async fn lists_use_the_pagination_envelope() {
    let admin = spawn_admin_app().await;

    let page = admin.call(Method::GET, "/api/admin/products/?page_size=2&page=2", None, StatusCode::OK).await;

    assert_eq!(page["count"], 5);
    assert_eq!(page["results"].as_array().map(Vec::len), Some(2));
    assert!(page["next"].as_str().is_some_and(|next| next.ends_with("/api/admin/products/?page_size=2&page=3")));
    assert!(page["previous"].as_str().is_some_and(|prev| prev.ends_with("/api/admin/products/?page_size=2")));
    let found = admin.call(Method::GET, "/api/admin/products/?q=KETTLE", None, StatusCode::OK).await;
    assert_eq!(found["count"], 1);
    admin.shutdown().await;
}

#[tokio::test]
async fn stores_are_created_edited_and_deleted_when_unused() {
    let admin = spawn_admin_app().await;
    let created = admin
        .call(
            Method::POST,
            "/api/admin/stores/",
            Some(json!({"name": "Faro Pier", "location": "Faro"})),
            StatusCode::CREATED,
        )
        .await;
    let path = format!("/api/admin/stores/{}/", created["id"]);

    let edited = admin.call(Method::PUT, &path, Some(json!({"name": "Faro Marina"})), StatusCode::OK).await;

    assert_eq!(edited["name"], "Faro Marina");
    assert_eq!(edited["location"], "");
    admin.call(Method::DELETE, "/api/admin/stores/1/", None, StatusCode::CONFLICT).await;
    assert_eq!(admin.send(Method::DELETE, &path, None).await.status(), StatusCode::NO_CONTENT);
    admin.call(Method::GET, &path, None, StatusCode::NOT_FOUND).await;
    admin.shutdown().await;
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let admin = spawn_admin_app().await;
    for path in
        ["/api/admin/products/99/", "/api/admin/categories/99/", "/api/admin/stores/99/", "/api/admin/stores/x/"]
    {
        admin.call(Method::GET, path, None, StatusCode::NOT_FOUND).await;
    }
    let body = json!({"title": "Spoon", "price": "1.00", "category_id": 1});
    admin.call(Method::PUT, "/api/admin/products/99/", Some(body), StatusCode::NOT_FOUND).await;
    admin.shutdown().await;
}
