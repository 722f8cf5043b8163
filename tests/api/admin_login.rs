//! Login abuse: failed attempts limited per (username, client address) on the API and the
//! form (429 with `Retry-After`), and the form's double-submit CSRF token (403 without it).

use std::net::{IpAddr, Ipv4Addr};

use aforro::app::login_throttle::LOGIN_BURST;
use reqwest::header::{COOKIE, RETRY_AFTER, SET_COOKIE};
use reqwest::{Client, Response, StatusCode};
use serde_json::json;

use crate::admin_support::{AdminApp, PASSWORD, USERNAME, catalog_and_admin};
use crate::admin_web::{client, csrf_of, post_form, post_login_form, session_cookie_of};
use crate::helpers::{TestApp, json_with_status};

/// Another loopback address: Linux routes all of 127.0.0.0/8 to lo, so a client bound here
/// reaches the server at 127.0.0.1 from a different source address.
const OTHER_LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// The admin app without the fixture's API login: every attempt, successful or not, counts
/// against the limit, and these tests count from zero.
async fn spawn_app_not_logged_in() -> AdminApp {
    let app = TestApp::builder().fixture(catalog_and_admin).spawn().await;
    AdminApp { app, token: String::new() }
}

async fn api_login(admin: &AdminApp, client: &Client, username: &str, password: &str) -> Response {
    client
        .post(admin.app.url("/api/admin/login/"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("request")
}

/// The `Retry-After` seconds of a response; panics without one.
fn retry_after(response: &Response) -> u64 {
    let value = response.headers().get(RETRY_AFTER).expect("a Retry-After header");
    value.to_str().expect("ascii").parse().expect("whole seconds")
}

/// Fails `LOGIN_BURST` API logins of `username` from the default client, each a 401.
async fn use_up_attempts(admin: &AdminApp, username: &str) {
    for attempt in 1..=LOGIN_BURST {
        let response = api_login(admin, &admin.app.client, username, "wrong password").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
}

#[tokio::test]
async fn the_api_answers_429_with_retry_after_once_the_attempts_are_used_even_for_the_right_password() {
    let admin = spawn_app_not_logged_in().await;
    use_up_attempts(&admin, USERNAME).await;

    let sixth = api_login(&admin, &admin.app.client, USERNAME, "wrong password").await;
    let wait = retry_after(&sixth);
    let problem = json_with_status(sixth, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(problem["status"], 429);
    // One attempt is earned back every 15 minutes / 5 = 180 s.
    assert!((1..=180).contains(&wait), "Retry-After {wait}");

    let right = api_login(&admin, &admin.app.client, USERNAME, PASSWORD).await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS, "the right password waits too");
    assert_eq!(admin.app.count("admin_sessions"), 0, "nobody logged in");
    admin.shutdown().await;
}

#[tokio::test]
async fn another_account_or_another_address_is_not_blocked() {
    let admin = spawn_app_not_logged_in().await;
    use_up_attempts(&admin, USERNAME).await;
    let blocked = api_login(&admin, &admin.app.client, USERNAME, PASSWORD).await;
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);

    // Another account from the same address: its own attempts (a 401, not a 429).
    let other_account = api_login(&admin, &admin.app.client, "somebody else", "wrong password").await;
    assert_eq!(other_account.status(), StatusCode::UNAUTHORIZED);

    // The same account from another address logs in.
    let elsewhere = Client::builder().local_address(OTHER_LOOPBACK).build().expect("client");
    let response = api_login(&admin, &elsewhere, USERNAME, PASSWORD).await;
    let body = json_with_status(response, StatusCode::OK).await;
    assert!(body["token"].is_string(), "{body}");
    admin.shutdown().await;
}

#[tokio::test]
async fn the_form_answers_an_html_429_with_retry_after_once_the_attempts_are_used() {
    let admin = spawn_app_not_logged_in().await;
    for attempt in 1..=LOGIN_BURST {
        let response = post_login_form(&admin, USERNAME, "wrong password").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }

    let sixth = post_login_form(&admin, USERNAME, PASSWORD).await;

    assert_eq!(sixth.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!((1..=180).contains(&retry_after(&sixth)));
    assert!(sixth.headers()["content-type"].to_str().expect("ascii").starts_with("text/html"));
    assert!(sixth.text().await.expect("html").contains("too many login attempts"));
    assert_eq!(admin.app.count("admin_sessions"), 0, "nobody logged in");
    admin.shutdown().await;
}

#[tokio::test]
async fn the_form_without_its_csrf_token_or_with_a_wrong_one_is_403_and_logs_nobody_in() {
    let admin = spawn_app_not_logged_in().await;
    let form = client().get(admin.app.url("/admin/login/")).send().await.expect("request");
    let set_cookie = form.headers().get(SET_COOKIE).and_then(|v| v.to_str().ok()).expect("a cookie").to_owned();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().expect("name=value").to_owned();
    let csrf = csrf_of(&form.text().await.expect("html"));
    let wrong = "0".repeat(64);
    let credentials = [("username", USERNAME), ("password", PASSWORD)];
    let with = |token: &str| [("csrf", token.to_owned()), ("username", USERNAME.into()), ("password", PASSWORD.into())];

    // No token anywhere, the field without the cookie, the cookie without the field, a wrong field.
    let refused = [
        post_form(&admin, None, "/admin/login/", &credentials).await,
        post_form(&admin, None, "/admin/login/", &as_refs(&with(&csrf))).await,
        post_form(&admin, Some(&cookie), "/admin/login/", &credentials).await,
        post_form(&admin, Some(&cookie), "/admin/login/", &as_refs(&with(&wrong))).await,
    ];
    for (case, response) in refused.into_iter().enumerate() {
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "case {case}");
        assert!(response.headers()["content-type"].to_str().expect("ascii").starts_with("text/html"));
    }
    assert_eq!(admin.app.count("admin_sessions"), 0, "nobody logged in");

    let accepted = post_form(&admin, Some(&cookie), "/admin/login/", &as_refs(&with(&csrf))).await;
    assert_eq!(accepted.status(), StatusCode::SEE_OTHER);
    let dashboard = client()
        .get(admin.app.url("/admin/"))
        .header(COOKIE, session_cookie_of(&accepted))
        .send()
        .await
        .expect("request");
    assert_eq!(dashboard.status(), StatusCode::OK);
    admin.shutdown().await;
}

fn as_refs<'a>(fields: &'a [(&'static str, String); 3]) -> [(&'static str, &'a str); 3] {
    fields.each_ref().map(|(name, value)| (*name, value.as_str()))
}
