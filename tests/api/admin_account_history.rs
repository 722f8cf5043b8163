//! An admin account's history: a password change and "sign out other sessions" are recorded
//! (who, when, what) in the same write, shown on the accounts page, and never hold the
//! password, its hash or a token.

use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};

use crate::admin_support::{AdminApp, PASSWORD, USERNAME, spawn_admin_app};
use crate::admin_web::{csrf_of, log_in, page, post_form};

const NEW_PASSWORD: &str = "another long one";

/// The account history rows in the database: (object_id, username, action, changes).
fn account_log(admin: &AdminApp) -> Vec<(i64, String, String, Value)> {
    let conn = admin.app.db();
    let mut stmt = conn
        .prepare("SELECT object_id, username, action, changes FROM admin_log WHERE object_type = 'admin' ORDER BY id")
        .expect("query");
    stmt.query_map([], |row| {
        let changes: String = row.get(3)?;
        Ok((row.get(0)?, row.get(1)?, row.get(2)?, serde_json::from_str(&changes).expect("JSON changes")))
    })
    .expect("rows")
    .collect::<rusqlite::Result<_>>()
    .expect("rows")
}

fn admin_id(admin: &AdminApp) -> i64 {
    admin
        .app
        .db()
        .query_row("SELECT id FROM admin_users WHERE username = ?1", [USERNAME], |row| row.get(0))
        .expect("id")
}

/// The password form with the current password `current`.
async fn change_password(admin: &AdminApp, cookie: &str, current: &str) -> reqwest::Response {
    let csrf = csrf_of(&page(admin, cookie, "/admin/accounts/").await);
    let form = [
        ("csrf", csrf.as_str()),
        ("current_password", current),
        ("new_password", NEW_PASSWORD),
        ("new_password_again", NEW_PASSWORD),
    ];
    post_form(admin, Some(cookie), "/admin/accounts/password/", &form).await
}

/// Everything a history must never show: both passwords, the stored hash, both tokens.
fn secrets(admin: &AdminApp, cookie: &str) -> Vec<String> {
    let hash: String = admin
        .app
        .db()
        .query_row("SELECT password_hash FROM admin_users WHERE username = ?1", [USERNAME], |row| row.get(0))
        .expect("hash");
    let cookie_token = cookie.split_once('=').expect("name=value").1.to_owned();
    vec![PASSWORD.to_owned(), NEW_PASSWORD.to_owned(), hash, admin.token.clone(), cookie_token]
}

#[tokio::test]
async fn a_password_change_is_recorded_in_the_account_history_without_any_secret() {
    // Two sessions: the page's cookie and the API token spawn_admin_app opened.
    let admin = spawn_admin_app().await;
    let cookie = log_in(&admin).await;

    let response = change_password(&admin, &cookie, PASSWORD).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let changes = json!({"password": ["old", "new"], "live sessions": [2, 1]});
    assert_eq!(account_log(&admin), [(admin_id(&admin), USERNAME.to_owned(), "change".to_owned(), changes)]);
    let location = response.headers()[LOCATION].to_str().expect("ascii").to_owned();
    let html = page(&admin, &cookie, &location).await;
    let history = &html[html.find("id=\"history\"").expect("a history table")..];
    assert!(history.contains("password") && history.contains("live sessions") && history.contains(USERNAME));
    let stored: String =
        admin.app.db().query_row("SELECT group_concat(changes) FROM admin_log", [], |row| row.get(0)).expect("log");
    for secret in secrets(&admin, &cookie) {
        assert!(!html.contains(&secret) && !stored.contains(&secret), "the history shows a secret");
    }
    admin.shutdown().await;
}

#[tokio::test]
async fn a_refused_password_change_records_nothing() {
    let admin = spawn_admin_app().await;
    let cookie = log_in(&admin).await;

    let response = change_password(&admin, &cookie, "not the password").await;

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(account_log(&admin), []);
    assert!(page(&admin, &cookie, "/admin/accounts/").await.contains("id=\"history-empty\""));
    admin.shutdown().await;
}

#[tokio::test]
async fn signing_out_other_sessions_is_recorded_in_the_account_history() {
    let admin = spawn_admin_app().await;
    let cookie = log_in(&admin).await;
    let csrf = csrf_of(&page(&admin, &cookie, "/admin/accounts/").await);

    let response = post_form(&admin, Some(&cookie), "/admin/accounts/sessions/", &[("csrf", csrf.as_str())]).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let changes = json!({"live sessions": [2, 1]});
    assert_eq!(account_log(&admin), [(admin_id(&admin), USERNAME.to_owned(), "change".to_owned(), changes)]);
    let html = page(&admin, &cookie, "/admin/accounts/?done=sessions").await;
    assert!(html[html.find("id=\"history\"").expect("a history table")..].contains("live sessions"));
    for secret in secrets(&admin, &cookie) {
        assert!(!html.contains(&secret), "the page shows a secret");
    }
    admin.shutdown().await;
}
