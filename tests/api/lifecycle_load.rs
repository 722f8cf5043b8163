//! 64 clients placing and cancelling orders on 5 hot products at once, over loopback, while a
//! restocker tops the shelves up, with the `webhook` sender posting to a receiver on
//! 127.0.0.1. Afterwards: no oversell (stock = initial + restocks − confirmed + cancelled, as
//! the clients counted it), the stock events alternate out/back per (store, product) exactly
//! on the crossings of zero, and the receiver got every event once, signed, under its own id.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aforro::domain::catalog::StockUpdate;
use aforro::domain::{ProductId, StoreId};
use aforro::jobs::SenderKind;
use aforro::jobs::settings::Secret;
use aforro::jobs::signing::SigningKeys;
use aforro::jobs::webhook::{EVENT_HEADER, ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::Connection;
use serde_json::{Value, json};

use crate::helpers::{TestApp, test_actor};

const CLIENTS: u64 = 64;
/// Requests per client (orders and cancels): the loop is bounded in count…
const REQUESTS_PER_CLIENT: usize = 20;
/// …and in time.
const LOAD_DEADLINE: Duration = Duration::from_secs(60);
const HOT_PRODUCTS: i64 = 5;
const STORE: i64 = 1;
/// Low enough that the 64 clients sell every product out many times over.
const INITIAL: i64 = 12;
const RESTOCKS: usize = 40;
/// `whsec_` + base64 of a 25-byte key.
const SECRET: &str = "whsec_bG9hZC10ZXN0LXNlY3JldC0yNC1ieXRlcw==";

/// Event id → (name, body, deliveries).
type Received = Mutex<HashMap<String, (String, Value, usize)>>;

async fn receive(State(received): State<Arc<Received>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or("");
    let keys = SigningKeys::parse(SECRET).expect("a standard secret");
    let timestamp = text(TIMESTAMP_HEADER).parse().unwrap_or(0);
    if text(SIGNATURE_HEADER) != keys.signature(text(ID_HEADER), timestamp, &body) {
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(event) = serde_json::from_slice::<Value>(&body) else { return StatusCode::BAD_REQUEST };
    let name = headers.get(EVENT_HEADER).and_then(|value| value.to_str().ok()).unwrap_or("").to_owned();
    let id = event["id"].as_str().unwrap_or("").to_owned();
    let mut received = received.lock().expect("lock");
    received.entry(id).or_insert_with(|| (name, event, 0)).2 += 1;
    StatusCode::NO_CONTENT
}

async fn spawn_receiver() -> (Arc<Received>, String) {
    let received = Arc::new(Received::default());
    let router = Router::new().route("/hook", post(receive)).with_state(Arc::clone(&received));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    (received, url)
}

fn hot_catalog(conn: &Connection) {
    let mut sql = String::from(
        "INSERT INTO categories (id, name) VALUES (1, 'Hot'); INSERT INTO stores (id, name) VALUES (1, 'Lisbon');",
    );
    for product in 1..=HOT_PRODUCTS {
        sql += &format!(
            "INSERT INTO products (id, title, price_cents, category_id, created_at) VALUES ({product}, 'Hot {product}', 100, 1, 1);
             INSERT INTO inventory (store_id, product_id, quantity) VALUES ({STORE}, {product}, {INITIAL});"
        );
    }
    conn.execute_batch(&sql).expect("hot catalog");
}

/// What one client saw acknowledged: units confirmed and units cancelled, per product.
#[derive(Default)]
struct Tally {
    confirmed: BTreeMap<i64, i64>,
    cancelled: BTreeMap<i64, i64>,
}

async fn client(app: Arc<TestApp>, seed: u64) -> Tally {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut tally = Tally::default();
    let mut mine: Vec<(i64, Vec<(i64, i64)>)> = Vec::new();
    for _ in 0..REQUESTS_PER_CLIENT {
        if !mine.is_empty() && rng.random_bool(0.4) {
            let (id, lines) = mine.swap_remove(rng.random_range(0..mine.len()));
            let response =
                app.client.post(app.url(&format!("/orders/{id}/cancel/"))).send().await.expect("cancel request");
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            assert_eq!(status, StatusCode::OK, "cancel of order {id}: {body}");
            for (product, quantity) in lines {
                *tally.cancelled.entry(product).or_default() += quantity;
            }
            continue;
        }
        let first: i64 = rng.random_range(1..=HOT_PRODUCTS);
        let mut lines = vec![(first, rng.random_range(1..=3))];
        if rng.random_bool(0.5) {
            lines.push((first % HOT_PRODUCTS + 1, rng.random_range(1..=2)));
        }
        let items: Vec<Value> = lines
            .iter()
            .map(|(product, quantity)| json!({"product_id": product, "quantity_requested": quantity}))
            .collect();
        let response = app.post_order(&json!({"store_id": STORE, "items": items})).await;
        let status = response.status();
        let order: Value = response.json().await.expect("order body");
        match status {
            StatusCode::CREATED => {
                for (product, quantity) in &lines {
                    *tally.confirmed.entry(*product).or_default() += quantity;
                }
                mine.push((order["id"].as_i64().expect("id"), lines));
            }
            StatusCode::CONFLICT => assert_eq!(order["status"], "REJECTED"),
            other => panic!("unexpected {other}: {order}"),
        }
    }
    tally
}

fn query_rows<T>(db: &Connection, sql: &str, map: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>) -> Vec<T> {
    let mut stmt = db.prepare(sql).expect(sql);
    stmt.query_map([], map).expect(sql).collect::<Result<_, _>>().expect(sql)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_clients_ordering_and_cancelling_never_oversell_and_every_event_arrives_once() {
    let (received, url) = spawn_receiver().await;
    let app = Arc::new(
        TestApp::builder()
            .configure(move |config| {
                config.jobs.confirmation_sender = SenderKind::Webhook;
                config.jobs.webhook_url = Some(url);
                config.jobs.webhook_secret = Some(Secret::from(SECRET.to_owned()));
            })
            .fixture(hot_catalog)
            .spawn()
            .await,
    );

    // Restocks run beside the clients through the admin API's named write.
    let restocker = {
        let writer = app.state.writer.clone();
        tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(7);
            let mut added: BTreeMap<i64, i64> = BTreeMap::new();
            for _ in 0..RESTOCKS {
                let (product, quantity) = (rng.random_range(1..=HOT_PRODUCTS), rng.random_range(1..=4));
                writer
                    .update_stock_as(test_actor(), StoreId(STORE), ProductId(product), StockUpdate::Adjust(quantity))
                    .await
                    .expect("restock");
                *added.entry(product).or_default() += quantity;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            added
        })
    };
    let clients: Vec<_> = (0..CLIENTS).map(|seed| tokio::spawn(client(Arc::clone(&app), seed))).collect();
    let load = async {
        let mut tallies = Vec::new();
        for client in clients {
            tallies.push(client.await.expect("client"));
        }
        (tallies, restocker.await.expect("restocker"))
    };
    let (tallies, restocked) = tokio::time::timeout(LOAD_DEADLINE, load).await.expect("the load finished in time");

    // No oversell, and nothing lost: the database holds what the acknowledged answers imply.
    let db = app.db();
    for product in 1..=HOT_PRODUCTS {
        let confirmed: i64 = tallies.iter().map(|tally| tally.confirmed.get(&product).copied().unwrap_or(0)).sum();
        let cancelled: i64 = tallies.iter().map(|tally| tally.cancelled.get(&product).copied().unwrap_or(0)).sum();
        let expected = INITIAL + restocked.get(&product).copied().unwrap_or(0) - confirmed + cancelled;
        assert!(expected >= 0);
        assert_eq!(app.stock(STORE, product), expected, "product {product}");
    }
    let total_confirmed: i64 = tallies.iter().flat_map(|tally| tally.confirmed.values()).sum();
    let total_cancelled: i64 = tallies.iter().flat_map(|tally| tally.cancelled.values()).sum();
    assert!(total_confirmed > 0 && total_cancelled > 0, "orders and cancels both happened");

    // Stock events: per product, in commit order, out and back alternate, starting with out.
    let stock_events = query_rows(
        &db,
        "SELECT kind, json_extract(payload, '$.product_id'), json_extract(payload, '$.quantity') FROM jobs
          WHERE kind IN ('inventory.out_of_stock', 'inventory.back_in_stock') ORDER BY id",
        |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?, row.get::<_, i64>(2)?)),
    );
    for product in 1..=HOT_PRODUCTS {
        let kinds: Vec<&str> =
            stock_events.iter().filter(|(_, p, _)| *p == product).map(|(kind, _, _)| kind.as_str()).collect();
        for (index, kind) in kinds.iter().enumerate() {
            let expected = if index % 2 == 0 { "inventory.out_of_stock" } else { "inventory.back_in_stock" };
            assert_eq!(*kind, expected, "product {product}'s events: {kinds:?}");
        }
        let out_now = app.stock(STORE, product) == 0;
        assert_eq!(
            kinds.len() % 2 == 1,
            out_now,
            "product {product} ends {} after {kinds:?}",
            app.stock(STORE, product)
        );
    }
    assert!(stock_events.iter().any(|(kind, _, _)| kind == "inventory.back_in_stock"), "shelves emptied and refilled");
    assert!(stock_events.iter().all(|(kind, _, quantity)| (kind == "inventory.out_of_stock") == (*quantity == 0)));

    // Delivery: every event once, under its id, with the header naming it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while db.query_row("SELECT COUNT(*) FROM jobs WHERE state <> 'done'", [], |row| row.get::<_, i64>(0)).expect("q")
        > 0
    {
        assert!(Instant::now() < deadline, "the events were not all delivered within 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let jobs = query_rows(&db, "SELECT event_id, kind FROM jobs", |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
    });
    {
        let received = received.lock().expect("lock");
        assert_eq!(received.len(), jobs.len(), "one delivery per event id");
        for (event_id, kind) in jobs {
            let (name, body, deliveries) = received.get(&event_id).unwrap_or_else(|| panic!("{event_id} not received"));
            assert_eq!((name.as_str(), body["event"].as_str(), *deliveries), (kind.as_str(), Some(kind.as_str()), 1));
        }
    }
    let Ok(app) = Arc::try_unwrap(app) else { panic!("every client has finished with the app") };
    app.shutdown().await;
}
