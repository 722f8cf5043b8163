//! The admin door under abuse: one attempt budget per account however its name is spelt, a
//! login flood that never runs more password checks at once than the bound, the
//! password-change form's own attempt limit, TLS-only session cookies behind
//! `--public-url https://…`, and the headers every admin page and token answer carry.

use std::time::Duration;

use aforro::app::login_throttle::LOGIN_BURST;
use aforro::config::{HttpOptions, PublicUrl};
use base64::Engine as _;
use reqwest::header::{CACHE_CONTROL, COOKIE, RETRY_AFTER, SET_COOKIE};
use reqwest::{Client, StatusCode};
use serde_json::json;
use sha2::Digest as _;

use crate::admin_support::{AdminApp, PASSWORD, USERNAME, catalog_and_admin};
use crate::admin_web::{client, csrf_of, log_in, page, post_form};
use crate::helpers::{TestApp, json_with_status};

async fn spawn_app_not_logged_in() -> AdminApp {
    let app = TestApp::builder().fixture(catalog_and_admin).spawn().await;
    AdminApp { app, token: String::new() }
}

async fn api_login(app: &TestApp, client: &Client, username: &str, password: &str) -> reqwest::Response {
    client
        .post(app.url("/api/admin/login/"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("request")
}

/// Regression: the limit was keyed on the raw name while the lookup trims and ignores case,
/// so a fresh variant with the right password logged in while `boss` was answered 429.
#[tokio::test]
async fn case_and_whitespace_variants_of_a_username_share_one_attempt_budget() {
    let admin = spawn_app_not_logged_in().await;
    let variants = ["boss", "Boss", "BOSS", "boss ", " bOsS", "\u{a0}BOSS "];
    assert!(variants.len() > LOGIN_BURST as usize);
    for variant in &variants[..LOGIN_BURST as usize] {
        let response = api_login(&admin.app, &admin.app.client, variant, "wrong password").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{variant:?}");
    }

    let fresh_variant = api_login(&admin.app, &admin.app.client, variants[LOGIN_BURST as usize], PASSWORD).await;

    assert_eq!(fresh_variant.status(), StatusCode::TOO_MANY_REQUESTS, "a new spelling gets no new attempts");
    assert_eq!(admin.app.count("admin_sessions"), 0, "nobody logged in");
    admin.shutdown().await;
}

/// 200 logins at once, each a new name (so each runs an Argon2 check, 19 MiB): the checks
/// never run more at once than the bound, each login is answered 401 or, when no slot came
/// free within the wait, 503 with `Retry-After`; and the admin still gets in afterwards.
/// (Memory and the public API's latency under the same flood are measured by the load
/// harness's `login-flood` workload, examples/load.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_flood_never_runs_more_password_checks_at_once_than_the_bound() {
    const LOGINS: usize = 200;
    let admin = spawn_app_not_logged_in().await;
    let checks = admin.app.state.password_checks.clone();
    let client = Client::builder().timeout(Duration::from_secs(120)).build().expect("client");

    let mut flood = tokio::task::JoinSet::new();
    for n in 0..LOGINS {
        let (client, url) = (client.clone(), admin.app.url("/api/admin/login/"));
        flood.spawn(async move {
            let body = json!({"username": format!("intruder{n}"), "password": "wrong password"});
            let response = client.post(url).json(&body).send().await.expect("an answer within the timeout");
            let retry_after = response.headers().get(RETRY_AFTER).cloned();
            (response.status(), retry_after)
        });
    }
    let answers = flood.join_all().await;
    assert_eq!(answers.len(), LOGINS);

    assert!(checks.peak() >= 1, "the flood ran password checks");
    assert!(checks.peak() <= checks.bound(), "peak {} over the bound {}", checks.peak(), checks.bound());
    for (status, retry_after) in &answers {
        match *status {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::SERVICE_UNAVAILABLE => assert!(retry_after.is_some(), "a 503 says when to retry"),
            other => panic!("a flooded login answered {other}"),
        }
    }
    let token = api_login(&admin.app, &admin.app.client, USERNAME, PASSWORD).await;
    json_with_status(token, StatusCode::OK).await;
    admin.shutdown().await;
}

/// The current-password check is a password guess like a login: limited per (account,
/// address), and past the limit even the right password waits.
#[tokio::test]
async fn the_password_change_form_limits_attempts_per_account_and_address() {
    let admin = spawn_app_not_logged_in().await;
    let cookie = log_in(&admin).await;
    let csrf = csrf_of(&page(&admin, &cookie, "/admin/accounts/").await);
    let change = |current: &'static str| {
        let fields = [
            ("csrf", csrf.clone()),
            ("current_password", current.to_owned()),
            ("new_password", "a new long password".to_owned()),
            ("new_password_again", "a new long password".to_owned()),
        ];
        let (admin, cookie) = (&admin, cookie.clone());
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(name, value)| (*name, value.as_str())).collect();
            post_form(admin, Some(&cookie), "/admin/accounts/password/", &fields).await
        }
    };
    for attempt in 1..=LOGIN_BURST {
        assert_eq!(change("wrong password").await.status(), StatusCode::BAD_REQUEST, "attempt {attempt}");
    }

    let right = change(PASSWORD).await;

    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(right.headers().contains_key(RETRY_AFTER));
    assert!(right.text().await.expect("html").contains("too many attempts"));
    let still = api_login(&admin.app, &admin.app.client, USERNAME, PASSWORD).await;
    json_with_status(still, StatusCode::OK).await;
    admin.shutdown().await;
}

fn https_options() -> HttpOptions {
    HttpOptions { public_url: Some(PublicUrl::parse("https://shop.example").expect("url")), ..HttpOptions::default() }
}

/// The `Set-Cookie` values of a response.
fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().expect("ascii").to_owned()).collect()
}

#[tokio::test]
async fn behind_an_https_public_url_the_session_cookie_is_host_prefixed_and_secure() {
    let app = TestApp::builder().fixture(catalog_and_admin).http(https_options()).spawn().await;
    let form = client().get(app.url("/admin/login/")).send().await.expect("request");
    let csrf_cookie = set_cookies(&form).pop().expect("a form cookie");
    assert!(
        csrf_cookie.starts_with("__Secure-aforro_login_csrf=") && csrf_cookie.contains("; Secure"),
        "{csrf_cookie}"
    );
    let csrf = csrf_of(&form.text().await.expect("html"));
    let fields = [("csrf", csrf.as_str()), ("username", USERNAME), ("password", PASSWORD)];
    let cookie_pair = csrf_cookie.split(';').next().expect("name=value").to_owned();

    let logged_in = client()
        .post(app.url("/admin/login/"))
        .header(COOKIE, cookie_pair)
        .form(&fields)
        .send()
        .await
        .expect("request");

    assert_eq!(logged_in.status(), StatusCode::SEE_OTHER);
    let session = set_cookies(&logged_in)
        .into_iter()
        .find(|cookie| cookie.starts_with("__Host-aforro_admin="))
        .expect("a __Host- session cookie");
    for part in ["; Secure", "; Path=/;", "; HttpOnly", "; SameSite=Strict"] {
        assert!(session.contains(part), "{part} missing: {session}");
    }
    assert!(!session.contains("Domain"), "{session}");
    let pair = session.split(';').next().expect("name=value");
    let dashboard = client().get(app.url("/admin/")).header(COOKIE, pair).send().await.expect("request");
    assert_eq!(dashboard.status(), StatusCode::OK, "the prefixed cookie is the one read back");
    app.shutdown().await;
}

/// The inline `<style>` of a page, exactly as served.
fn inline_style(html: &str) -> &str {
    let start = html.find("<style>").expect("a style element") + "<style>".len();
    let end = html[start..].find("</style>").expect("its end") + start;
    &html[start..end]
}

#[tokio::test]
async fn every_admin_page_carries_the_security_headers_and_its_policy_allows_its_own_style() {
    let admin = spawn_app_not_logged_in().await;
    let cookie = log_in(&admin).await;
    for path in ["/admin/login/", "/admin/", "/admin/products/", "/admin/accounts/"] {
        let response = client().get(admin.app.url(path)).header(COOKIE, &cookie).send().await.expect("request");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let header = |name: &str| response.headers().get(name).map(|v| v.to_str().expect("ascii").to_owned());
        assert_eq!(header("x-frame-options").as_deref(), Some("DENY"), "{path}");
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"), "{path}");
        assert_eq!(header("referrer-policy").as_deref(), Some("same-origin"), "{path}");
        assert_eq!(header("cache-control").as_deref(), Some("no-store"), "{path}");
        let policy = header("content-security-policy").expect("a Content-Security-Policy");
        let html = response.text().await.expect("html");
        assert!(!html.contains("<script"), "{path} runs no script");
        let digest = sha2::Sha256::digest(inline_style(&html).as_bytes());
        let allowed = format!("style-src 'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest));
        assert!(policy.contains(&allowed), "{path}: {policy} must allow the page's own style");
        assert!(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"), "{policy}");
    }
    admin.shutdown().await;
}

#[tokio::test]
async fn the_login_answer_carrying_a_token_is_never_stored() {
    let admin = spawn_app_not_logged_in().await;

    let response = api_login(&admin.app, &admin.app.client, USERNAME, PASSWORD).await;

    assert_eq!(response.headers().get(CACHE_CONTROL).map(|v| v.to_str().expect("ascii")), Some("no-store"));
    json_with_status(response, StatusCode::OK).await;
    admin.shutdown().await;
}

/// Regression: the `Host` header (and `X-Forwarded-Proto`) were copied into the absolute
/// pagination links, so any client could make an answer (and a cache in front) point
/// elsewhere.
#[tokio::test]
async fn pagination_links_never_come_from_the_host_header() {
    let app = TestApp::builder().fixture(catalog_and_admin).spawn().await;
    let url = app.url("/api/search/products/?page_size=1");
    let response = app
        .client
        .get(&url)
        .header("host", "evil.example")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("request");
    let page = json_with_status(response, StatusCode::OK).await;

    assert_eq!(page["next"], format!("http://{}/api/search/products/?page_size=1&page=2", app.address));
    app.shutdown().await;
}

#[tokio::test]
async fn with_a_public_url_pagination_links_start_with_it() {
    let app = TestApp::builder().fixture(catalog_and_admin).http(https_options()).spawn().await;

    let page = json_with_status(app.get("/api/search/products/?page_size=1&page=2").await, StatusCode::OK).await;

    assert_eq!(page["next"], "https://shop.example/api/search/products/?page_size=1&page=3");
    assert_eq!(page["previous"], "https://shop.example/api/search/products/?page_size=1");
    app.shutdown().await;
}
