//! The contract's matching and ranking rules, one test per rule, on a catalog built so each
//! rule decides an order: AND with ignored words, typos, prefixes, stems, category names,
//! `stock_first`, `highlight` and `match`.

use reqwest::StatusCode;
use rusqlite::Connection;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_with_status};

fn matching_catalog(conn: &Connection) {
    conn.execute_batch(
        "INSERT INTO categories (id, name) VALUES (1, 'Kitchen'), (2, 'Outdoor');
         INSERT INTO products (id, title, description, price_cents, category_id, created_at) VALUES
           (1, 'Steel Kettle', 'boils water', 2500, 1, 1),
           (2, 'Kettles Set', 'two of them', 4000, 1, 2),
           (3, 'Kettling Pot', 'for the stove', 1500, 1, 3),
           (4, 'Camping Tent', 'sleeps two', 9000, 2, 4),
           (5, 'Tent Pegs', 'steel pegs, a kettle stand', 900, 2, 5),
           (6, 'Bottle 500ml', 'water bottle', 1200, 2, 6),
           (7, 'Bottle 600ml', 'water bottle', 1300, 2, 7),
           (8, 'Stainless Mug', 'keeps tea hot', 1100, 1, 8),
           (9, 'Kitchen Timer', 'ticks <loudly> & clearly', 700, 1, 9),
           (10, 'Lamp', 'a kettle shaped lamp', 3000, 2, 10),
           (11, 'Kettler Bench', 'for the garden', 5000, 2, 11);
         INSERT INTO stores (id, name, location) VALUES (1, 'Lisbon Central', 'Lisbon');
         INSERT INTO inventory (store_id, product_id, quantity) VALUES
           (1, 1, 0), (1, 2, 5), (1, 3, 0), (1, 5, 2), (1, 10, 1);",
    )
    .expect("matching catalog");
}

async fn search(app: &TestApp, query: &str) -> Value {
    json_with_status(app.get(&format!("/api/search/products/?{query}")).await, StatusCode::OK).await
}

fn ids(body: &Value) -> Vec<i64> {
    body["results"].as_array().expect("results").iter().map(|row| row["id"].as_i64().expect("id")).collect()
}

fn sorted(mut ids: Vec<i64>) -> Vec<i64> {
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn a_product_matches_only_when_every_word_does() {
    let app = TestApp::builder().fixture(matching_catalog).spawn().await;
    let body = search(&app, "q=steel+kettle").await;
    assert_eq!(sorted(ids(&body)), [1, 5], "title or description, any mix: {body}");
    assert_eq!(
        body["match"],
        json!({"mode": "all", "dropped": [], "ignored": [], "did_you_mean": null, "synonyms": {}, "rules": []})
    );
    app.shutdown().await;
}

#[tokio::test]
async fn words_matching_no_term_are_ignored_wherever_they_stand() {
    let app = TestApp::builder().fixture(matching_catalog).spawn().await;
    let body = search(&app, "q=steel+zzz+qqq").await;
    let expected = json!({"mode": "relaxed", "dropped": [], "ignored": ["zzz", "qqq"], "did_you_mean": null, "synonyms": {}, "rules": []});
    assert_eq!(body["match"], expected);
    assert_eq!(sorted(ids(&body)), [1, 5]);

    let first_unknown = search(&app, "q=zzz+steel").await;
    assert_eq!(sorted(ids(&first_unknown)), [1, 5], "the first word is ignored too: {first_unknown}");
    assert_eq!(first_unknown["match"]["ignored"], json!(["zzz"]));
    app.shutdown().await;
}

#[tokio::test]
async fn an_ignored_word_between_others_changes_nothing_but_the_mode() {
    let app = TestApp::builder().fixture(matching_catalog).spawn().await;
    let body = search(&app, "q=kettle+zzz+steel").await;
    assert_eq!(
        body["match"],
        json!({"mode": "relaxed", "dropped": [], "ignored": ["zzz"], "did_you_mean": null, "synonyms": {}, "rules": []})
    );
    assert_eq!(ids(&body), ids(&search(&app, "q=kettle+steel").await), "{body}");
    app.shutdown().await;
}

#[tokio::test]
async fn one_typo_is_forgiven_in_words_of_5_to_8_letters_swaps_included() {
    let app = TestApp::builder().fixture(matching_catalog).spawn().await;
    for typo in ["kettel", "ketle", "kettlw", "kettlle"] {
        let body = search(&app, &format!("q={typo}")).await;
        assert_eq!(ids(&body).first(), Some(&1), "{typo}: {body}");
    }
    assert_eq!(search(&app, "q=kettlxx").await["count"], 0, "two typos are too many for 7 letters");
    assert_eq!(search(&app, "q=tnet").await["count"], 0, "no typo in 4 letters");
    app.shutdown().await;
}

#[tokio::test]
async fn two_typos_are_forgiven_from_9_letters() {
    let app = TestApp::builder().fixture(matching_catalog).spawn().await;
    assert_eq!(ids(&search(&app, "q=stianlesss").await), [8]);
    assert_eq!(ids(&search(&app, "q=stainles").await), [8]);
    app.shutdown().await;
}

#[tokio::test]
async fn words_with_digits_match_exactly() {
    let app = TestApp::builder().fixture(matching_catalog).spawn().await;
    assert_eq!(ids(&search(&app, "q=500ml").await), [6]);
    for near in ["501ml", "50ml", "500m", "5000ml"] {
        assert_eq!(search(&app, &format!("q={near}")).await["count"], 0, "{near}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn the_last_word_matches_as_a_prefix_from_two_letters() {
    let app = TestApp::builder().fixture(matching_catalog).spawn().await;
    assert_eq!(sorted(ids(&search(&app, "q=kett").await)), [1, 2, 3, 5, 10, 11]);
    assert_eq!(sorted(ids(&search(&app, "q=steel+ke").await)), [1, 5]);
    assert_eq!(search(&app, "q=k").await["count"], 0, "one letter is not a prefix");
    let not_last = search(&app, "q=kett+steel").await;
    assert_eq!(not_last["match"]["ignored"], json!(["kett"]), "only the last word is a prefix: {not_last}");
    assert_eq!(sorted(ids(&not_last)), [1, 5]);
    app.shutdown().await;
}

#[tokio::test]
async fn plurals_and_other_forms_meet_through_the_stem_and_exact_forms_rank_first() {
    let app = TestApp::builder().fixture(matching_catalog).spawn().await;
    let plural = ids(&search(&app, "q=kettles").await);
    assert_eq!(sorted(plural.clone()), [1, 2, 3, 5, 10, 11], "11 is a typo away");
    assert_eq!(plural[0], 2, "the exact form first: {plural:?}");
    let singular = ids(&search(&app, "q=kettle").await);
    assert_eq!(singular[0], 1);
    assert_eq!(sorted(singular[1..3].to_vec()), [5, 10], "exact in a description beats a stem in a title");
    assert_eq!(sorted(singular[3..5].to_vec()), [2, 3]);
    assert_eq!(singular[5], 11, "a prefix match (kettler) after every stem match");
    app.shutdown().await;
}

#[tokio::test]
async fn the_category_name_is_searchable_and_ranks_between_title_and_description() {
    let app = TestApp::builder().fixture(matching_catalog).spawn().await;
    let body = search(&app, "q=kitchen").await;
    let found = ids(&body);
    assert_eq!(sorted(found.clone()), [1, 2, 3, 8, 9]);
    assert_eq!(found[0], 9, "the title hit first: {found:?}");
    app.shutdown().await;
}

#[tokio::test]
async fn fewer_typos_rank_before_more() {
    let app = TestApp::builder().fixture(matching_catalog).spawn().await;
    let body = search(&app, "q=kettler").await;
    let found = ids(&body);
    assert_eq!(found[0], 11, "the exact word before its typos: {body}");
    assert_eq!(sorted(found[1..].to_vec()), [1, 2, 5, 10], "kettle and kettles are one typo away");
    assert_eq!(body["match"]["did_you_mean"], Value::Null, "kettler matched as itself");
    let typo = search(&app, "q=stell").await;
    assert_eq!(sorted(ids(&typo)), [1, 5]);
    assert_eq!(typo["match"]["did_you_mean"], "steel");
    app.shutdown().await;
}

#[tokio::test]
async fn did_you_mean_replaces_only_words_matched_through_typos() {
    let app = TestApp::builder().fixture(matching_catalog).spawn().await;
    let body = search(&app, "q=kettel+stele").await;
    assert_eq!(body["match"]["did_you_mean"], "kettle steel", "{body}");
    assert_eq!(search(&app, "q=kettle+steel").await["match"]["did_you_mean"], Value::Null);
    app.shutdown().await;
}

#[tokio::test]
async fn the_same_request_always_gives_the_same_order_and_pages_do_not_overlap() {
    let app = TestApp::builder().fixture(matching_catalog).spawn().await;
    let whole = ids(&search(&app, "q=water&page_size=10").await);
    assert_eq!(whole, [1, 6, 7], "three equal ranks (same field, same length) break ties by id");
    let mut paged = Vec::new();
    for page in 1..=3 {
        paged.extend(ids(&search(&app, &format!("q=water&page_size=1&page={page}")).await));
    }
    assert_eq!(paged, whole);
    app.shutdown().await;
}

#[tokio::test]
async fn stock_first_puts_in_stock_products_first_keeping_the_sort_within_each_group() {
    let app = TestApp::builder().fixture(matching_catalog).spawn().await;
    let body = search(&app, "q=kettle&store_id=1&stock_first=true").await;
    let found = ids(&body);
    assert_eq!(found, [10, 5, 2, 1, 3], "relevance within each group (10's description is shorter): {body}");
    let by_price = ids(&search(&app, "q=kettle&stock_first=true&sort=price").await);
    assert_eq!(by_price, [5, 10, 2, 3, 1, 11], "in stock anywhere, then out of stock; price within each");
    app.shutdown().await;
}

#[tokio::test]
async fn stock_first_follows_an_order_at_once() {
    let app = TestApp::builder().fixture(matching_catalog).spawn().await;
    assert_eq!(ids(&search(&app, "q=kettle&store_id=1&stock_first=true&sort=price").await), [5, 10, 2, 3, 1]);
    let order = json!({"store_id": 1, "items": [{"product_id": 5, "quantity_requested": 2}]});
    assert_eq!(app.post_order(&order).await.status(), StatusCode::CREATED);
    assert_eq!(ids(&search(&app, "q=kettle&store_id=1&stock_first=true&sort=price").await), [10, 2, 5, 3, 1]);
    app.shutdown().await;
}

#[tokio::test]
async fn highlight_marks_every_matched_word_and_escapes_the_text() {
    let app = TestApp::builder().fixture(matching_catalog).spawn().await;
    let body = search(&app, "q=kettles+steel&highlight=true").await;
    let first = &body["results"][0];
    assert_eq!(first["id"], 1);
    assert_eq!(
        first["highlight"],
        json!({"title": "<mark>Steel</mark> <mark>Kettle</mark>", "description": "boils water"})
    );
    let escaped = search(&app, "q=timer&highlight=true").await;
    assert_eq!(escaped["results"][0]["highlight"]["description"], "ticks &lt;loudly&gt; &amp; clearly");
    assert!(search(&app, "q=timer").await["results"][0].get("highlight").is_none());
    app.shutdown().await;
}

#[tokio::test]
async fn bad_stock_first_and_highlight_values_are_400_problems() {
    let app = TestApp::builder().fixture(matching_catalog).spawn().await;
    for (query, field) in [("stock_first=maybe", "stock_first"), ("highlight=2", "highlight")] {
        let response = app.get(&format!("/api/search/products/?q=kettle&{query}")).await;
        assert_eq!(response.headers()["content-type"], "application/problem+json", "{query}");
        let problem = json_with_status(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(problem["errors"][0]["field"], field);
    }
    app.shutdown().await;
}

#[tokio::test]
async fn hostile_queries_are_answered_not_failed() {
    let app = TestApp::builder().fixture(matching_catalog).spawn().await;
    let long_word = "k".repeat(2000);
    let many_words = "kettle steel ".repeat(250);
    let emoji = "🫖 kettle ☕";
    let nul = "kett\u{0}le";
    for q in [long_word.as_str(), many_words.as_str(), emoji, nul] {
        let query = serde_urlencoded::to_string([("q", q), ("highlight", "true")]).expect("encodable");
        let response = app.get(&format!("/api/search/products/?{query}")).await;
        // A control character is refused (contract, Conventions); anything else is searched.
        let expected = if q == nul { StatusCode::BAD_REQUEST } else { StatusCode::OK };
        assert_eq!(response.status(), expected, "{}", &q[..q.len().min(40)]);
    }
    assert_eq!(sorted(ids(&search(&app, "q=%F0%9F%AB%96+kettle").await)), [1, 2, 3, 5, 10, 11]);
    app.shutdown().await;
}
