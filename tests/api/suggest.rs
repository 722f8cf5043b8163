//! `GET /api/search/suggest/`: ranking, typo tolerance, validation, the cache and its
//! invalidation by catalog changes.

use aforro::domain::catalog::ProductFields;
use aforro::domain::{CategoryId, ProductId};
use reqwest::StatusCode;
use rusqlite::Connection;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_with_status, test_actor};

/// Products (id, title) in category 1, with no orders and no stock unless a test adds them.
fn catalog_of(titles: &'static [(i64, &'static str)]) -> impl FnOnce(&Connection) + Send + 'static {
    move |conn| {
        conn.execute("INSERT INTO categories (id, name) VALUES (1, 'Kitchen')", []).expect("category");
        for (id, title) in titles {
            conn.execute(
                "INSERT INTO products (id, title, price_cents, category_id, created_at) VALUES (?1, ?2, 100, 1, 0)",
                rusqlite::params![id, title],
            )
            .expect("product");
        }
    }
}

async fn suggestions(app: &TestApp, q: &str) -> Vec<String> {
    let url = reqwest::Url::parse_with_params(&app.url("/api/search/suggest/"), [("q", q)]).expect("url");
    let response = app.client.get(url).send().await.expect("request");
    let body = json_with_status(response, StatusCode::OK).await;
    serde_json::from_value(body["results"].clone()).expect("results is a list of titles")
}

fn kitchen(title: &str) -> ProductFields {
    ProductFields { title: title.to_owned(), description: String::new(), price_cents: 100, category_id: CategoryId(1) }
}

#[tokio::test]
async fn titles_whose_first_word_starts_with_q_come_first() {
    let app = TestApp::builder()
        .fixture(catalog_of(&[(1, "Steel Kettle"), (2, "Kettle Large"), (3, "Kettlebell"), (4, "Toaster")]))
        .spawn()
        .await;

    assert_eq!(suggestions(&app, "kett").await, ["Kettlebell", "Kettle Large", "Steel Kettle"]);
    app.shutdown().await;
}

#[tokio::test]
async fn earlier_words_of_q_must_match_whole_words_and_the_last_is_a_prefix() {
    let app = TestApp::builder()
        .fixture(catalog_of(&[
            (1, "Steel Kettle"),
            (2, "Steelworks Kettle"),
            (3, "Kettle of Steel"),
            (4, "Steel Toaster"),
        ]))
        .spawn()
        .await;

    assert_eq!(suggestions(&app, "steel ket").await, ["Steel Kettle", "Kettle of Steel"]);
    app.shutdown().await;
}

#[tokio::test]
async fn more_popular_titles_rank_first_within_a_group() {
    let app = TestApp::builder()
        .fixture(|conn: &Connection| {
            catalog_of(&[(1, "Tent A"), (2, "Tent Bestseller Large"), (3, "Tent Stocked")])(conn);
            conn.execute_batch(
                "INSERT INTO stores (id, name) VALUES (1, 'Lisbon');
             INSERT INTO inventory (store_id, product_id, quantity) VALUES (1, 3, 9);
             INSERT INTO orders (id, store_id, status, created_at) VALUES (1, 1, 'CONFIRMED', 0), (2, 1, 'REJECTED', 0);
             INSERT INTO order_items (order_id, product_id, quantity_requested) VALUES (1, 2, 1), (2, 1, 50);",
            )
            .expect("orders and stock");
        })
        .spawn()
        .await;

    assert_eq!(suggestions(&app, "tent").await, ["Tent Bestseller Large", "Tent Stocked", "Tent A"]);
    app.shutdown().await;
}

#[tokio::test]
async fn at_most_ten_titles_are_suggested_each_once() {
    let app = TestApp::builder()
        .fixture(|conn: &Connection| {
            catalog_of(&[])(conn);
            for id in 1..=24 {
                let title = format!("Lamp {:02}", id % 12); // every title twice
                conn.execute(
                    "INSERT INTO products (id, title, price_cents, category_id, created_at) VALUES (?1, ?2, 100, 1, 0)",
                    rusqlite::params![id, title],
                )
                .expect("product");
            }
        })
        .spawn()
        .await;

    let titles = suggestions(&app, "lamp").await;

    let expected: Vec<String> = (0..10).map(|n| format!("Lamp {n:02}")).collect();
    assert_eq!(titles, expected);
    app.shutdown().await;
}

#[tokio::test]
async fn matching_ignores_case_and_accents() {
    let app = TestApp::builder().fixture(catalog_of(&[(1, "Crème Kettle"), (2, "Élan Toaster")])).spawn().await;

    assert_eq!(suggestions(&app, "creme").await, ["Crème Kettle"]);
    assert_eq!(suggestions(&app, "CRÈME KET").await, ["Crème Kettle"]);
    assert_eq!(suggestions(&app, "ELAN").await, ["Élan Toaster"]);
    app.shutdown().await;
}

#[tokio::test]
async fn a_dropped_swapped_or_wrong_letter_in_a_seven_letter_word_still_suggests_it() {
    let app = TestApp::builder().fixture(catalog_of(&[(1, "Acme Blender"), (2, "Acme Toaster")])).spawn().await;

    for typo in ["blnder", "bledner", "blendar"] {
        assert_eq!(suggestions(&app, typo).await, ["Acme Blender"], "q={typo}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn a_missing_short_or_long_q_is_a_400_naming_q() {
    let app = TestApp::builder().fixture(catalog_of(&[(1, "Kettle")])).spawn().await;
    let long = "k".repeat(101);
    for path in [
        "/api/search/suggest/".to_owned(),
        "/api/search/suggest/?q=%20ke%20".to_owned(),
        format!("/api/search/suggest/?q={long}"),
    ] {
        let problem = json_with_status(app.get(&path).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(problem["errors"][0]["field"], json!("q"), "{path}: {problem}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn a_cached_answer_is_identical_and_counts_a_hit() {
    let app = TestApp::builder().fixture(catalog_of(&[(1, "Steel Kettle"), (2, "Kettlebell")])).spawn().await;
    let suggest = &app.state.suggest;
    let first = app.get("/api/search/suggest/?q=kettle").await.text().await.expect("body");
    let hits_before = suggest.cache_hits();

    let second = app.get("/api/search/suggest/?q=%20KETTLE%20").await.text().await.expect("body");

    assert_eq!(second, first);
    assert_eq!(suggest.cache_hits(), hits_before + 1);
    let parsed: Value = serde_json::from_str(&second).expect("JSON");
    assert_eq!(parsed, json!({"results": ["Kettlebell", "Steel Kettle"]}));
    app.shutdown().await;
}

#[tokio::test]
async fn a_renamed_product_never_shows_its_old_title_even_once_cached() {
    let app = TestApp::builder().fixture(catalog_of(&[(1, "Steel Kettle"), (2, "Kettle Large")])).spawn().await;
    assert_eq!(suggestions(&app, "kettle").await, ["Kettle Large", "Steel Kettle"]); // now cached

    app.state.writer.save_product_as(test_actor(), Some(ProductId(1)), kitchen("Copper Kettle")).await.expect("rename");

    // Straight after the write, before the rebuild can have landed.
    let right_after = suggestions(&app, "kettle").await;
    assert!(!right_after.contains(&"Steel Kettle".to_owned()), "{right_after:?}");
    assert!(right_after.contains(&"Copper Kettle".to_owned()), "{right_after:?}");
    app.state.suggest.wait_until_current().await;
    assert_eq!(suggestions(&app, "kettle").await, ["Kettle Large", "Copper Kettle"]);
    assert!(suggestions(&app, "steel").await.is_empty());
    app.shutdown().await;
}

#[tokio::test]
async fn a_new_product_is_suggested_at_once() {
    let app = TestApp::builder().fixture(catalog_of(&[(1, "Steel Kettle")])).spawn().await;
    assert_eq!(suggestions(&app, "toast").await, Vec::<String>::new()); // cached as empty

    app.state.writer.save_product_as(test_actor(), None, kitchen("Toaster Deluxe")).await.expect("create");

    assert_eq!(suggestions(&app, "toast").await, ["Toaster Deluxe"]);
    app.state.suggest.wait_until_current().await;
    assert_eq!(suggestions(&app, "toast").await, ["Toaster Deluxe"]);
    app.shutdown().await;
}

#[tokio::test]
async fn orders_move_a_title_up_once_the_popularity_refresh_interval_has_passed() {
    let app = TestApp::builder()
        .fixture(|conn: &Connection| {
            catalog_of(&[(1, "Tent Alpha"), (2, "Tent Bravo")])(conn);
            conn.execute_batch(
                "INSERT INTO stores (id, name) VALUES (1, 'Lisbon');
                 INSERT INTO inventory (store_id, product_id, quantity) VALUES (1, 1, 5), (1, 2, 5);",
            )
            .expect("stock");
        })
        // No interval at all: the first order after the first build asks for a rebuild.
        .configure(|config| config.suggest_refresh = std::time::Duration::ZERO)
        .spawn()
        .await;
    // Same units ordered, same stock, same length: alphabetical.
    assert_eq!(suggestions(&app, "tent").await, ["Tent Alpha", "Tent Bravo"]);

    let order = json!({"store_id": 1, "items": [{"product_id": 2, "quantity_requested": 1}]});
    json_with_status(app.post_order(&order).await, StatusCode::CREATED).await;

    // A bounded poll: a popularity rebuild has no catalog change for `wait_until_current`.
    let mut ranked = Vec::new();
    for _ in 0..500 {
        ranked = suggestions(&app, "tent").await;
        if ranked == ["Tent Bravo", "Tent Alpha"] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(ranked, ["Tent Bravo", "Tent Alpha"], "one unit ordered ranks Bravo first after the refresh");
    app.shutdown().await;
}
