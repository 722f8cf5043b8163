//! Deep search pages: a page past the end is 404 from the count alone, a page within the
//! result window is the same rows a plain ordering gives, and a page ending beyond the window
//! (10,000 results, docs/search.md "Deep pages") is 400 naming `page`. Their cost is measured
//! by `benches/search.rs` (`deep_page_*`, `page_past_the_end`).

use reqwest::StatusCode;
use rusqlite::Connection;
use serde_json::Value;

use crate::helpers::{TestApp, json_with_status};

/// `products` products titled `Kettle <n>` in one category, prices scattered.
fn kettles(products: u32) -> impl FnOnce(&Connection) + Send + 'static {
    move |conn| {
        conn.execute_batch(&format!(
            "INSERT INTO categories (id, name) VALUES (1, 'Kitchen');
             WITH RECURSIVE n(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM n WHERE id < {products})
             INSERT INTO products (id, title, description, price_cents, category_id, created_at)
             SELECT id, 'Kettle ' || id, '', (id * 7919) % 100000, 1, id FROM n;"
        ))
        .expect("kettles");
    }
}

fn ids(page: &Value) -> Vec<i64> {
    page["results"].as_array().expect("results").iter().map(|row| row["id"].as_i64().expect("id")).collect()
}

/// The ids SQL gives for the same ordering and page.
fn expected(app: &TestApp, order_by: &str, offset: i64) -> Vec<i64> {
    let db = app.db();
    let mut stmt =
        db.prepare(&format!("SELECT id FROM products ORDER BY {order_by} LIMIT 100 OFFSET ?1")).expect("sql");
    stmt.query_map([offset], |row| row.get(0)).expect("query").collect::<Result<_, _>>().expect("ids")
}

#[tokio::test]
async fn a_deep_page_holds_the_rows_of_the_plain_ordering_and_a_page_past_the_end_is_404() {
    let app = TestApp::builder().fixture(kettles(1_500)).spawn().await;

    for query in ["q=kettle&sort=price", "sort=price"] {
        let page = json_with_status(
            app.get(&format!("/api/search/products/?{query}&page_size=100&page=12")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(page["count"], 1_500, "{query}");
        assert_eq!(ids(&page), expected(&app, "price_cents, id", 1_100), "{query}");
    }
    let by_relevance =
        json_with_status(app.get("/api/search/products/?q=kettle&page_size=100&page=15").await, StatusCode::OK).await;
    assert_eq!(ids(&by_relevance), expected(&app, "id", 1_400), "equal scores rank by id");
    for past_the_end in
        ["q=kettle&page_size=100&page=16", "q=kettle&page_size=100&page=101", "sort=price&page_size=100&page=200"]
    {
        json_with_status(app.get(&format!("/api/search/products/?{past_the_end}")).await, StatusCode::NOT_FOUND).await;
    }
    app.shutdown().await;
}

#[tokio::test]
async fn a_page_ending_beyond_the_result_window_is_400_and_the_last_page_within_it_is_served() {
    let app = TestApp::builder().fixture(kettles(10_100)).spawn().await;

    let last_within = json_with_status(
        app.get("/api/search/products/?q=kettle&sort=price&page_size=100&page=100").await,
        StatusCode::OK,
    )
    .await;
    let beyond = json_with_status(
        app.get("/api/search/products/?q=kettle&page_size=100&page=101").await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    assert_eq!(ids(&last_within), expected(&app, "price_cents, id", 9_900));
    assert_eq!(beyond["errors"][0]["field"], "page", "{beyond}");
    app.shutdown().await;
}
