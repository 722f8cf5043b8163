//! Search analytics (contract, "Search administration"): what is counted and under which
//! query, the route's answers, the unflushed counts it adds, one write per flush, the daily
//! cap, `analytics=false`, and suggest's `queries=true`.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admin_support::{AdminApp, PASSWORD, USERNAME, catalog_and_admin, login};
use crate::helpers::{TestApp, json_with_status};

const MASTER: &str = "master-key-for-tests-0123456789";

/// An admin app whose flusher never runs on its own (an hour between flushes): the test
/// flushes when it wants, and sees the counts in memory meanwhile.
async fn admin_app(daily_queries: usize) -> AdminApp {
    let app = TestApp::builder()
        .fixture(catalog_and_admin)
        .configure(move |config| {
            config.analytics.flush_every = Duration::from_secs(3_600);
            config.analytics.daily_queries = daily_queries;
        })
        .spawn()
        .await;
    let token = login(&app, USERNAME, PASSWORD).await;
    AdminApp { app, token }
}

async fn search(app: &AdminApp, query: &str) {
    let response = app.app.get(&format!("/api/search/products/?{query}")).await;
    json_with_status(response, StatusCode::OK).await;
}

async fn analytics(app: &AdminApp, query: &str) -> Value {
    app.call(Method::GET, &format!("/api/admin/search-analytics/?{query}"), None, StatusCode::OK).await
}

/// (q, searches, no_result_searches, last_count) of each result.
fn rows(body: &Value) -> Vec<(String, i64, i64, i64)> {
    body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|row| {
            let number = |name: &str| row[name].as_i64().expect("a number");
            let q = row["q"].as_str().expect("q").to_owned();
            (q, number("searches"), number("no_result_searches"), number("last_count"))
        })
        .collect()
}

async fn flush(app: &AdminApp) {
    let state = &app.app.state;
    state.analytics.flush(&state.writer, &state.reads).await.expect("flush");
}

#[tokio::test]
async fn a_search_shows_in_the_next_request_before_any_flush_and_one_flush_is_one_write() {
    let app = admin_app(100_000).await;
    for _ in 0..3 {
        search(&app, "q=Steel+KETTLE").await;
    }
    search(&app, "q=red%20scarf").await;
    let body = analytics(&app, "kind=popular&days=1").await;
    assert_eq!(rows(&body), [("steel kettle".to_owned(), 3, 0, 1), ("red scarf".to_owned(), 1, 1, 0)]);
    assert_eq!(app.app.count("search_queries"), 0, "nothing is written per search");
    assert_eq!(app.app.state.analytics.flushes(), 0);

    flush(&app).await;
    assert_eq!(app.app.state.analytics.flushes(), 1, "everything counted went in one write");
    assert_eq!(app.app.count("search_queries"), 2);
    let searches: i64 =
        app.app.db().query_row("SELECT searches FROM search_days", [], |row| row.get(0)).expect("today's total");
    assert_eq!(searches, 4);
    // Flushed and pending add up; a flush with nothing counted writes nothing.
    search(&app, "q=steel+kettle").await;
    let body = analytics(&app, "days=7").await;
    assert_eq!(rows(&body)[0], ("steel kettle".to_owned(), 4, 0, 1));
    flush(&app).await;
    flush(&app).await;
    assert_eq!(app.app.state.analytics.flushes(), 2);
    let no_results = analytics(&app, "kind=no_results&days=90").await;
    assert_eq!(rows(&no_results), [("red scarf".to_owned(), 1, 1, 0)]);
    app.shutdown().await;
}

#[tokio::test]
async fn what_is_not_counted_page_two_analytics_false_blank_q_suggest_and_errors() {
    let app = admin_app(100_000).await;
    search(&app, "q=kettle&analytics=false").await;
    search(&app, "q=kitchen&page=2&page_size=1").await;
    search(&app, "q=%3F%21").await; // punctuation only: no words
    search(&app, "category=1").await;
    let response = app.app.get("/api/search/products/?q=kettle&min_price=9&max_price=1").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = app.app.get("/api/search/products/?q=kettle&analytics=maybe").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "analytics is a boolean");
    json_with_status(app.app.get("/api/search/suggest/?q=kettle").await, StatusCode::OK).await;
    assert_eq!(analytics(&app, "").await["count"], 0, "{}", analytics(&app, "").await);
    // A cache hit counts as any search.
    search(&app, "q=kettle").await;
    search(&app, "q=kettle").await;
    assert_eq!(rows(&analytics(&app, "").await), [("kettle".to_owned(), 2, 0, 1)]);
    app.shutdown().await;
}

#[tokio::test]
async fn the_route_answers_400_for_a_bad_kind_or_days_404_past_the_end_and_401_without_a_token() {
    let app = admin_app(100_000).await;
    for bad in ["kind=top", "days=0", "days=91", "days=-1", "days=%2B7", "days=seven", "page=0"] {
        let response = app.send(Method::GET, &format!("/api/admin/search-analytics/?{bad}"), None).await;
        let body = json_with_status(response, StatusCode::BAD_REQUEST).await;
        assert!(body["errors"].is_array() || body["detail"].is_string(), "{bad}: {body}");
    }
    for good in ["days=90", "days=1", "days=007", "kind=no_results", "kind=&days="] {
        let response = app.send(Method::GET, &format!("/api/admin/search-analytics/?{good}"), None).await;
        assert_eq!(response.status(), StatusCode::OK, "{good}");
    }
    let past = app.send(Method::GET, "/api/admin/search-analytics/?page=2", None).await;
    json_with_status(past, StatusCode::NOT_FOUND).await;
    let anonymous = app.app.client.get(app.app.url("/api/admin/search-analytics/")).send().await.expect("request");
    json_with_status(anonymous, StatusCode::UNAUTHORIZED).await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_key_without_admin_is_refused_403() {
    let app = TestApp::builder().fixture(catalog_and_admin).master_key(MASTER).spawn().await;
    let created = app
        .client
        .post(app.url("/api/keys/"))
        .bearer_auth(MASTER)
        .json(&json!({"name": "storefront", "actions": ["search"]}))
        .send()
        .await
        .expect("request");
    let key = json_with_status(created, StatusCode::CREATED).await["key"].as_str().expect("a secret").to_owned();
    let refused =
        app.client.get(app.url("/api/admin/search-analytics/")).bearer_auth(&key).send().await.expect("request");
    json_with_status(refused, StatusCode::FORBIDDEN).await;
    let master = app.client.get(app.url("/api/admin/search-analytics/")).bearer_auth(MASTER).send().await;
    assert_eq!(master.expect("request").status(), StatusCode::OK);
    app.shutdown().await;
}

#[tokio::test]
async fn a_day_keeps_its_cap_of_distinct_queries_and_counts_the_rest_in_its_total() {
    let app = admin_app(2).await;
    for q in ["kettle", "tent", "mug", "headlamp", "kettle"] {
        search(&app, &format!("q={q}")).await;
    }
    let body = analytics(&app, "").await;
    assert_eq!(rows(&body), [("kettle".to_owned(), 2, 0, 1), ("tent".to_owned(), 1, 0, 1)]);
    flush(&app).await;
    let (searches, uncapped): (i64, i64) = app
        .app
        .db()
        .query_row("SELECT searches, uncapped_searches FROM search_days", [], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("today's total");
    assert_eq!((searches, uncapped), (5, 2));
    assert_eq!(app.app.count("search_queries"), 2);
    app.shutdown().await;
}

#[tokio::test]
async fn the_default_cap_is_the_contracts_100000() {
    let config = aforro::config::Config::in_dir(std::path::Path::new("/nonexistent"));
    assert_eq!(config.analytics.daily_queries, 100_000);
    assert_eq!(config.analytics.flush_every, Duration::from_secs(5));
}

#[tokio::test]
async fn suggest_offers_popular_past_queries_that_found_something_as_of_the_last_flush() {
    let app = admin_app(100_000).await;
    let suggest = |q: &str, queries: &str| {
        let url =
            reqwest::Url::parse_with_params(&app.app.url("/api/search/suggest/"), [("q", q), ("queries", queries)])
                .expect("url");
        let client = app.app.client.clone();
        async move { json_with_status(client.get(url).send().await.expect("request"), StatusCode::OK).await }
    };
    for (q, times) in [("steel kettle", 4), ("steel kettle blue", 3), ("steel kettlz", 5), ("steel", 2), ("stool", 3)] {
        for _ in 0..times {
            search(&app, &format!("q={q}")).await;
        }
    }
    let before = suggest("steel ket", "true").await;
    assert_eq!(before["queries"], json!([]), "nothing flushed yet");
    flush(&app).await;
    let after = suggest("Steel  KET", "true").await;
    // `steel kettlz` finds the kettle by typo, so it had results; `steel` was searched twice.
    assert_eq!(after["queries"], json!(["steel kettlz", "steel kettle", "steel kettle blue"]));
    assert!(after["results"].is_array(), "the titles are still there");
    let without = suggest("steel ket", "false").await;
    assert!(without.get("queries").is_none(), "only when asked");
    assert_eq!(suggest("stee", "1").await["queries"], json!(["steel kettlz", "steel kettle", "steel kettle blue"]));
    let bad = app.app.get("/api/search/suggest/?q=steel&queries=perhaps").await;
    json_with_status(bad, StatusCode::BAD_REQUEST).await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_clean_shutdown_writes_what_was_counted() {
    let app = admin_app(100_000).await;
    search(&app, "q=tent").await;
    let analytics = app.app.state.analytics.clone();
    assert_eq!(analytics.flushes(), 0);
    app.shutdown().await;
    // A flush counts only once the writer has committed it.
    assert_eq!(analytics.flushes(), 1);
    assert!(analytics.pending().is_empty());
}
