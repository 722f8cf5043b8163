//! The contract's ignoring of unknown words and its relaxation ("Search", `q`, "Matching" and
//! "Relaxation"), and `did_you_mean`, on a catalog where each word's product count is chosen:
//! a shopper's modifier the catalog does not use, a common word beside a specific one, a word
//! whose drop is the only one that leaves a match.

use reqwest::StatusCode;
use rusqlite::Connection;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_with_status};

/// `steel` is in four titles and `kettle` in two; `for` is in four descriptions, `running` in
/// one title; `boots` in two titles and `books` in one.
fn shop_catalog(conn: &Connection) {
    conn.execute_batch(
        "INSERT INTO categories (id, name) VALUES (1, 'Kitchen'), (2, 'Clothing'), (3, 'Audio');
         INSERT INTO products (id, title, description, price_cents, category_id, created_at) VALUES
           (1, 'Electric Kettle', 'boils water fast', 3000, 1, 1),
           (2, 'Glass Kettle', 'see the water boil', 3500, 1, 2),
           (3, 'Steel Pan', 'a frying pan for eggs', 2000, 1, 3),
           (4, 'Steel Pot', 'a cooking pot', 2500, 1, 4),
           (5, 'Steel Fork', 'cutlery for four', 500, 1, 5),
           (6, 'Steel Knife', 'cutlery', 700, 1, 6),
           (7, 'Wool Scarf', 'warm winter scarf', 1500, 2, 7),
           (8, 'Silk Scarf', 'light summer scarf', 2500, 2, 8),
           (9, 'Denim Jeans', 'straight leg jeans', 4000, 2, 9),
           (10, 'Slim Jeans', 'stretch denim', 4500, 2, 10),
           (11, 'Wireless Earbuds', 'for the gym', 6000, 3, 11),
           (12, 'Running Shoes', 'light and fast', 8000, 2, 12),
           (13, 'Wireless Mouse', 'for the desk', 2000, 3, 13),
           (14, 'Wired Earbuds', 'cheaper cable', 1000, 3, 14),
           (15, 'Leather Boots', 'brown', 9000, 2, 15),
           (16, 'Rain Boots', 'yellow', 3000, 2, 16),
           (17, 'Cook Books', 'recipes', 2000, 1, 17);",
    )
    .expect("shop catalog");
}

async fn search(app: &TestApp, query: &str) -> Value {
    json_with_status(app.get(&format!("/api/search/products/?{query}")).await, StatusCode::OK).await
}

fn sorted_ids(body: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> =
        body["results"].as_array().expect("results").iter().map(|row| row["id"].as_i64().expect("id")).collect();
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn a_modifier_the_catalog_does_not_use_is_ignored_and_the_product_type_found() {
    let app = TestApp::builder().fixture(shop_catalog).spawn().await;
    for (q, modifier, expected) in
        [("cheap kettle", "cheap", &[1, 2][..]), ("red scarf", "red", &[7, 8]), ("mens jeans", "mens", &[9, 10])]
    {
        let body = search(&app, &format!("q={}", q.replace(' ', "+"))).await;
        assert_eq!(sorted_ids(&body), expected, "{q}: {body}");
        let want = json!({"mode": "relaxed", "dropped": [], "ignored": [modifier], "did_you_mean": null, "synonyms": {}, "rules": []});
        assert_eq!(body["match"], want, "{q}");
    }
    // Wherever it stands.
    let body = search(&app, "q=jeans+mens").await;
    assert_eq!((sorted_ids(&body), &body["match"]["ignored"]), (vec![9, 10], &json!(["mens"])));
    app.shutdown().await;
}

#[tokio::test]
async fn when_every_word_is_ignored_nothing_is_found() {
    let app = TestApp::builder().fixture(shop_catalog).spawn().await;
    let body = search(&app, "q=zzz+qqq").await;
    assert_eq!(body["count"], 0, "{body}");
    assert_eq!(
        body["match"],
        json!({"mode": "relaxed", "dropped": [], "ignored": ["zzz", "qqq"], "did_you_mean": null, "synonyms": {}, "rules": []})
    );
    app.shutdown().await;
}

#[tokio::test]
async fn the_word_matching_more_products_is_dropped_and_the_specific_one_kept() {
    let app = TestApp::builder().fixture(shop_catalog).spawn().await;
    for q in ["steel+kettle", "kettle+steel"] {
        let body = search(&app, &format!("q={q}")).await;
        assert_eq!(sorted_ids(&body), [1, 2], "kettles, not steel pans: {body}");
        assert_eq!(
            body["match"],
            json!({"mode": "relaxed", "dropped": ["steel"], "ignored": [], "did_you_mean": null, "synonyms": {}, "rules": []})
        );
    }
    app.shutdown().await;
}

#[tokio::test]
async fn the_only_drop_that_leaves_a_match_is_taken_even_for_a_rarer_word() {
    let app = TestApp::builder().fixture(shop_catalog).spawn().await;
    // `for` matches the most products, but only dropping `running` leaves a match.
    let body = search(&app, "q=wireless+earbuds+for+running").await;
    assert_eq!(sorted_ids(&body), [11], "{body}");
    assert_eq!(body["match"]["dropped"], json!(["running"]));
    app.shutdown().await;
}

#[tokio::test]
async fn with_no_single_drop_leaving_a_match_the_most_common_word_goes_and_relaxation_goes_on() {
    let app = TestApp::builder().fixture(shop_catalog).spawn().await;
    // No two of the three share a product: `steel` (most products) goes first, then `kettle`
    // (two products, against `silk`'s one).
    let body = search(&app, "q=silk+steel+kettle").await;
    assert_eq!(sorted_ids(&body), [8], "{body}");
    assert_eq!(body["match"]["dropped"], json!(["steel", "kettle"]));
    app.shutdown().await;
}

#[tokio::test]
async fn relaxation_is_decided_under_the_filters() {
    let app = TestApp::builder().fixture(shop_catalog).spawn().await;
    // In Clothing no product has `steel` or `kettle`: nothing, one word kept.
    let body = search(&app, "q=steel+kettle&category=2").await;
    assert_eq!(body["count"], 0, "{body}");
    assert_eq!(body["match"]["dropped"].as_array().map(Vec::len), Some(1));
    // Under 10.00 no kettle passes: the steel products left there are found.
    let cheap = search(&app, "q=steel+kettle&max_price=10.00").await;
    assert_eq!(sorted_ids(&cheap), [5, 6], "{cheap}");
    assert_eq!(cheap["match"]["dropped"], json!(["kettle"]));
    app.shutdown().await;
}

#[tokio::test]
async fn did_you_mean_leaves_out_ignored_words_and_needs_a_match_with_every_correction() {
    let app = TestApp::builder().fixture(shop_catalog).spawn().await;
    let body = search(&app, "q=cheap+kettel").await;
    assert_eq!(sorted_ids(&body), [1, 2], "{body}");
    assert_eq!(body["match"]["did_you_mean"], "kettle");
    // `booxs` is one typo from `boots` (two products) and `books` (one): `boots` is offered,
    // but not when the filters leave only the book.
    let body = search(&app, "q=booxs").await;
    assert_eq!((sorted_ids(&body), &body["match"]["did_you_mean"]), (vec![15, 16, 17], &json!("boots")));
    let kitchen = search(&app, "q=booxs&category=1").await;
    assert_eq!(sorted_ids(&kitchen), [17], "{kitchen}");
    assert_eq!(kitchen["match"]["did_you_mean"], Value::Null, "no match has `boots`");
    app.shutdown().await;
}
