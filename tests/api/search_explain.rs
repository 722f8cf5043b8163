//! `explain=true` (contract, Search): each result's words, each word's best match on that
//! product (term, how, typos, field), ignored words and dropped words the product lacks absent,
//! and the BM25 the rank carries.

use reqwest::StatusCode;
use rusqlite::Connection;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_with_status};

fn catalog(conn: &Connection) {
    conn.execute_batch(
        "INSERT INTO categories (id, name) VALUES (1, 'Kitchen'), (2, 'Outdoor');
         INSERT INTO products (id, title, description, price_cents, category_id, created_at) VALUES
           (1, 'Steel Kettle', 'boils water', 2500, 1, 1),
           (2, 'Kettles Set', 'three sizes', 4000, 1, 2),
           (3, 'Camping Tent', 'sleeps two', 9000, 2, 3),
           (4, 'bamboo Cutting Board', 'for bread', 1250, 1, 4);",
    )
    .expect("catalog");
}

async fn search(app: &TestApp, query: &str) -> Value {
    json_with_status(app.get(&format!("/api/search/products/?{query}&explain=true")).await, StatusCode::OK).await
}

/// The `explain` of the result with id `id`.
fn explain_of(body: &Value, id: i64) -> Value {
    let results = body["results"].as_array().expect("results");
    let row = results.iter().find(|row| row["id"] == id).unwrap_or_else(|| panic!("no result {id} in {body}"));
    row["explain"].clone()
}

fn word(word: &str, term: &str, how: &str, typos: u8, field: &str) -> Value {
    json!({"word": word, "term": term, "how": how, "typos": typos, "field": field})
}

#[tokio::test]
async fn each_word_reports_its_best_match_exact_stem_typo_and_prefix() {
    let app = TestApp::builder().fixture(catalog).spawn().await;
    let body = search(&app, "q=kettle").await;
    let exact = explain_of(&body, 1);
    assert_eq!(exact["pinned"], false);
    assert_eq!(exact["words"], json!([word("kettle", "kettle", "exact", 0, "title")]));
    let score = body["results"][0]["score"].as_f64().expect("a score");
    assert!((exact["bm25"].as_f64().expect("bm25") - score).abs() < 1e-3, "the rank's BM25 is the score");
    // `kettles` shares the stem (its prefix match is worse than the stem).
    assert_eq!(explain_of(&body, 2)["words"], json!([word("kettle", "kettl", "stem", 0, "title")]));

    let typo = search(&app, "q=kettel").await;
    assert_eq!(explain_of(&typo, 1)["words"], json!([word("kettel", "kettle", "typo", 1, "title")]));

    let prefix = search(&app, "q=bam").await;
    assert_eq!(explain_of(&prefix, 4)["words"], json!([word("bam", "bamboo", "prefix", 0, "title")]));

    let described = search(&app, "q=water").await;
    assert_eq!(explain_of(&described, 1)["words"], json!([word("water", "water", "exact", 0, "description")]));
    let category = search(&app, "q=outdoor").await;
    assert_eq!(explain_of(&category, 3)["words"], json!([word("outdoor", "outdoor", "exact", 0, "category")]));
    app.shutdown().await;
}

#[tokio::test]
async fn ignored_words_and_dropped_words_the_product_lacks_are_absent_and_words_keep_query_order() {
    let app = TestApp::builder().fixture(catalog).spawn().await;
    let ignored = search(&app, "q=cheap+kettle").await;
    assert_eq!(ignored["match"]["ignored"], json!(["cheap"]));
    assert_eq!(explain_of(&ignored, 1)["words"], json!([word("kettle", "kettle", "exact", 0, "title")]));

    // No product is both steel and a tent: one word is dropped, and the product keeps only the
    // word it has.
    let dropped = search(&app, "q=steel+tent").await;
    assert_eq!(dropped["match"]["mode"], "relaxed");
    let kept = dropped["results"][0]["id"].as_i64().expect("a result");
    let words = explain_of(&dropped, kept)["words"].clone();
    assert_eq!(words.as_array().map(Vec::len), Some(1), "{dropped}");

    let both = search(&app, "q=kettle+steel").await;
    assert_eq!(
        explain_of(&both, 1)["words"],
        json!([word("kettle", "kettle", "exact", 0, "title"), word("steel", "steel", "exact", 0, "title")])
    );
    app.shutdown().await;
}

#[tokio::test]
async fn explain_is_only_there_when_asked_and_part_of_the_cache_key() {
    let app = TestApp::builder().fixture(catalog).spawn().await;
    let plain = json_with_status(app.get("/api/search/products/?q=kettle").await, StatusCode::OK).await;
    assert!(plain["results"][0].get("explain").is_none());
    let explained = search(&app, "q=kettle").await;
    assert!(explained["results"][0]["explain"].is_object(), "not the cached answer without it");
    let again = json_with_status(app.get("/api/search/products/?q=kettle").await, StatusCode::OK).await;
    assert!(again["results"][0].get("explain").is_none(), "nor the other way round");
    let by_price = search(&app, "q=kettle&sort=price").await;
    assert_eq!(explain_of(&by_price, 1)["bm25"], 0.0, "no BM25 is computed for other sorts");
    assert_eq!(explain_of(&by_price, 1)["words"], json!([word("kettle", "kettle", "exact", 0, "title")]));
    let bad = app.get("/api/search/products/?q=kettle&explain=yes").await;
    json_with_status(bad, StatusCode::BAD_REQUEST).await;
    app.shutdown().await;
}
