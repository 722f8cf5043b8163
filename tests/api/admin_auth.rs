//! The admin API's authentication: login, logout, and refusing every endpoint without a live
//! token (401 problem+json with `WWW-Authenticate: Bearer`, never data, never a change).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::admin_support::{AdminApp, PASSWORD, USERNAME, login, spawn_admin_app};
use crate::helpers::json_with_status;

/// Every admin endpoint but login, with a body that would be valid.
fn endpoints() -> Vec<(Method, &'static str, Option<Value>)> {
    let product = json!({"title": "Spoon", "price": "1.00", "category_id": 1});
    vec![
        (Method::POST, "/api/admin/logout/", None),
        (Method::GET, "/api/admin/categories/", None),
        (Method::POST, "/api/admin/categories/", Some(json!({"name": "Garden"}))),
        (Method::GET, "/api/admin/categories/1/", None),
        (Method::PUT, "/api/admin/categories/1/", Some(json!({"name": "Cooking"}))),
        (Method::DELETE, "/api/admin/categories/2/", None),
        (Method::GET, "/api/admin/products/", None),
        (Method::POST, "/api/admin/products/", Some(product.clone())),
        (Method::GET, "/api/admin/products/1/", None),
        (Method::PUT, "/api/admin/products/1/", Some(product)),
        (Method::DELETE, "/api/admin/products/2/", None),
        (Method::GET, "/api/admin/stores/", None),
        (Method::POST, "/api/admin/stores/", Some(json!({"name": "Faro"}))),
        (Method::GET, "/api/admin/stores/1/", None),
        (Method::PUT, "/api/admin/stores/1/", Some(json!({"name": "Lisbon"}))),
        (Method::DELETE, "/api/admin/stores/2/", None),
        (Method::PUT, "/api/admin/stores/1/inventory/3/", Some(json!({"quantity": 9}))),
        (Method::POST, "/api/admin/stores/1/inventory/3/adjust/", Some(json!({"delta": 1}))),
        (Method::POST, "/api/admin/stores/1/inventory/3/restock/", Some(json!({"quantity": 1}))),
        (Method::GET, "/api/admin/orders/", None),
    ]
}

async fn assert_refused(admin: &AdminApp, authorization: Option<&str>, case: &str) {
    for (method, path, body) in endpoints() {
        let mut request = admin.app.client.request(method.clone(), admin.app.url(path));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap_or("").to_owned());
        let problem = json_with_status(response, StatusCode::UNAUTHORIZED).await;
        assert_eq!(challenge.as_deref(), Some("Bearer"), "{case}: {method} {path}");
        assert!(problem.get("results").is_none() && problem.get("id").is_none(), "{case}: {method} {path}: {problem}");
    }
}

fn catalog_fingerprint(admin: &AdminApp) -> (i64, i64, i64, i64) {
    let db = admin.app.db();
    let sum = |sql: &str| db.query_row(sql, [], |row| row.get(0)).expect("query");
    (
        sum("SELECT COUNT(*) FROM categories"),
        sum("SELECT COUNT(*) FROM products"),
        sum("SELECT COUNT(*) FROM stores"),
        sum("SELECT COALESCE(SUM(quantity), 0) FROM inventory"),
    )
}

#[tokio::test]
async fn every_admin_endpoint_refuses_a_missing_token() {
    let admin = spawn_admin_app().await;
    let before = catalog_fingerprint(&admin);

    assert_refused(&admin, None, "no header").await;

    assert_eq!(catalog_fingerprint(&admin), before, "nothing changed");
    admin.shutdown().await;
}

#[tokio::test]
async fn every_admin_endpoint_refuses_a_wrong_or_malformed_token() {
    let admin = spawn_admin_app().await;
    let before = catalog_fingerprint(&admin);
    let wrong = format!("Bearer {}", "ab".repeat(32));

    assert_refused(&admin, Some(&wrong), "unknown token").await;
    assert_refused(&admin, Some("Bearer not-a-token"), "malformed token").await;
    assert_refused(&admin, Some(&format!("Basic {}", admin.token)), "other scheme").await;

    assert_eq!(catalog_fingerprint(&admin), before, "nothing changed");
    admin.shutdown().await;
}

#[tokio::test]
async fn every_admin_endpoint_refuses_an_expired_token() {
    let admin = spawn_admin_app().await;
    admin.app.db().execute("UPDATE admin_sessions SET expires_at = 0", []).expect("expire the session");
    let before = catalog_fingerprint(&admin);

    assert_refused(&admin, Some(&format!("Bearer {}", admin.token)), "expired token").await;

    assert_eq!(catalog_fingerprint(&admin), before, "nothing changed");
    admin.shutdown().await;
}

#[tokio::test]
async fn a_live_token_is_accepted() {
    let admin = spawn_admin_app().await;

    let body = admin.call(Method::GET, "/api/admin/stores/", None, StatusCode::OK).await;

    assert_eq!(body["count"], 2);
    admin.shutdown().await;
}

#[tokio::test]
async fn a_wrong_password_or_unknown_user_is_401_and_opens_no_session() {
    let admin = spawn_admin_app().await;
    for (username, password) in [(USERNAME, "wrong password"), ("nobody", PASSWORD)] {
        let response = admin
            .app
            .client
            .post(admin.app.url("/api/admin/login/"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .expect("request");
        let problem = json_with_status(response, StatusCode::UNAUTHORIZED).await;
        assert_eq!(problem["detail"], "wrong username or password");
    }
    assert_eq!(admin.app.count("admin_sessions"), 1, "only the fixture's login");
    admin.shutdown().await;
}

#[tokio::test]
async fn a_login_without_fields_names_them() {
    let admin = spawn_admin_app().await;
    let response =
        admin.app.client.post(admin.app.url("/api/admin/login/")).json(&json!({})).send().await.expect("request");

    let problem = json_with_status(response, StatusCode::BAD_REQUEST).await;

    let fields: Vec<&str> =
        problem["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["username", "password"]);
    admin.shutdown().await;
}

#[tokio::test]
async fn logout_ends_the_session_and_only_that_one() {
    let admin = spawn_admin_app().await;
    let other = login(&admin.app, USERNAME, PASSWORD).await;

    let response = admin.send(Method::POST, "/api/admin/logout/", None).await;

    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(admin.send(Method::GET, "/api/admin/stores/", None).await.status(), StatusCode::UNAUTHORIZED);
    let still =
        admin.app.client.get(admin.app.url("/api/admin/stores/")).bearer_auth(other).send().await.expect("request");
    assert_eq!(still.status(), StatusCode::OK);
    admin.shutdown().await;
}

#[tokio::test]
async fn tokens_are_256_bit_and_stored_only_as_their_hash() {
    let admin = spawn_admin_app().await;

    let stored: Vec<u8> =
        admin.app.db().query_row("SELECT token_sha256 FROM admin_sessions", [], |row| row.get(0)).expect("session");

    let token_bits = hex::decode(&admin.token).expect("the token is hex").len() * 8;
    assert_eq!(token_bits, 256);
    // The stored value is exactly the SHA-256 of the token as the client holds it (its 64 hex
    // digits), computed here independently of the server's code.
    let digest = sha2::Sha256::digest(admin.token.as_bytes());
    assert_eq!(stored, digest.as_slice(), "stored == SHA-256(token)");
    admin.shutdown().await;
}
