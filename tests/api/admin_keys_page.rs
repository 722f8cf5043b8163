//! The admin page's API keys: create (the secret shown once, never stored), list by prefix,
//! edit, revoke, each in the key's history; the key works, then is refused once revoked.

use reqwest::header::COOKIE;
use reqwest::{Method, StatusCode};

use crate::admin_support::spawn_admin_app;
use crate::admin_web::{client, csrf_of, log_in, page, post_form};

#[tokio::test]
async fn an_admin_creates_edits_and_revokes_a_key_on_the_page() {
    let admin = spawn_admin_app().await;
    let cookie = log_in(&admin).await;
    let list = page(&admin, &cookie, "/admin/keys/").await;
    let csrf = csrf_of(&list);

    let created = post_form(
        &admin,
        Some(&cookie),
        "/admin/keys/",
        &[("csrf", &csrf), ("name", "storefront"), ("action:search", "on"), ("rate_limit", "5/10")],
    )
    .await;
    assert_eq!(created.status(), StatusCode::OK);
    assert_eq!(created.headers()["cache-control"], "no-store");
    let html = created.text().await.expect("html");
    let start = html.find("id=\"secret\">").expect("the secret, shown once") + "id=\"secret\">".len();
    let secret = &html[start..start + 46];
    assert!(secret.starts_with("ak_"), "{secret}");
    let list = page(&admin, &cookie, "/admin/keys/").await;
    assert!(list.contains(&secret[..12]) && !list.contains(secret), "the list shows the prefix, never the secret");

    let id: i64 = admin.app.db().query_row("SELECT id FROM api_keys", [], |row| row.get(0)).expect("one key");
    let stored: Vec<u8> =
        admin.app.db().query_row("SELECT secret_sha256 FROM api_keys", [], |row| row.get(0)).expect("one key");
    use sha2::Digest;
    assert_eq!(stored, sha2::Sha256::digest(secret.as_bytes()).to_vec(), "stored only as its hash");
    let key_page = page(&admin, &cookie, &format!("/admin/keys/{id}/")).await;
    let edited = post_form(
        &admin,
        Some(&cookie),
        &format!("/admin/keys/{id}/"),
        &[
            ("csrf", &csrf_of(&key_page)),
            ("name", "storefront-eu"),
            ("description", ""),
            ("expires_at", ""),
            ("rate_limit", ""),
        ],
    )
    .await;
    assert_eq!(edited.status(), StatusCode::OK);
    let name: String =
        admin.app.db().query_row("SELECT name FROM api_keys WHERE id = ?1", [id], |row| row.get(0)).expect("row");
    assert_eq!(name, "storefront-eu");

    let invalid = post_form(&admin, Some(&cookie), "/admin/keys/", &[("csrf", &csrf), ("name", "no actions")]).await;
    assert_eq!(invalid.status(), StatusCode::BAD_REQUEST, "a key needs an action");

    let confirm = page(&admin, &cookie, &format!("/admin/keys/{id}/revoke/")).await;
    let revoked =
        post_form(&admin, Some(&cookie), &format!("/admin/keys/{id}/revoke/"), &[("csrf", &csrf_of(&confirm))]).await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    assert_eq!(admin.app.count("api_keys"), 0);
    let logged: i64 = admin
        .app
        .db()
        .query_row("SELECT COUNT(*) FROM admin_log WHERE object_type = 'api_key' AND object_id = ?1", [id], |row| {
            row.get(0)
        })
        .expect("count");
    assert_eq!(logged, 3, "create, change and revoke are in the history");
    admin.shutdown().await;
}

#[tokio::test]
async fn the_key_forms_refuse_a_missing_csrf_token() {
    let admin = spawn_admin_app().await;
    let cookie = log_in(&admin).await;
    let forged = post_form(&admin, Some(&cookie), "/admin/keys/", &[("name", "x"), ("action:search", "on")]).await;
    assert!(forged.status().is_client_error(), "{}", forged.status());
    assert_eq!(admin.app.count("api_keys"), 0);
    let listed = client()
        .request(Method::GET, admin.app.url("/admin/keys/"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(listed.status(), StatusCode::OK);
    admin.shutdown().await;
}
