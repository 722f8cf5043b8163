//! The `/admin/` page over plain HTTP: the cookie session, CSRF-protected forms, and a
//! restock showing on the page and in search. (`admin_browser` drives the same flow in
//! headless Chromium.)

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Client, Response, StatusCode, redirect};

use crate::admin_support::{AdminApp, PASSWORD, USERNAME, spawn_admin_app};

/// A client that shows redirects instead of following them (there is no cookie jar).
pub(crate) fn client() -> Client {
    Client::builder().redirect(redirect::Policy::none()).build().expect("client")
}

/// Logs in through the form; returns the `Cookie` header value for the session.
pub(crate) async fn log_in(admin: &AdminApp) -> String {
    let response = post_login_form(admin, USERNAME, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    session_cookie_of(&response)
}

/// The `name=value` of the session cookie a login set (checked HttpOnly and SameSite=Strict).
pub(crate) fn session_cookie_of(response: &Response) -> String {
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|cookie| cookie.starts_with("aforro_admin="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    cookie.split(';').next().expect("name=value").to_owned()
}

/// Opens the login form and posts it back with its CSRF cookie and field, as a browser does.
pub(crate) async fn post_login_form(admin: &AdminApp, username: &str, password: &str) -> Response {
    let form = client().get(admin.app.url("/admin/login/")).send().await.expect("request");
    assert_eq!(form.status(), StatusCode::OK);
    let cookie = form.headers().get(SET_COOKIE).and_then(|v| v.to_str().ok()).expect("a form cookie").to_owned();
    let cookie = cookie.split(';').next().expect("name=value").to_owned();
    let csrf = csrf_of(&form.text().await.expect("html"));
    let fields = [("csrf", csrf.as_str()), ("username", username), ("password", password)];
    post_form(admin, Some(&cookie), "/admin/login/", &fields).await
}

pub(crate) async fn page(admin: &AdminApp, cookie: &str, path: &str) -> String {
    let response = client().get(admin.app.url(path)).header(COOKIE, cookie).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.expect("html")
}

/// Posts a form, with the session cookie when given.
pub(crate) async fn post_form(admin: &AdminApp, cookie: Option<&str>, path: &str, form: &[(&str, &str)]) -> Response {
    let mut request = client().post(admin.app.url(path)).form(form);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    request.send().await.expect("request")
}

/// The hidden `csrf` field's value on a page.
pub(crate) fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    html[start..start + 64].to_owned()
}

#[tokio::test]
async fn without_a_session_the_page_redirects_to_the_login_form() {
    let admin = spawn_admin_app().await;
    for path in ["/admin/", "/admin/products/1/"] {
        let response = client().get(admin.app.url(path)).send().await.expect("request");
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(response.headers().get(LOCATION).and_then(|v| v.to_str().ok()), Some("/admin/login/"));
    }
    let forged = post_form(&admin, None, "/admin/products/3/restock/", &[("store_id", "1"), ("quantity", "5")]).await;
    assert_eq!(forged.status(), StatusCode::SEE_OTHER);
    assert_eq!(admin.app.stock(1, 3), 0);
    admin.shutdown().await;
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_with_an_error() {
    let admin = spawn_admin_app().await;
    let response = post_login_form(&admin, USERNAME, "nope nope nope").await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "the form again, not a redirect");
    assert!(response.headers()["content-type"].to_str().expect("ascii").starts_with("text/html"));
    let cookies: Vec<_> = response.headers().get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).collect();
    assert!(cookies.iter().all(|cookie| !cookie.starts_with("aforro_admin=")), "no session: {cookies:?}");
    assert!(response.text().await.expect("html").contains("wrong username or password"));
    admin.shutdown().await;
}

#[tokio::test]
async fn a_logged_in_admin_restocks_and_sees_the_change_on_the_page_and_in_search() {
    let admin = spawn_admin_app().await;
    let cookie = log_in(&admin).await;
    let dashboard = page(&admin, &cookie, "/admin/products/?q=tent").await;
    assert!(dashboard.contains("Camping Tent") && dashboard.contains("Signed in as"));
    let product = page(&admin, &cookie, "/admin/products/3/").await;
    let csrf = csrf_of(&product);
    let form = [("csrf", csrf.as_str()), ("store_id", "1"), ("quantity", "6")];

    let response = post_form(&admin, Some(&cookie), "/admin/products/3/restock/", &form).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.expect("html").contains("it now holds 6"));
    assert_eq!(admin.app.stock(1, 3), 6);
    assert_eq!(admin.search_ids("q=tent&store_id=1&in_stock=true").await, [3]);
    admin.shutdown().await;
}

#[tokio::test]
async fn a_form_without_the_session_form_token_is_refused() {
    let admin = spawn_admin_app().await;
    let cookie = log_in(&admin).await;
    let wrong = "0".repeat(64);
    for token in [None, Some(wrong.as_str())] {
        let mut form = vec![("store_id", "1"), ("quantity", "6")];
        form.extend(token.map(|token| ("csrf", token)));
        let response = post_form(&admin, Some(&cookie), "/admin/products/3/restock/", &form).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    assert_eq!(admin.app.stock(1, 3), 0);
    admin.shutdown().await;
}

#[tokio::test]
async fn editing_a_product_on_the_page_renames_it_in_search() {
    let admin = spawn_admin_app().await;
    let cookie = log_in(&admin).await;
    let csrf = csrf_of(&page(&admin, &cookie, "/admin/products/4/").await);
    let form = [
        ("csrf", csrf.as_str()),
        ("title", "Head Torch"),
        ("description", "bright"),
        ("price", "21.50"),
        ("category_id", "2"),
    ];

    let response = post_form(&admin, Some(&cookie), "/admin/products/4/", &form).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(admin.search_ids("q=torch").await, [4]);
    assert!(page(&admin, &cookie, "/admin/products/4/").await.contains("21.50"));
    admin.shutdown().await;
}

#[tokio::test]
async fn logging_out_ends_the_page_session() {
    let admin = spawn_admin_app().await;
    let cookie = log_in(&admin).await;
    let csrf = csrf_of(&page(&admin, &cookie, "/admin/").await);

    let response = post_form(&admin, Some(&cookie), "/admin/logout/", &[("csrf", &csrf)]).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let after = client().get(admin.app.url("/admin/")).header(COOKIE, &cookie).send().await.expect("request");
    assert_eq!(after.status(), StatusCode::SEE_OTHER, "back to the login form");
    admin.shutdown().await;
}

#[tokio::test]
async fn an_invalid_edit_shows_the_form_again_naming_the_field_and_saves_nothing() {
    let admin = spawn_admin_app().await;
    let cookie = log_in(&admin).await;
    let csrf = csrf_of(&page(&admin, &cookie, "/admin/products/4/").await);
    let form = [("csrf", csrf.as_str()), ("title", "Head Torch"), ("price", "cheap"), ("category_id", "2")];

    let response = post_form(&admin, Some(&cookie), "/admin/products/4/", &form).await;

    // A real status on an HTML page: the problem+json middleware wraps the JSON routes only.
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers()["content-type"].to_str().expect("ascii").starts_with("text/html"));
    let html = response.text().await.expect("html");
    assert!(html.contains("id=\"price-error\""), "the error sits beside the price field");
    assert!(html.contains("value=\"cheap\""), "the submitted value is kept for fixing");
    assert!(admin.search_ids("q=torch").await.is_empty());
    admin.shutdown().await;
}

/// The order's events on its page, the inventory events on the jobs page (the event outbox).
async fn events_on(admin: &AdminApp, cookie: &str, order_path: &str) -> (String, String) {
    (page(admin, cookie, order_path).await, page(admin, cookie, "/admin/jobs/").await)
}

#[tokio::test]
async fn the_order_page_cancels_an_order_and_lists_its_events() {
    let admin = spawn_admin_app().await;
    let cookie = log_in(&admin).await;
    let body = serde_json::json!({"store_id": 1, "items": [{"product_id": 5, "quantity_requested": 1}]});
    let order: serde_json::Value = admin.app.post_order(&body).await.json().await.expect("order");
    let order_path = format!("/admin/orders/{}/", order["id"]);
    let cancel_path = format!("{order_path}cancel/");
    let (detail, jobs) = events_on(&admin, &cookie, &order_path).await;
    assert!(detail.contains(&cancel_path), "a confirmed order has a cancel button");
    assert!(detail.contains("order.confirmed") && !detail.contains("order.cancelled"), "{detail}");
    assert!(jobs.contains("inventory.out_of_stock") && jobs.contains("order.confirmed"));

    let response = post_form(&admin, Some(&cookie), &cancel_path, &[("csrf", &csrf_of(&detail))]).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().expect("ascii").to_owned();
    let (after, jobs) = events_on(&admin, &cookie, &location).await;
    assert!(after.contains("is CANCELLED"), "{after}");
    assert!(after.contains("order.cancelled") && jobs.contains("inventory.back_in_stock"));
    assert!(!after.contains(&cancel_path), "a cancelled order has no cancel button");
    assert!(after.contains("CONFIRMED") && after.contains(USERNAME), "the cancel is in the order's history");
    assert_eq!(admin.app.stock(1, 5), 1);

    // A second cancel changes nothing and records nothing; a rejected order cannot be cancelled.
    let again = post_form(&admin, Some(&cookie), &cancel_path, &[("csrf", &csrf_of(&after))]).await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    let entries: i64 = admin
        .app
        .db()
        .query_row("SELECT COUNT(*) FROM admin_log WHERE object_type = 'order'", [], |row| row.get(0))
        .expect("history");
    assert_eq!(entries, 1);
    assert_eq!(admin.app.stock(1, 5), 1);
    let body = serde_json::json!({"store_id": 1, "items": [{"product_id": 3, "quantity_requested": 1}]});
    let rejected: serde_json::Value = admin.app.post_order(&body).await.json().await.expect("order");
    assert_eq!(rejected["status"], "REJECTED");
    let path = format!("/admin/orders/{}/cancel/", rejected["id"]);
    let refused = post_form(&admin, Some(&cookie), &path, &[("csrf", &csrf_of(&after))]).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    admin.shutdown().await;
}

#[tokio::test]
async fn the_jobs_page_retries_a_failed_delivery() {
    let admin = spawn_admin_app().await;
    let cookie = log_in(&admin).await;
    let db = admin.app.db();
    db.execute_batch(
        "INSERT INTO orders (id, store_id, status, created_at) VALUES (90, 2, 'REJECTED', 1);
         INSERT INTO jobs (id, kind, event_id, order_id, state, attempts, run_at, created_at, updated_at, last_error)
           VALUES (77, 'order.confirmed', 'e77', 90, 'failed', 8, 1, 1, 1, 'receiver down');",
    )
    .expect("a dead letter");
    let failed = page(&admin, &cookie, "/admin/jobs/?state=failed").await;
    assert!(failed.contains("receiver down") && failed.contains("e77") && failed.contains("/admin/jobs/77/retry/"));

    let response = post_form(&admin, Some(&cookie), "/admin/jobs/77/retry/", &[("csrf", &csrf_of(&failed))]).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().expect("ascii").to_owned();
    assert!(page(&admin, &cookie, &location).await.contains("Job 77 is queued again."));
    let attempts: i64 = db.query_row("SELECT attempts FROM jobs WHERE id = 77", [], |row| row.get(0)).expect("job");
    assert!(attempts <= 1, "fresh attempts: {attempts}");
    let again = post_form(&admin, Some(&cookie), "/admin/jobs/77/retry/", &[("csrf", &csrf_of(&failed))]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT, "only a failed job can be retried");
    admin.shutdown().await;
}

#[tokio::test]
async fn a_job_s_page_shows_every_delivery_attempt_with_its_status_or_error_and_answer() {
    let admin = spawn_admin_app().await;
    let cookie = log_in(&admin).await;
    admin
        .app
        .db()
        .execute_batch(
            "INSERT INTO orders (id, store_id, status, created_at) VALUES (91, 2, 'REJECTED', 1);
             INSERT INTO jobs (id, kind, event_id, order_id, state, attempts, run_at, created_at, updated_at, last_error)
               VALUES (78, 'order.confirmed', 'e78', 91, 'failed', 2, 1, 1, 1, 'webhook answered 503 Service Unavailable');
             INSERT INTO delivery_attempts (job_id, attempt, started_at, duration_micros, http_status, error, answer_excerpt)
               VALUES (78, 1, 1000000, 5000, NULL, 'webhook request failed: connection refused', NULL),
                      (78, 2, 3000000, 12900, 503, 'webhook answered 503 Service Unavailable', '<b>down for maintenance</b>');",
        )
        .expect("a job with two attempts");
    let list = page(&admin, &cookie, "/admin/jobs/").await;
    assert!(list.contains("href=\"/admin/jobs/78/\""), "the list links the job's page");

    let html = page(&admin, &cookie, "/admin/jobs/78/").await;

    let attempts = html.split("id=\"attempts\"").nth(1).expect("an attempts table");
    let rows: Vec<&str> = attempts.split("<tr>").skip(2).collect();
    assert_eq!(rows.len(), 2, "{attempts}");
    assert!(rows[0].contains("connection refused") && rows[0].contains("5.0"), "{}", rows[0]);
    assert!(rows[1].contains(">503<") && rows[1].contains("12.9"), "{}", rows[1]);
    assert!(rows[1].contains("&lt;b&gt;down for maintenance&lt;/b&gt;"), "the answer is shown escaped: {}", rows[1]);
    assert!(html.contains("/admin/jobs/78/retry/"), "a failed job's page has its Retry button");
    assert!(html.contains("href=\"/admin/orders/91/\""));
    let missing =
        client().get(admin.app.url("/admin/jobs/999/")).header(COOKIE, &cookie).send().await.expect("request");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    admin.shutdown().await;
}
