//! `GET /api/search/products/`: parameters, errors, relevance, facets, and consistency with
//! orders and catalog writes.

use aforro::domain::PageRequest;
use aforro::domain::catalog::ProductFields;
use aforro::domain::{CategoryId, ProductId};
use aforro::search::{SearchRequest, SortOrder};
use reqwest::StatusCode;
use rusqlite::Connection;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_with_status, small_catalog, test_actor};

async fn search(app: &TestApp, query: &str) -> Value {
    json_with_status(app.get(&format!("/api/search/products/?{query}")).await, StatusCode::OK).await
}

async fn search_status(app: &TestApp, query: &str) -> StatusCode {
    app.get(&format!("/api/search/products/?{query}")).await.status()
}

fn ids(body: &Value) -> Vec<i64> {
    body["results"].as_array().expect("results").iter().map(|row| row["id"].as_i64().expect("id")).collect()
}

/// Products chosen to test ranking: "kettle" in a title vs only in a description, and
/// documents with both or one of "steel kettle".
fn ranking_catalog(conn: &Connection) {
    conn.execute_batch(
        "INSERT INTO categories (id, name) VALUES (1, 'Kitchen');
         INSERT INTO products (id, title, description, price_cents, category_id, created_at) VALUES
           (1, 'Copper Teapot', 'pairs well with any kettle', 1000, 1, 1),
           (2, 'Electric Kettle', 'boils water fast', 2000, 1, 2),
           (3, 'Steel Whisk', 'whips cream', 500, 1, 3),
           (4, 'Steel Kettle', 'a classic', 3000, 1, 4),
           (5, 'Élan Crème Pot', 'for crème brûlée', 1500, 1, 5);",
    )
    .expect("ranking catalog");
}

#[tokio::test]
async fn a_title_hit_ranks_above_a_description_only_hit() {
    let app = TestApp::builder().fixture(ranking_catalog).spawn().await;

    let body = search(&app, "q=kettle").await;

    let found = ids(&body);
    assert_eq!(found.len(), 3);
    assert_eq!(*found.last().expect("three"), 1, "the description-only hit comes last: {found:?}");
    let scores: Vec<f64> =
        body["results"].as_array().expect("rows").iter().map(|r| r["score"].as_f64().expect("score")).collect();
    assert!(scores.windows(2).all(|pair| pair[0] >= pair[1]), "scores descend: {scores:?}");
    app.shutdown().await;
}

#[tokio::test]
async fn every_word_must_match() {
    let app = TestApp::builder().fixture(ranking_catalog).spawn().await;

    let body = search(&app, "q=steel%20kettle").await;

    assert_eq!(ids(&body), [4], "{body}");
    assert_eq!(
        body["match"],
        json!({"mode": "all", "dropped": [], "ignored": [], "did_you_mean": null, "synonyms": {}, "rules": []})
    );
    app.shutdown().await;
}

#[tokio::test]
async fn accents_and_case_do_not_matter() {
    let app = TestApp::builder().fixture(ranking_catalog).spawn().await;
    assert_eq!(ids(&search(&app, "q=ELAN%20creme").await), [5]);
    assert_eq!(ids(&search(&app, "q=%C3%A9lan").await), [5]);
    app.shutdown().await;
}

#[tokio::test]
async fn without_q_results_are_newest_first_with_every_field_and_no_score() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;

    let body = search(&app, "").await;

    assert_eq!(body["count"], 5);
    assert_eq!(ids(&body), [5, 4, 3, 2, 1]);
    let first = &body["results"][0];
    assert_eq!(first["title"], "Atlas Mug");
    assert_eq!(first["description"], "holds tea");
    assert_eq!(first["price"], "8.00");
    assert_eq!(first["category"], "Kitchen");
    assert_eq!(first["category_id"], 1);
    assert_eq!(first["created_at"], "1970-01-01T00:00:00.005000Z");
    assert!(first.get("score").is_none() && first.get("quantity").is_none(), "{first}");
    app.shutdown().await;
}

#[tokio::test]
async fn sorts_by_price_both_ways_and_breaks_ties_by_id() {
    let app = TestApp::builder()
        .fixture(|conn| {
            small_catalog(conn);
            conn.execute("INSERT INTO products VALUES (6, 'Twin Mug', '', 800, 1, 6000)", []).expect("twin");
        })
        .spawn()
        .await;

    assert_eq!(ids(&search(&app, "sort=price").await), [5, 6, 2, 4, 1, 3]);
    assert_eq!(ids(&search(&app, "sort=-price").await), [3, 1, 4, 2, 5, 6]);
    assert_eq!(ids(&search(&app, "sort=newest").await), [6, 5, 4, 3, 2, 1]);
    app.shutdown().await;
}

#[tokio::test]
async fn relevance_sort_shows_the_score_and_price_sort_does_not() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    assert!(search(&app, "q=kettle").await["results"][0]["score"].as_f64().expect("score") > 0.0);
    assert!(search(&app, "q=kettle&sort=price").await["results"][0].get("score").is_none());
    app.shutdown().await;
}

#[tokio::test]
async fn category_filters_by_id_or_by_name_in_any_case() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    assert_eq!(ids(&search(&app, "category=2").await), [4, 3]);
    assert_eq!(ids(&search(&app, "category=oUtDoOr").await), [4, 3]);
    let unknown = search(&app, "category=Garden").await;
    assert_eq!((unknown["count"].clone(), ids(&unknown)), (json!(0), vec![]));
    assert_eq!(search(&app, "category=99").await["count"], 0);
    app.shutdown().await;
}

#[tokio::test]
async fn the_price_range_is_inclusive_at_both_ends() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    assert_eq!(ids(&search(&app, "min_price=12.5&max_price=25").await), [4, 2, 1]);
    assert_eq!(ids(&search(&app, "min_price=99.99").await), [3]);
    assert_eq!(ids(&search(&app, "max_price=8").await), [5]);
    app.shutdown().await;
}

#[tokio::test]
async fn bad_parameters_are_400_naming_the_field() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    for (query, field) in [
        ("min_price=abc", "min_price"),
        ("max_price=-1", "max_price"),
        ("max_price=1.234", "max_price"),
        ("min_price=20&max_price=10", "min_price"),
        ("sort=score", "sort"),
        ("sort=Price", "sort"),
        ("in_stock=maybe", "in_stock"),
        ("store_id=abc", "store_id"),
        ("page_size=0", "page_size"),
        ("page=-1", "page"),
    ] {
        let body =
            json_with_status(app.get(&format!("/api/search/products/?{query}")).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn an_unknown_store_is_404_and_a_page_past_the_end_too() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    json_with_status(app.get("/api/search/products/?store_id=999").await, StatusCode::NOT_FOUND).await;
    json_with_status(app.get("/api/search/products/?page=2").await, StatusCode::NOT_FOUND).await;
    app.shutdown().await;
}

#[tokio::test]
async fn pages_link_to_each_other_and_count_everything() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;

    let second = search(&app, "page_size=2&page=2").await;

    assert_eq!(second["count"], 5);
    assert_eq!(ids(&second), [3, 2]);
    assert_eq!(second["next"], format!("http://{}/api/search/products/?page_size=2&page=3", app.address));
    assert_eq!(second["previous"], format!("http://{}/api/search/products/?page_size=2", app.address));
    assert_eq!(ids(&search(&app, "page_size=2&page=3").await), [1]);
    app.shutdown().await;
}

#[tokio::test]
async fn store_id_keeps_what_the_store_carries_and_shows_its_quantity() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;

    let body = search(&app, "store_id=2").await;

    assert_eq!(ids(&body), [1]);
    assert_eq!(body["results"][0]["quantity"], 7);
    assert_eq!(ids(&search(&app, "store_id=1&in_stock=true").await), [5, 4, 2, 1]);
    assert_eq!(ids(&search(&app, "store_id=1&in_stock=false").await), [3]);
    app.shutdown().await;
}

#[tokio::test]
async fn in_stock_without_a_store_means_in_stock_anywhere() {
    let app = TestApp::builder()
        .fixture(|conn| {
            small_catalog(conn);
            conn.execute("INSERT INTO products VALUES (6, 'Nowhere Lamp', '', 100, 1, 6000)", []).expect("product");
        })
        .spawn()
        .await;
    assert_eq!(ids(&search(&app, "in_stock=true").await), [5, 4, 2, 1]);
    assert_eq!(ids(&search(&app, "in_stock=false").await), [6, 3]);
    app.shutdown().await;
}

#[tokio::test]
async fn an_order_that_empties_a_product_hides_it_from_in_stock_in_the_very_next_request() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    assert!(ids(&search(&app, "store_id=1&in_stock=true").await).contains(&2));

    let order = json!({"store_id": 1, "items": [{"product_id": 2, "quantity_requested": 3}]});
    json_with_status(app.post_order(&order).await, StatusCode::CREATED).await;
    let after = search(&app, "store_id=1&in_stock=true").await;

    assert!(!ids(&after).contains(&2), "{after}");
    assert_eq!(after["count"], 3);
    let emptied = search(&app, "store_id=1&in_stock=false").await;
    assert_eq!(ids(&emptied), [3, 2]);
    assert_eq!(emptied["results"][1]["quantity"], 0);
    app.shutdown().await;
}

#[tokio::test]
async fn an_order_updates_the_quantity_shown() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let order = json!({"store_id": 2, "items": [{"product_id": 1, "quantity_requested": 5}]});
    json_with_status(app.post_order(&order).await, StatusCode::CREATED).await;

    assert_eq!(search(&app, "store_id=2").await["results"][0]["quantity"], 2);
    app.shutdown().await;
}

#[tokio::test]
async fn a_saved_product_is_searchable_as_soon_as_the_save_returns() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let fields = |title: &str| ProductFields {
        title: title.to_owned(),
        description: "new".to_owned(),
        price_cents: 4200,
        category_id: CategoryId(2),
    };

    let id = app.state.writer.save_product_as(test_actor(), None, fields("Thermos Flask")).await.expect("created");
    assert_eq!(ids(&search(&app, "q=thermos").await), [id.0]);

    app.state.writer.save_product_as(test_actor(), Some(id), fields("Picnic Basket")).await.expect("renamed");
    assert_eq!(search(&app, "q=thermos").await["count"], 0, "the old title is gone");
    assert_eq!(ids(&search(&app, "q=picnic").await), [id.0]);
    assert_eq!(search(&app, "").await["count"], 6, "replaced, not duplicated");
    app.state.writer.save_product_as(test_actor(), Some(ProductId(2)), fields("Bread Board")).await.expect("renamed");
    assert_eq!(search(&app, "q=bamboo").await["count"], 0);
    let store = search(&app, "store_id=1").await;
    assert_eq!(ids(&store), [5, 4, 3, 2, 1], "a replaced document is still found through its store, once");
    assert_eq!(store["results"][3]["title"], "Bread Board");
    app.shutdown().await;
}

#[tokio::test]
async fn odd_q_strings_are_plain_words_and_never_fail() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    let long = "kettle ".repeat(80);
    let odd = [
        "\"",
        "title:x AND (",
        "*",
        "kettle*",
        "(((",
        "-",
        "+kettle -tent",
        "title:kettle",
        "~2",
        "a\\b",
        "[1 TO 5]",
        "é",
        "🫖",
        &long,
    ];
    for q in odd {
        let query = serde_urlencoded::to_string([("q", q)]).expect("encodable");
        assert_eq!(search_status(&app, &query).await, StatusCode::OK, "q={q:?}");
    }
    let body = search(&app, "q=steel%3Akettle").await;
    assert_eq!(ids(&body), [1], "the field syntax is just two words, both matched");
    // Control characters are the one exception: a query word never holds one (contract,
    // Conventions), so they are 400, not searched.
    for control in ["q=%00%01", "q=%01%7F"] {
        assert_eq!(search_status(&app, control).await, StatusCode::BAD_REQUEST, "{control}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn q_without_words_matches_nothing_and_blank_q_matches_everything() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    assert_eq!(search(&app, "q=%2A%22").await["count"], 0);
    assert_eq!(search(&app, "q=%20%20").await["count"], 5);
    app.shutdown().await;
}

#[tokio::test]
async fn facets_cover_every_match_not_just_the_page() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;

    let body = search(&app, "page_size=1").await;

    assert_eq!(
        body["facets"],
        json!({
            "category": [{"id": 1, "name": "Kitchen", "count": 3}, {"id": 2, "name": "Outdoor", "count": 2}],
            "price": {"min": "8.00", "max": "99.99"}
        })
    );
    let none = search(&app, "q=nothing").await;
    assert_eq!(none["facets"], json!({"category": [], "price": {"min": null, "max": null}}));
    app.shutdown().await;
}

#[tokio::test]
async fn words_can_be_sorted_by_newest_or_price_instead_of_relevance() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    assert_eq!(ids(&search(&app, "q=kitchen&sort=newest").await), [5, 2, 1]);
    assert_eq!(ids(&search(&app, "q=kitchen&sort=-price").await), [1, 2, 5]);
    app.shutdown().await;
}

/// Computes the precomputed browse orders now, instead of in the background.
async fn precompute_browse_orders(app: &TestApp) {
    for sort in [SortOrder::PriceAscending, SortOrder::PriceDescending, SortOrder::Newest] {
        let search = app.state.search.clone();
        tokio::task::spawn_blocking(move || search.compute_browse(sort)).await.expect("task").expect("computed");
    }
}

/// The same answer as the HTTP body, straight from the index (no result cache in between).
async fn search_uncached(app: &TestApp, sort: SortOrder, page: u32, page_size: u32) -> Value {
    let request = SearchRequest { sort, page: PageRequest { page, page_size }, ..SearchRequest::default() };
    let (search, reads) = (app.state.search.clone(), app.state.reads.clone());
    let results = reads.run(move |conn| search.search(conn, &request)).await.expect("search");
    json!({"count": results.count, "results": results.rows, "facets": results.facets})
}

#[tokio::test]
async fn the_unfiltered_browse_follows_catalog_changes_in_every_sort() {
    let app = TestApp::builder().fixture(small_catalog).spawn().await;
    precompute_browse_orders(&app).await; // orders of the old catalog, which must not be served
    let product = |title: &str, price_cents| ProductFields {
        title: title.to_owned(),
        description: String::new(),
        price_cents,
        category_id: CategoryId(2),
    };
    let cheapest =
        app.state.writer.save_product_as(test_actor(), None, product("Penny Sweet", 1)).await.expect("saved");
    let dearest =
        app.state.writer.save_product_as(test_actor(), None, product("Gold Tent", 99_999)).await.expect("saved");

    let by_price = search(&app, "sort=price").await;
    let dearest_first = search(&app, "sort=-price&page_size=2").await;
    let newest = search(&app, "sort=newest&page_size=1").await;
    let second_page = search(&app, "sort=price&page_size=3&page=2").await;

    assert_eq!(by_price["count"], 7);
    assert_eq!(ids(&by_price), [cheapest.0, 5, 2, 4, 1, 3, dearest.0]);
    assert_eq!(by_price["facets"]["price"], json!({"min": "0.01", "max": "999.99"}));
    assert_eq!(by_price["facets"]["category"][0], json!({"id": 2, "name": "Outdoor", "count": 4}));
    assert_eq!(ids(&dearest_first), [dearest.0, 3]);
    assert_eq!(ids(&newest), [dearest.0], "created last");
    assert_eq!(ids(&second_page), [4, 1, 3]);
    assert_eq!(second_page["count"], 7);

    // Now from the precomputed orders of the new catalog: the same answers.
    precompute_browse_orders(&app).await;
    let cases = [
        (&by_price, SortOrder::PriceAscending, 1, 20),
        (&dearest_first, SortOrder::PriceDescending, 1, 2),
        (&newest, SortOrder::Newest, 1, 1),
        (&second_page, SortOrder::PriceAscending, 2, 3),
    ];
    for (body, sort, page, page_size) in cases {
        let precomputed = search_uncached(&app, sort, page, page_size).await;
        for part in ["count", "results", "facets"] {
            assert_eq!(precomputed[part], body[part], "{sort:?} page {page} of {page_size}: {part}");
        }
    }
    app.shutdown().await;
}
