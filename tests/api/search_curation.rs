//! Search administration (contract, "Search administration" and "Search", "Synonyms"): the
//! synonym-set and search-rule routes and every status they answer, what a search does with
//! them (a judged set of shopper queries), that pins and hides change `count` only by what they
//! must (a property test), and that a change is seen by the very next search, cache or not.

use std::collections::BTreeSet;

use aforro::db::admin::accounts::create_superuser;
use proptest::prelude::*;
use reqwest::{Method, StatusCode};
use rusqlite::Connection;
use serde_json::{Value, json};

use crate::admin_support::{AdminApp, PASSWORD, USERNAME, login};
use crate::helpers::{TestApp, json_with_status};

/// A shop whose titles say what each product is; the shoppers' words (`jumper`, `trainers`,
/// `dummy`) are in no product.
fn shop(conn: &Connection) {
    conn.execute_batch(
        "INSERT INTO categories (id, name) VALUES (1, 'Clothing'), (2, 'Footwear'), (3, 'Baby'), (4, 'Kitchen'),
                                                 (5, 'Audio'), (6, 'Garden');
         INSERT INTO products (id, title, description, price_cents, category_id, created_at) VALUES
           (1, 'Wool Sweater', 'warm knit for winter', 4000, 1, 1),
           (2, 'Cashmere Sweater', 'soft and light', 9000, 1, 2),
           (3, 'Cotton Sweater', 'navy crew neck', 3000, 1, 3),
           (4, 'White Sneakers', 'leather upper', 6000, 2, 4),
           (5, 'Canvas Sneakers', 'lace up', 3500, 2, 5),
           (6, 'Running Shoes', 'light trail runner', 8000, 2, 6),
           (7, 'Silicone Pacifier', 'for newborns', 500, 3, 7),
           (8, 'Night Pacifier', 'glows in the dark', 700, 3, 8),
           (9, 'Electric Kettle', 'boils water fast', 3000, 4, 9),
           (10, 'Steel Kettle', 'for the stove', 2500, 4, 10),
           (11, 'Wireless Headphones', 'noise cancelling', 12000, 5, 11),
           (12, 'Studio Headphones', 'wired monitor', 9000, 5, 12),
           (13, 'Wool Scarf', 'warm winter scarf', 1500, 1, 13),
           (14, 'Silk Scarf', 'light summer scarf', 2500, 1, 14),
           (15, 'Denim Jeans', 'straight leg', 4000, 1, 15),
           (16, 'Jump Rope', 'for the gym', 900, 6, 16),
           (17, 'Straw Hat', 'wide brim', 2000, 1, 17),
           (18, 'Garden Hose', 'twenty metres', 3000, 6, 18),
           (19, 'Summer Dress', 'linen', 5000, 1, 19),
           (20, 'Slim Jeans', 'stretch', 4500, 1, 20);",
    )
    .expect("shop catalog");
    create_superuser(conn, USERNAME, PASSWORD, false).expect("create the admin");
}

async fn spawn_shop() -> AdminApp {
    let app = TestApp::builder().fixture(shop).spawn().await;
    let token = login(&app, USERNAME, PASSWORD).await;
    AdminApp { app, token }
}

async fn search(admin: &AdminApp, query: &str) -> Value {
    json_with_status(admin.app.get(&format!("/api/search/products/?{query}")).await, StatusCode::OK).await
}

fn ids(body: &Value) -> Vec<i64> {
    body["results"].as_array().expect("results").iter().map(|row| row["id"].as_i64().expect("id")).collect()
}

fn titles(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|row| row["title"].as_str().unwrap_or("").to_owned())
        .collect()
}

async fn put_set(admin: &AdminApp, name: &str, body: Value) {
    admin.call(Method::PUT, &format!("/api/admin/synonyms/{name}/"), Some(body), StatusCode::OK).await;
}

async fn put_rule(admin: &AdminApp, name: &str, body: Value) {
    admin.call(Method::PUT, &format!("/api/admin/search-rules/{name}/"), Some(body), StatusCode::OK).await;
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"].as_array().map_or_else(Vec::new, |errors| {
        errors.iter().map(|error| error["field"].as_str().unwrap_or("").to_owned()).collect()
    })
}

#[tokio::test]
async fn synonym_sets_are_saved_read_listed_by_name_and_deleted_with_every_status() {
    let admin = spawn_shop().await;
    let set = json!({"synonyms": ["sweater", "jumper", "pullover"]});
    let saved = admin.call(Method::PUT, "/api/admin/synonyms/knitwear/", Some(set), StatusCode::OK).await;
    assert_eq!(saved, json!({"name": "knitwear", "root": null, "synonyms": ["sweater", "jumper", "pullover"]}));
    put_set(&admin, "a-shoes", json!({"root": "trainers", "synonyms": ["sneakers", "running shoes"]})).await;
    let got = admin.call(Method::GET, "/api/admin/synonyms/a-shoes/", None, StatusCode::OK).await;
    assert_eq!(got["root"], "trainers");
    let list = admin.call(Method::GET, "/api/admin/synonyms/?page_size=1", None, StatusCode::OK).await;
    assert_eq!((list["count"].as_i64(), list["results"][0]["name"].as_str()), (Some(2), Some("a-shoes")));
    assert!(list["next"].as_str().is_some_and(|next| next.contains("page=2")));
    admin.call(Method::GET, "/api/admin/synonyms/?page=3", None, StatusCode::NOT_FOUND).await;
    admin.call(Method::GET, "/api/admin/synonyms/?page_size=0", None, StatusCode::BAD_REQUEST).await;

    for (name, body, field) in [
        ("Bad Name", json!({"synonyms": ["a", "b"]}), "name"),
        ("one", json!({"synonyms": ["alone"]}), "synonyms"),
        ("long", json!({"synonyms": ["one two three four", "b"]}), "synonyms[0]"),
        ("typed", json!({"synonyms": ["a", 3]}), "synonyms[1]"),
        ("extra", json!({"synonyms": ["a", "b"], "colour": "red"}), "colour"),
    ] {
        let response =
            admin.send(Method::PUT, &format!("/api/admin/synonyms/{}/", name.replace(' ', "%20")), Some(body)).await;
        let problem = json_with_status(response, StatusCode::BAD_REQUEST).await;
        assert!(fields(&problem).contains(&field.to_owned()), "{name}: {problem}");
    }
    let response = admin
        .request(Method::PUT, "/api/admin/synonyms/x/")
        .body("[")
        .header("content-type", "application/json")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let anonymous = admin.app.client.get(admin.app.url("/api/admin/synonyms/")).send().await.expect("request");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    assert_eq!(
        admin.send(Method::DELETE, "/api/admin/synonyms/knitwear/", None).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(admin.send(Method::DELETE, "/api/admin/synonyms/knitwear/", None).await.status(), StatusCode::NOT_FOUND);
    admin.call(Method::GET, "/api/admin/synonyms/knitwear/", None, StatusCode::NOT_FOUND).await;
    let history: i64 = admin
        .app
        .db()
        .query_row("SELECT COUNT(*) FROM admin_log WHERE object_type = 'synonym_set'", [], |row| row.get(0))
        .expect("history");
    assert_eq!(history, 3, "two creates and a delete");
    admin.shutdown().await;
}

#[tokio::test]
async fn search_rules_are_validated_against_the_catalog_and_their_window() {
    let admin = spawn_shop().await;
    let rule = json!({"query": "Summer Sale", "match": "exact", "pin": [{"product_id": 17, "position": 1}], "hide": [14],
                      "active_from": "2026-06-01T00:00:00+02:00", "active_until": null});
    let saved = admin.call(Method::PUT, "/api/admin/search-rules/summer/", Some(rule), StatusCode::OK).await;
    assert_eq!(saved["active_from"], "2026-05-31T22:00:00.000000Z");
    assert_eq!(saved["match"], "exact");
    for (body, field) in [
        (json!({"query": "a", "pin": [{"product_id": 999, "position": 1}]}), "pin[0].product_id"),
        (json!({"query": "a", "hide": [998]}), "hide[0]"),
        (
            json!({"query": "a", "active_from": "2026-06-02T00:00:00Z", "active_until": "2026-06-01T00:00:00Z"}),
            "active_from",
        ),
        (json!({"query": "a", "match": "fuzzy"}), "match"),
        (json!({"query": "  "}), "query"),
        (json!({"query": "a", "hide": (1..=1001).collect::<Vec<i64>>()}), "hide"),
    ] {
        let problem = json_with_status(
            admin.send(Method::PUT, "/api/admin/search-rules/r/", Some(body.clone())).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(fields(&problem).contains(&field.to_owned()), "{body}: {problem}");
    }
    let list = admin.call(Method::GET, "/api/admin/search-rules/", None, StatusCode::OK).await;
    assert_eq!(list["count"], 1);
    admin.call(Method::GET, "/api/admin/search-rules/nope/", None, StatusCode::NOT_FOUND).await;
    assert_eq!(
        admin.send(Method::DELETE, "/api/admin/search-rules/summer/", None).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        admin.send(Method::DELETE, "/api/admin/search-rules/summer/", None).await.status(),
        StatusCode::NOT_FOUND
    );
    admin.shutdown().await;
}

#[tokio::test]
async fn a_changed_synonym_set_or_rule_is_seen_by_the_very_next_search() {
    let admin = spawn_shop().await;
    // Searched twice first, so the answer is in the result cache.
    for _ in 0..2 {
        let before = search(&admin, "q=jumper").await;
        assert_eq!((before["count"].as_i64(), &before["match"]["ignored"]), (Some(0), &json!(["jumper"])));
    }
    put_set(&admin, "knitwear", json!({"synonyms": ["sweater", "jumper"]})).await;
    let after = search(&admin, "q=jumper").await;
    assert_eq!(ids(&after).into_iter().collect::<BTreeSet<_>>(), BTreeSet::from([1, 2, 3]), "{after}");
    assert_eq!(after["match"]["synonyms"], json!({"jumper": ["sweater"]}));

    put_set(&admin, "knitwear", json!({"synonyms": ["scarf", "jumper"]})).await;
    let changed = search(&admin, "q=jumper").await;
    assert_eq!(ids(&changed).into_iter().collect::<BTreeSet<_>>(), BTreeSet::from([13, 14]), "{changed}");

    for _ in 0..2 {
        assert_eq!(ids(&search(&admin, "q=kettle").await)[0], 9);
    }
    put_rule(&admin, "kettles", json!({"query": "kettle", "pin": [{"product_id": 10, "position": 1}]})).await;
    let pinned = search(&admin, "q=kettle").await;
    assert_eq!((ids(&pinned)[0], &pinned["match"]["rules"]), (10, &json!(["kettles"])));
    assert_eq!(
        admin.send(Method::DELETE, "/api/admin/synonyms/knitwear/", None).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(search(&admin, "q=jumper").await["count"], 0);
    admin.shutdown().await;
}

/// What a shopper typed, and the word of the titles they were looking for.
const JUDGED: [(&str, &str); 14] = [
    ("jumper", "sweater"),
    ("jumpr", "sweater"),
    ("mens jumper", "sweater"),
    ("warm pullover", "sweater"),
    ("trainers", "sneakers"),
    ("cheap trainers", "sneakers"),
    ("dummy", "pacifier"),
    ("baby dummy", "pacifier"),
    ("red scarf", "scarf"),
    ("cheap kettle", "kettle"),
    ("best headphones", "headphones"),
    ("mens jeans", "jeans"),
    ("summer sale", "hat"),
    ("runing shoes", "shoes"),
];

#[tokio::test]
async fn judged_shopper_queries_find_the_product_type_they_mean() {
    let admin = spawn_shop().await;
    put_set(&admin, "knitwear", json!({"synonyms": ["sweater", "jumper", "pullover"]})).await;
    put_set(&admin, "trainers", json!({"root": "trainers", "synonyms": ["sneakers", "running shoes"]})).await;
    put_set(&admin, "dummy", json!({"synonyms": ["pacifier", "dummy"]})).await;
    put_rule(&admin, "summer-sale", json!({"query": "summer sale", "pin": [{"product_id": 17, "position": 1}]})).await;

    let mut found = 0;
    let mut misses = Vec::new();
    for (q, wanted) in JUDGED {
        let body = search(&admin, &format!("q={}&page_size=3", q.replace(' ', "+"))).await;
        // Found: one of the first three results is of the wanted type.
        if titles(&body).iter().any(|title| title.to_lowercase().contains(wanted)) {
            found += 1;
        } else {
            misses.push((q, titles(&body)));
        }
    }
    let share = f64::from(found) / JUDGED.len() as f64;
    println!("judged shopper queries: {found}/{} find their product type in the top 3", JUDGED.len());
    assert!(share >= 0.9, "{share}: missed {misses:?}");

    // The exact word outranks what a synonym brings; a typo-reached synonym carries its typo.
    let sweater = search(&admin, "q=sweater").await;
    assert_eq!(
        sweater["match"]["synonyms"],
        json!({}),
        "no product says jumper or pullover: nothing matched through them"
    );
    let jumpr = search(&admin, "q=jumpr&highlight=true").await;
    assert_eq!(jumpr["match"]["synonyms"]["jumpr"], json!(["sweater"]), "{jumpr}");
    let first = &jumpr["results"][0];
    assert_eq!(first["title"], "Jump Rope", "a typo of a catalog word ranks above a synonym reached through a typo");
    let marked: Vec<&str> = jumpr["results"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|row| row["highlight"]["title"].as_str())
        .collect();
    assert!(marked.contains(&"Wool <mark>Sweater</mark>"), "{marked:?}");
    // A multi-word entry matches as a query of its words; the one-way set does not go back.
    assert!(ids(&search(&admin, "q=trainers").await).contains(&6));
    assert!(!ids(&search(&admin, "q=sneakers").await).contains(&6));
    let run = search(&admin, "q=running+shoes").await;
    assert_eq!(ids(&run), [6], "running shoes is no key of a multi-way set: {run}");
    admin.shutdown().await;
}

#[tokio::test]
async fn pins_take_their_places_under_relevance_when_they_pass_the_filters_and_hides_are_gone() {
    let admin = spawn_shop().await;
    put_rule(
        &admin,
        "a-kettle",
        json!({"query": "kettle", "match": "contains",
               "pin": [{"product_id": 18, "position": 1}, {"product_id": 7, "position": 50}], "hide": [9]}),
    )
    .await;
    let body = search(&admin, "q=steel+kettle").await;
    assert_eq!(ids(&body), [18, 10, 7], "{body}");
    assert_eq!(body["count"], 3);
    let facets: Vec<(i64, i64)> = body["facets"]["category"]
        .as_array()
        .expect("facets")
        .iter()
        .map(|f| (f["id"].as_i64().unwrap_or(0), f["count"].as_i64().unwrap_or(0)))
        .collect();
    assert_eq!(facets.into_iter().collect::<BTreeSet<_>>(), BTreeSet::from([(3, 1), (4, 1), (6, 1)]));
    assert_eq!(body["match"]["rules"], json!(["a-kettle"]));
    // A pin that fails the filters is neither shown nor counted.
    let filtered = search(&admin, "q=kettle&max_price=25.00").await;
    assert_eq!(ids(&filtered), [10, 7], "{filtered}");
    // Other sorts only hide.
    let by_price = search(&admin, "q=kettle&sort=price").await;
    assert_eq!(ids(&by_price), [10]);
    // Every word ignored: only the pinned products.
    put_rule(&admin, "b-sale", json!({"query": "mega deals", "pin": [{"product_id": 17, "position": 2}]})).await;
    let deals = search(&admin, "q=mega+deals").await;
    assert_eq!((ids(&deals), deals["count"].as_i64()), (vec![17], Some(1)), "{deals}");
    // A closed window applies nothing.
    put_rule(&admin, "b-sale", json!({"query": "mega deals", "pin": [{"product_id": 17, "position": 2}], "active_until": "2020-01-01T00:00:00Z"})).await;
    assert_eq!(search(&admin, "q=mega+deals").await["count"], 0);
    admin.shutdown().await;
}

/// Every product id, for the property test.
const PRODUCTS: std::ops::RangeInclusive<i64> = 1..=20;

#[test]
fn pins_and_hides_change_count_only_by_the_hidden_matches_and_the_pins_that_pass_the_filters() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let admin = runtime.block_on(spawn_shop());
    let queries = ["sweater", "wool", "kettle", "scarf", "jeans", "light"];
    let filters = ["", "&max_price=40.00", "&category=1", "&min_price=20.00&category=Footwear"];
    let strategy = (
        0..queries.len(),
        0..filters.len(),
        proptest::collection::btree_set(PRODUCTS, 0..5),
        proptest::collection::btree_set(PRODUCTS, 0..5),
    );
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(24));
    let outcome = runner.run(&strategy, |(q, filter, pins, hides)| {
        runtime.block_on(async {
            let (q, filter) = (queries[q], filters[filter]);
            admin.send(Method::DELETE, "/api/admin/search-rules/p/", None).await;
            let without = search(&admin, &format!("q={q}{filter}&page_size=100")).await;
            let matched: BTreeSet<i64> = ids(&without).into_iter().collect();
            let passing: BTreeSet<i64> =
                ids(&search(&admin, &format!("sort=price{filter}&page_size=100")).await).into_iter().collect();
            let pin: Vec<Value> =
                pins.iter().enumerate().map(|(i, id)| json!({"product_id": id, "position": i + 1})).collect();
            put_rule(&admin, "p", json!({"query": q, "pin": pin, "hide": hides})).await;
            let with = search(&admin, &format!("q={q}{filter}&page_size=100")).await;
            let hidden_matches = matched.intersection(&hides).count();
            let new_pins =
                pins.iter().filter(|id| passing.contains(id) && !hides.contains(id) && !matched.contains(id)).count();
            let expected = matched.len() - hidden_matches + new_pins;
            prop_assert_eq!(
                with["count"].as_u64(),
                Some(expected as u64),
                "{} {} {:?} {:?}: {}",
                q,
                filter,
                pins,
                hides,
                with
            );
            prop_assert!(ids(&with).iter().all(|id| !hides.contains(id)));
            Ok(())
        })
    });
    runtime.block_on(admin.shutdown());
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

#[tokio::test]
async fn the_admin_pages_add_edit_and_delete_sets_and_rules_each_in_the_history() {
    use crate::admin_web::{csrf_of, log_in, page, post_form};
    let admin = spawn_shop().await;
    let cookie = log_in(&admin).await;
    // The insights page links here with the no-result query prefilled.
    let form = page(&admin, &cookie, "/admin/synonyms/new/?q=jumper").await;
    assert!(form.contains(">jumper</textarea>") && form.contains("value=\"jumper\""), "{form}");
    let csrf = csrf_of(&form);
    let fields = [("csrf", csrf.as_str()), ("name", "knitwear"), ("root", ""), ("synonyms", "jumper\nsweater")];
    let saved = post_form(&admin, Some(&cookie), "/admin/synonyms/new/", &fields).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(search(&admin, "q=jumper").await["count"], 3, "the very next search uses it");
    let without_csrf = post_form(&admin, Some(&cookie), "/admin/synonyms/new/", &fields[1..]).await;
    assert_ne!(without_csrf.status(), StatusCode::SEE_OTHER);
    let invalid = [("csrf", csrf.as_str()), ("name", "solo"), ("root", ""), ("synonyms", "alone")];
    assert_eq!(
        post_form(&admin, Some(&cookie), "/admin/synonyms/new/", &invalid).await.status(),
        StatusCode::BAD_REQUEST
    );

    let edit = page(&admin, &cookie, "/admin/synonyms/knitwear/").await;
    let fields = [
        ("csrf", csrf_of(&edit)),
        ("name", "knitwear".into()),
        ("root", String::new()),
        ("synonyms", "jumper\nscarf".into()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        post_form(&admin, Some(&cookie), "/admin/synonyms/knitwear/", &fields).await.status(),
        StatusCode::SEE_OTHER
    );
    let edited = page(&admin, &cookie, "/admin/synonyms/knitwear/").await;
    assert!(edited.contains("id=\"history\"") && edited.contains("change"), "{edited}");
    assert!(page(&admin, &cookie, "/admin/synonyms/").await.contains("jumper, scarf"));
    let confirm = page(&admin, &cookie, "/admin/synonyms/knitwear/delete/").await;
    let deleted =
        post_form(&admin, Some(&cookie), "/admin/synonyms/knitwear/delete/", &[("csrf", &csrf_of(&confirm))]).await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    assert_eq!(search(&admin, "q=jumper").await["count"], 0);

    let form = page(&admin, &cookie, "/admin/search-rules/new/?q=summer+sale").await;
    assert!(form.contains("value=\"summer sale\""), "{form}");
    let fields = [
        ("csrf", csrf_of(&form)),
        ("name", "summer-sale".into()),
        ("query", "summer sale".into()),
        ("match", "exact".into()),
        ("pin", "17 1".into()),
        ("hide", "19".into()),
        ("active_from", String::new()),
        ("active_until", String::new()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        post_form(&admin, Some(&cookie), "/admin/search-rules/new/", &fields).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(ids(&search(&admin, "q=summer+sale").await), [17, 14], "pinned first, the summer dress hidden");
    let mut unknown = fields.clone();
    unknown[5] = ("pin", "999 1");
    assert_eq!(
        post_form(&admin, Some(&cookie), "/admin/search-rules/new/", &unknown).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert!(page(&admin, &cookie, "/admin/search-rules/summer-sale/").await.contains("id=\"history\""));
    let confirm = page(&admin, &cookie, "/admin/search-rules/summer-sale/delete/").await;
    let deleted =
        post_form(&admin, Some(&cookie), "/admin/search-rules/summer-sale/delete/", &[("csrf", &csrf_of(&confirm))])
            .await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    let entries: i64 = admin
        .app
        .db()
        .query_row("SELECT COUNT(*) FROM admin_log WHERE object_type IN ('synonym_set', 'search_rule')", [], |row| {
            row.get(0)
        })
        .expect("history");
    assert_eq!(entries, 5, "set: create, change, delete; rule: create, delete");
    admin.shutdown().await;
}
