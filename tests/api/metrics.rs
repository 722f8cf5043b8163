//! `GET /metrics`: counters move when requests are served. The recorder is shared by every
//! app in the process, so tests compare before/after and never expect exact values.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, small_catalog, spawn_app};

async fn scrape(app: &TestApp) -> String {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().expect("ascii").to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    response.text().await.expect("body")
}

/// The sum of the samples of `name` whose labels include every pair of `labels` (0 if none).
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| line.starts_with(&format!("{name}{{")) || line.starts_with(&format!("{name} ")))
        .filter(|line| labels.iter().all(|(key, value)| line.contains(&format!("{key}=\"{value}\""))))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn request_counts_and_latencies_move_per_matched_route_and_status() {
    let app = spawn_app().await;
    let labels = [("method", "GET"), ("route", "/healthz"), ("status", "200")];
    let before = sample(&scrape(&app).await, "aforro_http_requests_total", &labels);

    for _ in 0..3 {
        app.get("/healthz").await;
    }

    let after = scrape(&app).await;
    assert!(sample(&after, "aforro_http_requests_total", &labels) >= before + 3.0, "{after}");
    assert!(sample(&after, "aforro_http_request_duration_seconds_count", &labels) >= 3.0, "{after}");
    assert!(after.contains("# HELP aforro_http_requests_total"), "{after}");
    app.shutdown().await;
}

#[tokio::test]
async fn routes_with_parameters_are_labelled_by_their_template() {
    let app = spawn_app().await;

    app.get("/orders/12345/").await;

    let text = scrape(&app).await;
    let labels = [("route", "/orders/{order_id}/"), ("status", "404")];
    assert!(sample(&text, "aforro_http_requests_total", &labels) >= 1.0, "{text}");
    assert!(!text.contains("12345"), "a raw path leaked into a label");
    app.shutdown().await;
}

#[tokio::test]
async fn unmatched_paths_share_one_label_and_never_show_the_raw_path() {
    let app = spawn_app().await;

    app.get("/wp-admin/probe-7d1f/").await;

    let text = scrape(&app).await;
    assert!(sample(&text, "aforro_http_requests_total", &[("route", "unmatched"), ("status", "404")]) >= 1.0);
    assert!(!text.contains("probe-7d1f"), "a raw path leaked into a label");
    app.shutdown().await;
}

#[tokio::test]
async fn orders_are_counted_by_outcome() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let count = |text: &str, outcome| sample(text, "aforro_orders_total", &[("outcome", outcome)]);
    let before = scrape(&app).await;

    let order = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]});
    assert_eq!(app.post_order_with_key(&order, "metrics-1").await.status(), StatusCode::CREATED);
    assert_eq!(app.post_order_with_key(&order, "metrics-1").await.status(), StatusCode::CREATED);
    let short = json!({"store_id": 1, "items": [{"product_id": 2, "quantity_requested": 100}]});
    assert_eq!(app.post_order(&short).await.status(), StatusCode::CONFLICT);

    let after = scrape(&app).await;
    for outcome in ["CONFIRMED", "REJECTED", "replayed"] {
        assert!(count(&after, outcome) >= count(&before, outcome) + 1.0, "{outcome}: {after}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn cache_hits_and_misses_are_counted_for_search_and_suggest() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    app.state.suggest.wait_until_current().await;
    let count =
        |text: &str, cache, result| sample(text, "aforro_cache_lookups_total", &[("cache", cache), ("result", result)]);
    let before = scrape(&app).await;

    for _ in 0..2 {
        app.get("/api/search/suggest/?q=kettle").await;
        app.get("/api/search/products/?q=kettle").await;
    }

    let after = scrape(&app).await;
    for cache in ["search", "suggest"] {
        for result in ["hit", "miss"] {
            assert!(count(&after, cache, result) >= count(&before, cache, result) + 1.0, "{cache} {result}: {after}");
        }
    }
    app.shutdown().await;
}

#[tokio::test]
async fn job_queue_depth_and_index_size_are_computed_at_scrape_time() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let order = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]});
    assert_eq!(app.post_order(&order).await.status(), StatusCode::CREATED);

    let text = scrape(&app).await;

    // Whatever state the confirmation job is in by now, it is counted under one of them.
    assert!(sample(&text, "aforro_jobs", &[]) >= 1.0, "{text}");
    assert!(text.lines().any(|line| line.starts_with("aforro_search_index_documents ")), "{text}");
    app.shutdown().await;
}
