//! Control characters (U+0000–U+001F, U+007F) are `400` in every name, title, location and
//! query word; descriptions keep tab, LF and CR (contract, Conventions). And a rule the
//! database still refuses is the client's `400`/`409`, never a `500`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admin_support::{catalog_and_admin, spawn_admin_app};
use crate::helpers::{TestApp, json_with_status};

/// The field names of a 400's `errors`.
fn fields(problem: &Value) -> Vec<&str> {
    problem["errors"].as_array().expect("errors").iter().map(|error| error["field"].as_str().expect("field")).collect()
}

/// Regression: the NUL passed the handler's check and failed the table's `CHECK
/// (length(trim(name)) > 0)` (SQLite's `length` stops at a NUL), a 500.
#[tokio::test]
async fn a_nul_in_a_store_name_is_400_and_stores_nothing() {
    let admin = spawn_admin_app().await;
    let before = admin.app.count("stores");

    let problem =
        admin.call(Method::POST, "/api/admin/stores/", Some(json!({"name": "\u{0}"})), StatusCode::BAD_REQUEST).await;
    let with_text = admin
        .call(
            Method::POST,
            "/api/admin/stores/",
            Some(json!({"name": "Shop\u{0}", "location": "Lisbon"})),
            StatusCode::BAD_REQUEST,
        )
        .await;

    assert_eq!(fields(&problem), ["name"]);
    assert_eq!(fields(&with_text), ["name"]);
    assert_eq!(admin.app.count("stores"), before);
    admin.shutdown().await;
}

#[tokio::test]
async fn a_nul_in_a_product_title_is_400_and_stores_nothing() {
    let admin = spawn_admin_app().await;
    let before = admin.app.count("products");
    let body = json!({"title": "\u{0}Kettle", "description": "", "price": "1.00", "category_id": 1});

    let problem = admin.call(Method::POST, "/api/admin/products/", Some(body), StatusCode::BAD_REQUEST).await;

    assert_eq!(fields(&problem), ["title"]);
    assert_eq!(admin.app.count("products"), before);
    admin.shutdown().await;
}

#[tokio::test]
async fn every_name_field_refuses_each_control_character_and_a_description_keeps_line_breaks() {
    let admin = spawn_admin_app().await;
    for code in [0x01, 0x09, 0x0A, 0x0D, 0x1B, 0x1F, 0x7F] {
        let bad = format!("A{}B", char::from_u32(code).expect("a char"));
        let cases = [
            ("/api/admin/categories/", json!({"name": bad})),
            ("/api/admin/stores/", json!({"name": "Shop", "location": bad})),
            ("/api/admin/products/", json!({"title": bad, "price": "1.00", "category_id": 1})),
        ];
        for (path, body) in cases {
            let problem = admin.call(Method::POST, path, Some(body), StatusCode::BAD_REQUEST).await;
            assert_eq!(fields(&problem).len(), 1, "U+{code:04X} at {path}: {problem}");
        }
    }
    let kept = "Heavy.\r\n\tSeasoned\nready";
    let body = json!({"title": "Cast Iron Pan", "description": kept, "price": "30.00", "category_id": 1});
    let created = admin.call(Method::POST, "/api/admin/products/", Some(body), StatusCode::CREATED).await;
    assert_eq!(created["description"], kept);
    let listed = admin.call(Method::GET, "/api/admin/products/?q=kettle%0A", None, StatusCode::BAD_REQUEST).await;
    assert_eq!(fields(&listed), ["q"], "a trailing LF is refused, not trimmed away");
    let bell = json!({"title": "Bell", "description": "ding\u{7}", "price": "3.00", "category_id": 1});
    let problem = admin.call(Method::POST, "/api/admin/products/", Some(bell), StatusCode::BAD_REQUEST).await;
    assert_eq!(fields(&problem), ["description"]);
    admin.shutdown().await;
}

#[tokio::test]
async fn a_control_character_in_a_query_word_is_400_on_every_public_route() {
    let app = TestApp::builder().fixture(catalog_and_admin).spawn().await;
    for path in [
        "/api/search/products/?q=steel%00kettle",
        "/api/search/products/?q=kettle%09steel",
        "/api/search/products/?category=Kit%1Bchen",
        "/api/search/suggest/?q=ket%7Ftle",
        "/stores/1/inventory/?q=kett%0Ale",
    ] {
        let problem = json_with_status(app.get(path).await, StatusCode::BAD_REQUEST).await;
        assert!(!fields(&problem).is_empty(), "{path}: {problem}");
    }
    json_with_status(app.get("/api/search/products/?q=steel%20kettle").await, StatusCode::OK).await;
    app.shutdown().await;
}

/// The net under the parsers: a rule only the database knows (here a unique index and a
/// trigger a fixture adds, standing in for any constraint a parser misses) comes back as the
/// client's error with SQLite's words for the rule.
#[tokio::test]
async fn a_rule_only_the_database_enforces_is_409_or_400_never_500() {
    let admin = TestApp::builder()
        .fixture(|conn| {
            catalog_and_admin(conn);
            conn.execute_batch(
                "CREATE UNIQUE INDEX stores_name_once ON stores (name);
                 CREATE TRIGGER stores_no_nowhere BEFORE INSERT ON stores WHEN NEW.location = 'Nowhere'
                 BEGIN SELECT RAISE(ABORT, 'no store may be nowhere'); END;",
            )
            .expect("extra rules");
        })
        .spawn()
        .await;
    let token =
        crate::admin_support::login(&admin, crate::admin_support::USERNAME, crate::admin_support::PASSWORD).await;
    let post = |body: Value| admin.client.post(admin.url("/api/admin/stores/")).bearer_auth(&token).json(&body).send();

    json_with_status(post(json!({"name": "Twin"})).await.expect("request"), StatusCode::CREATED).await;
    let duplicate = json_with_status(post(json!({"name": "Twin"})).await.expect("request"), StatusCode::CONFLICT).await;
    let refused = json_with_status(
        post(json!({"name": "Lost", "location": "Nowhere"})).await.expect("request"),
        StatusCode::BAD_REQUEST,
    )
    .await;

    assert!(
        duplicate["detail"].as_str().is_some_and(|detail| detail.contains("UNIQUE constraint failed: stores.name")),
        "{duplicate}"
    );
    assert!(refused["detail"].as_str().is_some_and(|detail| detail.contains("no store may be nowhere")), "{refused}");
    let stored: i64 = admin
        .db()
        .query_row("SELECT COUNT(*) FROM stores WHERE name IN ('Twin', 'Lost')", [], |row| row.get(0))
        .expect("count");
    assert_eq!(stored, 1);
    admin.shutdown().await;
}
