//! Contention: many clients at once fighting over a little stock, over real HTTP. Nothing is
//! oversold, nothing is lost, the derived stock view agrees with SQLite afterwards, and the
//! stock ledger holds one movement per confirmed line, chained from the initial stock.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::StatusCode;
use rusqlite::Connection;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_with_status};

const CLIENTS: u64 = 64;
const ORDERS_PER_CLIENT: usize = 8;
const HOT_PRODUCTS: [i64; 5] = [1, 2, 3, 4, 5];
const INITIAL_STOCK: i64 = 40;
const STORE: i64 = 1;
/// Fixed, so a failure replays with the same orders.
const SEED: u64 = 0x5EED_0008;
/// The whole run takes a few seconds; this bounds it if the server stops answering.
const RUN_DEADLINE: Duration = Duration::from_secs(20);

/// One order as sent and what the server said.
#[derive(Debug)]
struct Outcome {
    lines: Vec<(i64, i64)>,
    status: StatusCode,
    body: Value,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_orders_never_oversell_and_every_order_is_accounted_for() {
    let app = TestApp::builder().fixture(hot_products).spawn().await;

    let outcomes = tokio::time::timeout(RUN_DEADLINE, place_orders_concurrently(&app))
        .await
        .expect("64 clients finish within the deadline");

    let mut created = 0;
    let mut deducted: BTreeMap<i64, i64> = BTreeMap::new();
    for outcome in &outcomes {
        assert!(
            outcome.status == StatusCode::CREATED || outcome.status == StatusCode::CONFLICT,
            "every order is 201 or 409, got {} {}",
            outcome.status,
            outcome.body
        );
        if outcome.status == StatusCode::CREATED {
            created += 1;
            for (product, quantity) in &outcome.lines {
                *deducted.entry(*product).or_default() += quantity;
            }
        }
    }
    assert!(created > 0, "some orders got stock");
    assert!(created < outcomes.len(), "the stock ran out, so the test saw contention");
    for product in HOT_PRODUCTS {
        let stock = app.stock(STORE, product);
        assert!(stock >= 0, "product {product} has negative stock {stock}");
        let taken = deducted.get(&product).copied().unwrap_or(0);
        assert_eq!(INITIAL_STOCK - stock, taken, "product {product}: deducted = quantities of 201 orders");
    }
    replay_in_commit_order(&outcomes);
    assert_ledger_chains(&app, &outcomes);
    assert_listing_counts(&app, outcomes.len(), created).await;
    assert_stock_view_matches_database(&app).await;
    app.shutdown().await;
}

/// Every client runs its own seeded sequence of orders, one at a time, all clients at once.
async fn place_orders_concurrently(app: &TestApp) -> Vec<Outcome> {
    let mut clients = tokio::task::JoinSet::new();
    for client in 0..CLIENTS {
        let http = app.client.clone();
        let url = app.url("/orders/");
        clients.spawn(async move {
            let mut rng = ChaCha8Rng::seed_from_u64(SEED + client);
            let mut outcomes = Vec::with_capacity(ORDERS_PER_CLIENT);
            for _ in 0..ORDERS_PER_CLIENT {
                let lines = random_lines(&mut rng);
                let items: Vec<Value> = lines
                    .iter()
                    .map(|(id, quantity)| json!({"product_id": id, "quantity_requested": quantity}))
                    .collect();
                let response =
                    http.post(&url).json(&json!({"store_id": STORE, "items": items})).send().await.expect("request");
                let status = response.status();
                let body = response.json().await.expect("JSON body");
                outcomes.push(Outcome { lines, status, body });
            }
            outcomes
        });
    }
    clients.join_all().await.into_iter().flatten().collect()
}

/// 1 to 3 distinct hot products, 1 to 4 units each.
fn random_lines(rng: &mut ChaCha8Rng) -> Vec<(i64, i64)> {
    let mut products = HOT_PRODUCTS.to_vec();
    let count = rng.random_range(1..=3);
    (0..count)
        .map(|_| {
            let product = products.swap_remove(rng.random_range(0..products.len()));
            (product, rng.random_range(1..=4))
        })
        .collect()
}

/// Orders are decided one at a time by the single writer, in id order. Replaying them in that
/// order from the initial stock must reproduce every decision: a 201 had enough of every line,
/// a 409 was short on exactly the lines it named, with the availability it reported.
fn replay_in_commit_order(outcomes: &[Outcome]) {
    let mut by_id: Vec<&Outcome> = outcomes.iter().collect();
    by_id.sort_by_key(|outcome| outcome.body["id"].as_i64().expect("order id"));
    let mut stock: BTreeMap<i64, i64> = HOT_PRODUCTS.iter().map(|id| (*id, INITIAL_STOCK)).collect();
    for outcome in by_id {
        let short: Vec<Value> = outcome
            .lines
            .iter()
            .filter(|(product, quantity)| stock[product] < *quantity)
            .map(|(product, quantity)| json!({"product_id": product, "requested": quantity, "available": stock[product]}))
            .collect();
        if outcome.status == StatusCode::CREATED {
            assert!(short.is_empty(), "order {} was confirmed without stock", outcome.body["id"]);
            for (product, quantity) in &outcome.lines {
                *stock.get_mut(product).expect("hot product") -= quantity;
            }
        } else {
            assert_eq!(
                outcome.body["errors"],
                json!(short),
                "order {} rejected for its real shortage",
                outcome.body["id"]
            );
        }
    }
}

/// Every confirmed line wrote exactly one `order` movement naming its order (no actor: open
/// mode), and per product the movements chain from the initial stock to the current one.
fn assert_ledger_chains(app: &TestApp, outcomes: &[Outcome]) {
    let mut expected: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    for outcome in outcomes.iter().filter(|outcome| outcome.status == StatusCode::CREATED) {
        for (product, quantity) in &outcome.lines {
            expected.insert((outcome.body["id"].as_i64().expect("order id"), *product), -quantity);
        }
    }
    let db = app.db();
    let mut stmt = db
        .prepare(
            "SELECT order_id, product_id, delta, quantity_after, reason, actor FROM stock_movements
              WHERE store_id = ?1 ORDER BY id",
        )
        .expect("movements");
    let movements: Vec<(i64, i64, i64, i64, String, Option<String>)> = stmt
        .query_map([STORE], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?)))
        .expect("movements")
        .collect::<rusqlite::Result<_>>()
        .expect("movements");
    let mut last: BTreeMap<i64, i64> = HOT_PRODUCTS.iter().map(|id| (*id, INITIAL_STOCK)).collect();
    let mut found: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    for (order, product, delta, after, reason, actor) in movements {
        assert_eq!((reason.as_str(), actor), ("order", None), "order {order}'s movement");
        let previous = last[&product];
        assert_eq!(previous + delta, after, "product {product}: the chain holds at order {order}");
        last.insert(product, after);
        assert!(found.insert((order, product), delta).is_none(), "one movement per line of order {order}");
    }
    assert_eq!(found, expected, "one movement per confirmed line, none for rejected orders");
    for product in HOT_PRODUCTS {
        assert_eq!(last[&product], app.stock(STORE, product), "product {product}: newest movement = stock");
    }
}

async fn assert_listing_counts(app: &TestApp, placed: usize, created: usize) {
    let all = json_with_status(app.get(&format!("/stores/{STORE}/orders/")).await, StatusCode::OK).await;
    assert_eq!(all["count"], json!(placed), "the listing has every order placed");
    let confirmed =
        json_with_status(app.get(&format!("/stores/{STORE}/orders/?status=CONFIRMED")).await, StatusCode::OK).await;
    assert_eq!(confirmed["count"], json!(created), "one CONFIRMED order per 201");
    assert_eq!(app.count("orders"), i64::try_from(placed).expect("small"));
}

/// The search's in-memory stock (per product, and the `in_stock` filter) equals SQLite.
async fn assert_stock_view_matches_database(app: &TestApp) {
    let page = json_with_status(
        app.get(&format!("/api/search/products/?store_id={STORE}&page_size=100")).await,
        StatusCode::OK,
    )
    .await;
    for row in page["results"].as_array().expect("results") {
        let product = row["id"].as_i64().expect("id");
        assert_eq!(row["quantity"], json!(app.stock(STORE, product)), "product {product}: search quantity = DB");
    }
    let in_stock = json_with_status(
        app.get(&format!("/api/search/products/?store_id={STORE}&in_stock=true&page_size=100")).await,
        StatusCode::OK,
    )
    .await;
    let mut listed: Vec<i64> =
        in_stock["results"].as_array().expect("results").iter().map(|row| row["id"].as_i64().expect("id")).collect();
    listed.sort_unstable();
    let expected: Vec<i64> = HOT_PRODUCTS.into_iter().filter(|id| app.stock(STORE, *id) > 0).collect();
    assert_eq!(listed, expected, "in_stock=true lists exactly the products the DB has stock of");
}

fn hot_products(conn: &Connection) {
    conn.execute_batch("INSERT INTO categories (id, name) VALUES (1, 'Hot'); INSERT INTO stores (id, name, location) VALUES (1, 'Busy', 'Lisbon');")
        .expect("category and store");
    for id in HOT_PRODUCTS {
        conn.execute(
            "INSERT INTO products (id, title, description, price_cents, category_id, created_at)
             VALUES (?1, 'Hot item ' || ?1, 'in demand', 100, 1, ?1)",
            [id],
        )
        .expect("product");
        conn.execute("INSERT INTO inventory (store_id, product_id, quantity) VALUES (1, ?1, ?2)", [id, INITIAL_STOCK])
            .expect("stock");
    }
}
