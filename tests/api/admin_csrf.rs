//! Every form of the admin page refuses a POST without this session's form token, or with a
//! wrong one: 400, the page's "expired" message, and nothing changed. One table, one row per
//! form (the login form's double-submit token is tested in `admin_login`).

use reqwest::StatusCode;
use rusqlite::Connection;
use serde_json::json;

use crate::admin_support::{AdminApp, PASSWORD, catalog_and_admin};
use crate::admin_web::{client, csrf_of, log_in, page, post_form};
use crate::helpers::{TestApp, json_with_status};

/// What the page answers a form whose token is missing or wrong.
const REFUSAL: &str = "the form has expired or did not come from this site";

/// Every form the admin page posts, with fields that would be accepted with the right token.
const FORMS: [(&str, &[(&str, &str)]); 16] = [
    ("/admin/logout/", &[]),
    (
        "/admin/accounts/password/",
        &[
            ("current_password", PASSWORD),
            ("new_password", "another long password"),
            ("new_password_again", "another long password"),
        ],
    ),
    ("/admin/accounts/sessions/", &[]),
    ("/admin/categories/new/", &[("name", "Injected")]),
    ("/admin/categories/1/", &[("name", "Renamed")]),
    ("/admin/categories/3/delete/", &[]),
    ("/admin/stores/new/", &[("name", "Injected"), ("location", "Anywhere")]),
    ("/admin/stores/1/", &[("name", "Renamed"), ("location", "Anywhere")]),
    ("/admin/stores/3/delete/", &[]),
    ("/admin/stores/1/inventory/1/", &[("quantity", "999")]),
    ("/admin/jobs/1/retry/", &[]),
    ("/admin/orders/1/cancel/", &[]),
    ("/admin/products/new/", &[("title", "Injected"), ("description", ""), ("price", "1.00"), ("category_id", "1")]),
    ("/admin/products/1/", &[("title", "Renamed"), ("description", ""), ("price", "1.00"), ("category_id", "1")]),
    ("/admin/products/5/delete/", &[]),
    ("/admin/products/1/restock/", &[("store_id", "1"), ("quantity", "5")]),
];

/// The small catalog and admin, plus a category and a store nothing uses (so deleting them
/// would succeed).
fn fixture(conn: &Connection) {
    catalog_and_admin(conn);
    conn.execute_batch(
        "INSERT INTO categories (id, name) VALUES (3, 'Spare');
         INSERT INTO stores (id, name, location) VALUES (3, 'Spare', 'Nowhere');",
    )
    .expect("spare rows");
}

/// Everything any of the forms could change, as one comparable text.
fn state_of(app: &TestApp) -> String {
    let db = app.db();
    let text = |sql: &str| db.query_row(sql, [], |row| row.get::<_, Option<String>>(0)).expect(sql).unwrap_or_default();
    [
        "SELECT group_concat(id || name, ',') FROM categories",
        "SELECT group_concat(id || name || location, ',') FROM stores",
        "SELECT group_concat(id || title || price_cents || category_id, ',') FROM products",
        "SELECT group_concat(store_id || ':' || product_id || ':' || quantity, ',') FROM inventory",
        "SELECT group_concat(id || status, ',') FROM orders",
        "SELECT group_concat(id || state || attempts, ',') FROM jobs",
        "SELECT group_concat(hex(token_sha256), ',') FROM admin_sessions",
        "SELECT group_concat(password_hash, ',') FROM admin_users",
        "SELECT CAST(COUNT(*) AS TEXT) FROM admin_log",
    ]
    .map(text)
    .join("\n")
}

#[tokio::test]
async fn every_admin_form_refuses_a_missing_or_wrong_form_token_and_changes_nothing() {
    let app = TestApp::builder().fixture(fixture).spawn().await;
    let order = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]});
    json_with_status(app.post_order(&order).await, StatusCode::CREATED).await;
    let admin = AdminApp { app, token: String::new() };
    let cookie = log_in(&admin).await;
    let right = csrf_of(&page(&admin, &cookie, "/admin/").await);
    let wrong = "0".repeat(right.len());
    let before = state_of(&admin.app);

    for (path, fields) in FORMS {
        for token in [None, Some(wrong.as_str()), Some("")] {
            let mut form: Vec<(&str, &str)> = fields.to_vec();
            if let Some(token) = token {
                form.push(("csrf", token));
            }
            let response = post_form(&admin, Some(&cookie), path, &form).await;
            let status = response.status();
            let body = response.text().await.expect("body");
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path} with token {token:?}: {body}");
            assert!(body.contains(REFUSAL), "{path} with token {token:?}: {body}");
            assert_eq!(state_of(&admin.app), before, "{path} with token {token:?} changed something");
        }
    }
    // The session survived every refused logout; the right token still works.
    let dashboard = client().get(admin.app.url("/admin/")).header("cookie", &cookie).send().await.expect("request");
    assert_eq!(dashboard.status(), StatusCode::OK);
    let renamed =
        post_form(&admin, Some(&cookie), "/admin/categories/3/", &[("csrf", &right), ("name", "Renamed")]).await;
    assert_eq!(renamed.status(), StatusCode::SEE_OTHER, "the table's fields are accepted with the right token");
    admin.shutdown().await;
}
