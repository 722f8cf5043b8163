//! The Search insights and Search preview pages over plain HTTP: what they show, their links
//! to new synonym sets and rules, the chart, and that a preview is never counted.

use reqwest::StatusCode;
use reqwest::header::COOKIE;

use crate::admin_support::spawn_admin_app;
use crate::admin_web::{client, log_in, page};
use crate::helpers::json_with_status;

#[tokio::test]
async fn insights_show_top_and_no_result_queries_with_fixes_and_a_chart() {
    let admin = spawn_admin_app().await;
    let cookie = log_in(&admin).await;
    for query in ["q=kettle", "q=kettle", "q=red+scarf", "q=tent&analytics=false"] {
        json_with_status(admin.app.get(&format!("/api/search/products/?{query}")).await, StatusCode::OK).await;
    }
    let html = page(&admin, &cookie, "/admin/search-insights/?days=30").await;
    assert!(html.contains("href=\"/admin/search-insights/\""), "in the navigation");
    assert!(html.contains("href=\"/admin/search-preview/\""), "in the navigation");
    let (top, missing) = html.split_once("id=\"no-result-queries\"").expect("both tables");
    assert!(top.contains(">kettle</a>") && top.contains(">red scarf</a>") && !top.contains(">tent</a>"), "{top}");
    assert!(!missing.contains(">kettle</a>"), "kettle found something");
    assert!(missing.contains("href=\"/admin/synonyms/new?q=red+scarf\""), "{missing}");
    assert!(missing.contains("href=\"/admin/search-rules/new?q=red+scarf\""));
    assert!(html.contains("<svg") && html.contains("3 searches"), "the chart counts today's searches");
    assert_eq!(html.matches("<rect").count(), 60, "one pair of bars per day of 30");
    assert!(!html.contains("<script"), "no script");
    for days in ["1", "7", "90"] {
        let html = page(&admin, &cookie, &format!("/admin/search-insights/?days={days}")).await;
        assert!(html.contains("aria-current=\"page\" id=\"days-"), "{days}");
    }
    let bad = client()
        .get(admin.app.url("/admin/search-insights/?days=365"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    admin.shutdown().await;
}

#[tokio::test]
async fn the_preview_shows_results_match_and_explanations_and_is_not_counted() {
    let admin = spawn_admin_app().await;
    let cookie = log_in(&admin).await;
    let html = page(&admin, &cookie, "/admin/search-preview/?q=cheap+kettel").await;
    assert!(html.contains("id=\"result-1\""), "the kettle is found: {html}");
    assert!(html.contains("&quot;ignored&quot;: [\n    &quot;cheap&quot;"), "the match object: {html}");
    assert!(html.contains("<code>kettel</code> → <code>kettle</code>"), "the explanation");
    assert!(html.contains("typo"));
    let empty = page(&admin, &cookie, "/admin/search-preview/").await;
    assert!(empty.contains("name=\"q\""));
    assert!(admin.app.state.analytics.pending().is_empty(), "a preview is not a shopper's search");
    let anonymous = client().get(admin.app.url("/admin/search-preview/?q=kettle")).send().await.expect("request");
    assert_ne!(anonymous.status(), StatusCode::OK, "signed in only");
    admin.shutdown().await;
}
