//! Figures for docs/jobs.md, not checks of behaviour: ignored unless asked for with
//! `cargo nextest run --run-ignored only --no-capture queue_figures`.

use std::time::{Duration, Instant};

use aforro::config::Synchronous;
use aforro::domain::NewOrder;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, json_with_status, small_catalog};

/// Commit → confirmation latencies (µs), sorted.
fn latencies(app: &TestApp) -> Vec<i64> {
    app.db()
        .prepare(
            "SELECT n.created_at - o.created_at FROM notifications n JOIN orders o ON o.id = n.order_id ORDER BY 1",
        )
        .expect("sql")
        .query_map([], |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// A measurement, not a check of behaviour: run it on purpose with
/// `cargo nextest run --run-ignored only --no-capture queue_keeps_up`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; prints figures"]
async fn queue_keeps_up_with_the_order_rate() {
    const ORDERS: usize = 20_000;
    let app = TestApp::builder()
        .configure(|config| config.synchronous = Synchronous::Full)
        .fixture(|conn| {
            small_catalog(conn);
            conn.execute("UPDATE inventory SET quantity = 1000000", []).expect("stock");
        })
        .spawn()
        .await;
    let order = NewOrder::parse(&json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]}))
        .expect("valid order");
    let started = Instant::now();
    let mut placing = tokio::task::JoinSet::new();
    for _ in 0..256 {
        let (writer, order) = (app.state.writer.clone(), order.clone());
        placing.spawn(async move {
            for _ in 0..ORDERS / 256 {
                writer.place_order(order.clone(), None).await.expect("placed");
            }
        });
    }
    placing.join_all().await;
    let placed_in = started.elapsed();
    let backlog = app.count("jobs") - app.count("notifications");
    let deadline = Instant::now() + Duration::from_secs(60);
    while app.count("notifications") < app.count("orders") {
        assert!(Instant::now() < deadline, "the queue did not drain within 60 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let drained_in = started.elapsed();
    let orders = app.count("orders");
    let latency = latencies(&app);
    println!(
        "{orders} orders placed in {:.2}s ({:.0}/s); backlog at the last order: {backlog}; all confirmed after {:.2}s \
         ({:.0}/s); commit→confirmation p50 {:.1} ms, p99 {:.1} ms",
        placed_in.as_secs_f64(),
        orders as f64 / placed_in.as_secs_f64(),
        drained_in.as_secs_f64(),
        orders as f64 / drained_in.as_secs_f64(),
        latency[latency.len() / 2] as f64 / 1000.0,
        latency[latency.len() * 99 / 100] as f64 / 1000.0,
    );
    app.shutdown().await;
}

/// A measurement: `cargo nextest run --run-ignored only --no-capture confirmation_latency`.
#[tokio::test]
#[ignore = "measurement; prints figures"]
async fn confirmation_latency_under_light_load() {
    let app = TestApp::builder()
        .configure(|config| config.synchronous = Synchronous::Full)
        .fixture(small_catalog)
        .spawn()
        .await;
    let body = json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]});
    app.db().execute("UPDATE inventory SET quantity = 1000000", []).expect("stock");
    // ~100 orders/s from one client.
    for _ in 0..300 {
        json_with_status(app.post_order(&body).await, StatusCode::CREATED).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.count("notifications") < 300 {
        assert!(Instant::now() < deadline, "not all confirmed within 10 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let latency = latencies(&app);
    println!(
        "commit→confirmation over {} orders at ~100/s: p50 {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        latency.len(),
        latency[latency.len() / 2] as f64 / 1000.0,
        latency[latency.len() * 9 / 10] as f64 / 1000.0,
        latency[latency.len() - 1] as f64 / 1000.0
    );
    app.shutdown().await;
}
