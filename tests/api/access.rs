//! Access (contract, "Access: API keys and rate limits"): open and keyed mode, keys and their
//! actions, store scope, expiry, revocation, rate limits, scoped idempotency, and the order in
//! which the gate's answers come.

use aforro::db::admin::api_keys;
use aforro::domain::Timestamp;
use aforro::domain::access::{Action, Actions, NewApiKey, StoreScope};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admin_support::{PASSWORD, USERNAME, catalog_and_admin, login};
use crate::helpers::{TestApp, json_with_status, test_actor};

const MASTER: &str = "master-key-for-tests-0123456789";

async fn keyed_app() -> TestApp {
    TestApp::builder().fixture(catalog_and_admin).master_key(MASTER).spawn().await
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    credential: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app.client.request(method, app.url(path));
    if let Some(credential) = credential {
        request = request.bearer_auth(credential);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("request")
}

/// Creates a key with the master key and returns (id, secret).
async fn create_key(app: &TestApp, body: Value) -> (i64, String) {
    let response = send(app, Method::POST, "/api/keys/", Some(MASTER), Some(body)).await;
    let body = json_with_status(response, StatusCode::CREATED).await;
    (body["id"].as_i64().expect("an id"), body["key"].as_str().expect("a secret").to_owned())
}

fn order(store_id: i64) -> Value {
    json!({"store_id": store_id, "items": [{"product_id": 1, "quantity_requested": 1}]})
}

#[tokio::test]
async fn open_mode_serves_public_routes_to_anyone_and_ignores_a_bearer_header() {
    let app = TestApp::builder().fixture(catalog_and_admin).spawn().await;
    assert_eq!(app.get("/api/search/products/?q=kettle").await.status(), StatusCode::OK);
    let with_junk = send(&app, Method::GET, "/stores/1/inventory/", Some("not-a-key"), None).await;
    assert_eq!(with_junk.status(), StatusCode::OK, "open mode ignores Authorization on public routes");
    let admin = send(&app, Method::GET, "/api/admin/stores/", None, None).await;
    assert_eq!(admin.status(), StatusCode::UNAUTHORIZED, "admin routes still need a token");
    let keys = send(&app, Method::GET, "/api/keys/", None, None).await;
    assert_eq!(keys.status(), StatusCode::UNAUTHORIZED, "key routes still need a token");
    app.shutdown().await;
}

#[tokio::test]
async fn open_mode_lets_an_admin_create_keys_that_count_once_keyed() {
    let app = TestApp::builder().fixture(catalog_and_admin).spawn().await;
    let token = login(&app, USERNAME, PASSWORD).await;
    let response =
        send(&app, Method::POST, "/api/keys/", Some(&token), Some(json!({"name": "shop", "actions": ["search"]})))
            .await;
    let body = json_with_status(response, StatusCode::CREATED).await;
    assert!(body["key"].as_str().expect("a secret").starts_with("ak_"));
    app.shutdown().await;
}

#[tokio::test]
async fn keyed_mode_needs_a_credential_except_on_the_open_routes() {
    let app = keyed_app().await;
    let refused = send(&app, Method::GET, "/api/search/products/?q=kettle", None, None).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(refused.headers()["www-authenticate"], "Bearer");
    json_with_status(refused, StatusCode::UNAUTHORIZED).await;
    let wrong =
        send(&app, Method::GET, "/stores/1/orders/", Some("ak_wrongwrongwrongwrongwrongwrongwrongwrongwro"), None)
            .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    for open in ["/healthz", "/readyz", "/openapi.json", "/docs/"] {
        assert_eq!(app.get(open).await.status(), StatusCode::OK, "{open} stays open");
    }
    let token = login(&app, USERNAME, PASSWORD).await;
    for credential in [MASTER, token.as_str()] {
        let response = send(&app, Method::GET, "/api/search/products/?q=kettle", Some(credential), None).await;
        assert_eq!(response.status(), StatusCode::OK, "the master key and an admin token may do everything");
        let response = send(&app, Method::GET, "/api/admin/stores/", Some(credential), None).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    app.shutdown().await;
}

#[tokio::test]
async fn a_key_may_do_its_actions_and_nothing_else() {
    let app = keyed_app().await;
    let (_, search_key) = create_key(&app, json!({"name": "storefront", "actions": ["search"]})).await;
    let allowed = send(&app, Method::GET, "/api/search/suggest/?q=kett", Some(&search_key), None).await;
    assert_eq!(allowed.status(), StatusCode::OK);
    let forbidden = send(&app, Method::POST, "/orders/", Some(&search_key), Some(order(1))).await;
    json_with_status(forbidden, StatusCode::FORBIDDEN).await;
    let admin = send(&app, Method::GET, "/api/admin/stores/", Some(&search_key), None).await;
    assert_eq!(admin.status(), StatusCode::FORBIDDEN);
    let (_, stock_key) = create_key(&app, json!({"name": "erp", "actions": ["stock.write"]})).await;
    let set =
        send(&app, Method::PUT, "/api/admin/stores/1/inventory/2/", Some(&stock_key), Some(json!({"quantity": 9})))
            .await;
    assert_eq!(set.status(), StatusCode::OK, "stock.write reaches the admin inventory routes");
    let other_admin = send(&app, Method::GET, "/api/admin/products/", Some(&stock_key), None).await;
    assert_eq!(other_admin.status(), StatusCode::FORBIDDEN, "but no other admin route");
    app.shutdown().await;
}

#[tokio::test]
async fn a_new_key_is_shown_once_and_stored_only_as_its_hash() {
    let app = keyed_app().await;
    let response = send(
        &app,
        Method::POST,
        "/api/keys/",
        Some(MASTER),
        Some(json!({"name": "till", "actions": ["orders.create"], "store_ids": [1]})),
    )
    .await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let created = json_with_status(response, StatusCode::CREATED).await;
    let secret = created["key"].as_str().expect("a secret");
    assert_eq!(secret.len(), 46);
    assert_eq!(created["prefix"], json!(&secret[..12]));
    assert_eq!(created["store_ids"], json!([1]));
    let id = created["id"].as_i64().expect("an id");
    let shown = json_with_status(
        send(&app, Method::GET, &format!("/api/keys/{id}/"), Some(MASTER), None).await,
        StatusCode::OK,
    )
    .await;
    assert!(shown.get("key").is_none(), "the secret is never shown again");
    let stored: Vec<u8> = app
        .db()
        .query_row("SELECT secret_sha256 FROM api_keys WHERE id = ?1", [id], |row| row.get(0))
        .expect("the row");
    use sha2::Digest;
    assert_eq!(stored, sha2::Sha256::digest(secret.as_bytes()).to_vec());
    let logged: i64 = app
        .db()
        .query_row("SELECT COUNT(*) FROM admin_log WHERE object_type = 'api_key' AND object_id = ?1", [id], |row| {
            row.get(0)
        })
        .expect("count");
    assert_eq!(logged, 1, "the creation is in the admin history");
    app.shutdown().await;
}

#[tokio::test]
async fn a_revoked_key_is_refused_by_the_very_next_request_and_a_second_revoke_is_404() {
    let app = keyed_app().await;
    let (id, key) = create_key(&app, json!({"name": "storefront", "actions": ["search"]})).await;
    assert_eq!(send(&app, Method::GET, "/api/search/products/", Some(&key), None).await.status(), StatusCode::OK);
    let revoked = send(&app, Method::DELETE, &format!("/api/keys/{id}/"), Some(MASTER), None).await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        send(&app, Method::GET, "/api/search/products/", Some(&key), None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let again = send(&app, Method::DELETE, &format!("/api/keys/{id}/"), Some(MASTER), None).await;
    json_with_status(again, StatusCode::NOT_FOUND).await;
    app.shutdown().await;
}

#[tokio::test]
async fn an_expired_key_is_refused() {
    let app = TestApp::builder()
        .fixture(|conn| {
            catalog_and_admin(conn);
            let key = NewApiKey {
                name: "old".into(),
                description: String::new(),
                actions: Actions::of([Action::Search]),
                stores: StoreScope::Every,
                expires_at: Some(Timestamp::from_micros(Timestamp::now().micros - 1)),
                rate_limit: None,
            };
            let (_, secret) = api_keys::create(conn, &test_actor(), &key).expect("a key");
            conn.execute("CREATE TABLE test_secret (secret TEXT)", []).expect("table");
            conn.execute("INSERT INTO test_secret VALUES (?1)", [secret.as_str()]).expect("kept");
        })
        .master_key(MASTER)
        .spawn()
        .await;
    let secret: String = app.db().query_row("SELECT secret FROM test_secret", [], |row| row.get(0)).expect("kept");
    assert_eq!(
        send(&app, Method::GET, "/api/search/products/", Some(&secret), None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let past = send(
        &app,
        Method::POST,
        "/api/keys/",
        Some(MASTER),
        Some(json!({"name": "k", "actions": ["search"], "expires_at": "2020-01-01T00:00:00Z"})),
    )
    .await;
    json_with_status(past, StatusCode::BAD_REQUEST).await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_key_creates_only_keys_within_its_own_reach() {
    let app = keyed_app().await;
    let (_, manager) = create_key(&app, json!({"name": "manager", "actions": ["keys.manage", "search"]})).await;
    let narrower =
        send(&app, Method::POST, "/api/keys/", Some(&manager), Some(json!({"name": "shop", "actions": ["search"]})))
            .await;
    assert_eq!(narrower.status(), StatusCode::CREATED);
    let wider = send(
        &app,
        Method::POST,
        "/api/keys/",
        Some(&manager),
        Some(json!({"name": "x", "actions": ["orders.create"]})),
    )
    .await;
    json_with_status(wider, StatusCode::FORBIDDEN).await;
    let (_, manage_only) = create_key(&app, json!({"name": "m", "actions": ["keys.manage"]})).await;
    let anything =
        send(&app, Method::POST, "/api/keys/", Some(&manage_only), Some(json!({"name": "x", "actions": ["search"]})))
            .await;
    assert_eq!(anything.status(), StatusCode::FORBIDDEN, "keys.manage alone creates nothing wider");
    let scoped_manager = send(
        &app,
        Method::POST,
        "/api/keys/",
        Some(MASTER),
        Some(json!({"name": "s", "actions": ["keys.manage"], "store_ids": [1]})),
    )
    .await;
    json_with_status(scoped_manager, StatusCode::BAD_REQUEST).await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_patch_changes_name_expiry_and_limit_but_never_actions_or_stores() {
    let app = keyed_app().await;
    let (id, _) = create_key(&app, json!({"name": "shop", "actions": ["search"]})).await;
    let path = format!("/api/keys/{id}/");
    let refused = send(&app, Method::PATCH, &path, Some(MASTER), Some(json!({"actions": ["*"]}))).await;
    json_with_status(refused, StatusCode::BAD_REQUEST).await;
    let changed = send(&app, Method::PATCH, &path, Some(MASTER), Some(json!({"name": "shop-eu", "expires_at": "2099-01-01T01:00:00+01:00", "rate_limit": {"per_second": 5, "burst": 10}}))).await;
    let body = json_with_status(changed, StatusCode::OK).await;
    assert_eq!(body["name"], "shop-eu");
    assert_eq!(body["expires_at"], "2099-01-01T00:00:00.000000Z", "answered in UTC");
    assert_eq!(body["rate_limit"], json!({"per_second": 5, "burst": 10}));
    assert_eq!(body["actions"], json!(["search"]));
    let list = json_with_status(send(&app, Method::GET, "/api/keys/", Some(MASTER), None).await, StatusCode::OK).await;
    assert_eq!(list["count"], 1);
    app.shutdown().await;
}

#[tokio::test]
async fn a_store_scoped_key_names_only_its_stores_and_sees_no_other_store_s_orders() {
    let app = keyed_app().await;
    let (_, till) = create_key(&app, json!({"name": "till", "actions": ["orders.create", "orders.read", "orders.cancel", "stores.read", "search"], "store_ids": [1]})).await;
    // Another store's order, placed with the master key.
    let theirs =
        json_with_status(send(&app, Method::POST, "/orders/", Some(MASTER), Some(order(2))).await, StatusCode::CREATED)
            .await;
    let their_id = theirs["id"].as_i64().expect("an id");
    let ours =
        json_with_status(send(&app, Method::POST, "/orders/", Some(&till), Some(order(1))).await, StatusCode::CREATED)
            .await;
    assert_eq!(ours["store_id"], 1);
    json_with_status(send(&app, Method::POST, "/orders/", Some(&till), Some(order(2))).await, StatusCode::FORBIDDEN)
        .await;
    for path in
        ["/stores/2/orders/", "/stores/2/inventory/", "/stores/999/inventory/", "/api/search/products/?store_id=2"]
    {
        let response = send(&app, Method::GET, path, Some(&till), None).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}: another store, whether or not it exists");
    }
    assert_eq!(
        send(&app, Method::GET, "/api/search/products/?q=kettle", Some(&till), None).await.status(),
        StatusCode::OK
    );
    assert_eq!(send(&app, Method::GET, "/stores/1/inventory/", Some(&till), None).await.status(), StatusCode::OK);
    let read = send(&app, Method::GET, &format!("/orders/{their_id}/"), Some(&till), None).await;
    json_with_status(read, StatusCode::NOT_FOUND).await;
    let cancel = send(&app, Method::POST, &format!("/orders/{their_id}/cancel/"), Some(&till), None).await;
    json_with_status(cancel, StatusCode::NOT_FOUND).await;
    assert_eq!(app.stock(2, 1), 6, "the other store's order was not cancelled");
    app.shutdown().await;
}

#[tokio::test]
async fn checks_come_in_the_contract_s_order() {
    let app = keyed_app().await;
    let bad_body = json!({"store_id": 2, "items": []});
    // 401 before 400.
    json_with_status(
        send(&app, Method::POST, "/orders/", None, Some(bad_body.clone())).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // 403 for the action before 400.
    let (_, search_key) = create_key(&app, json!({"name": "s", "actions": ["search"]})).await;
    json_with_status(
        send(&app, Method::POST, "/orders/", Some(&search_key), Some(bad_body.clone())).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // 400 before the store's 403.
    let (_, till) = create_key(&app, json!({"name": "t", "actions": ["orders.create"], "store_ids": [1]})).await;
    json_with_status(send(&app, Method::POST, "/orders/", Some(&till), Some(bad_body)).await, StatusCode::BAD_REQUEST)
        .await;
    // Routing before 401: an unknown route is 404 and a wrong method 405 without a credential.
    assert_eq!(app.get("/nowhere/").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(send(&app, Method::DELETE, "/orders/", None, None).await.status(), StatusCode::METHOD_NOT_ALLOWED);
    app.shutdown().await;
}

#[tokio::test]
async fn a_key_past_its_rate_limit_is_answered_429_with_retry_after() {
    let app = keyed_app().await;
    let (_, key) =
        create_key(&app, json!({"name": "s", "actions": ["search"], "rate_limit": {"per_second": 1, "burst": 2}}))
            .await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(send(&app, Method::GET, "/api/search/products/", Some(&key), None).await);
    }
    let last = statuses.pop().expect("three answers");
    assert!(statuses.iter().all(|response| response.status() == StatusCode::OK));
    let retry_after: u64 = last.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!(retry_after >= 1);
    json_with_status(last, StatusCode::TOO_MANY_REQUESTS).await;
    let (_, unlimited) = create_key(&app, json!({"name": "u", "actions": ["search"]})).await;
    assert_eq!(
        send(&app, Method::GET, "/api/search/products/", Some(&unlimited), None).await.status(),
        StatusCode::OK,
        "buckets are per key"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn the_anonymous_limit_counts_open_mode_requests_per_address() {
    let app = TestApp::builder().fixture(catalog_and_admin).anonymous_rate_limit(2).spawn().await;
    assert_eq!(app.get("/api/search/products/").await.status(), StatusCode::OK);
    assert_eq!(app.get("/stores/1/inventory/").await.status(), StatusCode::OK);
    let third = app.get("/api/search/products/").await;
    assert!(third.headers().contains_key("retry-after"));
    json_with_status(third, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK, "open routes are not counted");
    app.shutdown().await;
}

#[tokio::test]
async fn the_anonymous_limit_counts_unauthorised_requests_in_keyed_mode() {
    let app = TestApp::builder().fixture(catalog_and_admin).master_key(MASTER).anonymous_rate_limit(1).spawn().await;
    assert_eq!(app.get("/api/search/products/").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/api/search/products/").await.status(), StatusCode::TOO_MANY_REQUESTS);
    let keyed = send(&app, Method::GET, "/api/search/products/", Some(MASTER), None).await;
    assert_eq!(keyed.status(), StatusCode::OK, "a valid credential is not held to the address's limit");
    app.shutdown().await;
}

#[tokio::test]
async fn idempotency_keys_are_scoped_per_api_key() {
    let app = keyed_app().await;
    let (_, first) = create_key(&app, json!({"name": "a", "actions": ["orders.create"]})).await;
    let (_, second) = create_key(&app, json!({"name": "b", "actions": ["orders.create"]})).await;
    let place = |key: String| {
        let request = app
            .client
            .post(app.url("/orders/"))
            .bearer_auth(key)
            .header("Idempotency-Key", "checkout-1")
            .json(&order(1));
        async move { json_with_status(request.send().await.expect("request"), StatusCode::CREATED).await }
    };
    let a = place(first.clone()).await;
    let a_again = place(first).await;
    let b = place(second).await;
    assert_eq!(a["id"], a_again["id"], "a retry with the same API key replays");
    assert_ne!(a["id"], b["id"], "another API key's same Idempotency-Key is another order");
    app.shutdown().await;
}

#[tokio::test]
async fn a_key_made_beside_the_server_is_accepted_once_the_server_polls() {
    let app = keyed_app().await;
    let key = NewApiKey {
        name: "cli".into(),
        description: String::new(),
        actions: Actions::of([Action::Search]),
        stores: StoreScope::Every,
        expires_at: None,
        rate_limit: None,
    };
    let (record, secret) = api_keys::create(&app.db(), &test_actor(), &key).expect("created beside the server");
    app.state.access.poll(&app.state.reads).await.expect("poll");
    assert_eq!(
        send(&app, Method::GET, "/api/search/products/", Some(secret.as_str()), None).await.status(),
        StatusCode::OK
    );
    api_keys::revoke(&app.db(), &test_actor(), record.id).expect("revoked beside the server");
    app.state.access.poll(&app.state.reads).await.expect("poll");
    assert_eq!(
        send(&app, Method::GET, "/api/search/products/", Some(secret.as_str()), None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.shutdown().await;
}

#[tokio::test]
async fn last_use_is_written_in_one_batch_not_per_request() {
    let app = keyed_app().await;
    let (id, key) = create_key(&app, json!({"name": "s", "actions": ["search"]})).await;
    for _ in 0..3 {
        assert_eq!(
            send(&app, Method::GET, "/api/search/suggest/?q=kett", Some(&key), None).await.status(),
            StatusCode::OK
        );
    }
    let stored: Option<i64> =
        app.db().query_row("SELECT last_used_at FROM api_keys WHERE id = ?1", [id], |row| row.get(0)).expect("row");
    assert_eq!(stored, None, "requests write nothing");
    aforro::access::flush_uses(&app.state.access, Some(&app.state.writer)).await;
    let body = json_with_status(
        send(&app, Method::GET, &format!("/api/keys/{id}/"), Some(MASTER), None).await,
        StatusCode::OK,
    )
    .await;
    assert!(body["last_used_at"].is_string(), "{body}");
    app.shutdown().await;
}
