//! Durable order and cancel throughput through the single writer (group commit), in-process.
//!
//! Each iteration places `CONCURRENT_ORDERS` two-line orders at once from as many tasks,
//! against a seeded catalog, with `synchronous=FULL` (every acknowledged order is on disk).
//! Criterion reports orders/s as "elements/s". Compared across writer batch bounds (1 = one
//! commit per order, no group commit).
//!
//! `cancels/…` cancels as many confirmed orders at once (placing them is set-up, not timed):
//! cancels/s, each returning two lines' stock and queueing its `order.cancelled` event.
//!
//! Run: `cargo bench --bench orders` (one group: `cargo bench --bench orders -- cancels`)

use aforro::app::open_store;
use aforro::config::{Config, Synchronous};
use aforro::db::writer::{self, WriterHandle, WriterThread};
use aforro::domain::{NewOrder, OrderId, OrderLine, OrderStatus, ProductId, QuantityRequested, StoreId};
use aforro::seed::{SeedOptions, seed};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tokio::task::JoinSet;

const CONCURRENT_ORDERS: u64 = 2_000;
const STORES: u32 = 20;
const PRODUCTS: u32 = 2_000;

fn order(index: u64) -> NewOrder {
    let line = |product: u64| OrderLine {
        product_id: ProductId((product % u64::from(PRODUCTS)) as i64 + 1),
        quantity_requested: QuantityRequested::parse(1).expect("1 is a valid quantity"),
    };
    NewOrder {
        store_id: StoreId((index % u64::from(STORES)) as i64 + 1),
        items: vec![line(index * 7), line(index * 7 + 3)],
        reservation_id: None,
    }
}

/// Places `CONCURRENT_ORDERS` orders at once; returns their ids.
async fn place_concurrently(writer: &WriterHandle, offset: u64) -> Vec<OrderId> {
    let mut tasks = JoinSet::new();
    for index in offset..offset + CONCURRENT_ORDERS {
        let writer = writer.clone();
        tasks.spawn(async move { writer.place_order(order(index), None).await.expect("order placed") });
    }
    let mut ids = Vec::new();
    while let Some(placed) = tasks.join_next().await {
        let placed = placed.expect("task");
        assert_eq!(placed.status, OrderStatus::Confirmed, "stock is plentiful, every order confirms");
        let body: serde_json::Value =
            serde_json::from_str(&placed.into_json().expect("serialised")).expect("order body");
        ids.push(OrderId(body["id"].as_i64().expect("order id")));
    }
    ids
}

async fn cancel_concurrently(writer: &WriterHandle, ids: Vec<OrderId>) {
    let mut tasks = JoinSet::new();
    for id in ids {
        let writer = writer.clone();
        tasks.spawn(async move { writer.cancel_order(id).await.expect("order cancelled") });
    }
    while let Some(cancelled) = tasks.join_next().await {
        assert_eq!(cancelled.expect("task").status, OrderStatus::Cancelled);
    }
}

/// Batch bounds compared: 1 is one commit (one fsync) per order, the default is 1,024.
const BATCH_BOUNDS: &[usize] = &[1, 16, 256, writer::DEFAULT_MAX_BATCH];

/// A writer on a freshly seeded, plentifully stocked catalog, so every iteration does the
/// full confirm path (deduct + job row).
fn stocked_writer(dir: &std::path::Path, max_batch: usize) -> (WriterHandle, WriterThread) {
    let config = Config { synchronous: Synchronous::Full, ..Config::in_dir(dir) };
    let mut store = open_store(&config).expect("open store");
    let options =
        SeedOptions { products: PRODUCTS, stores: STORES, inventory_per_store: PRODUCTS, ..SeedOptions::default() };
    seed(&mut store.write_conn, &options).expect("seed");
    store.write_conn.execute("UPDATE inventory SET quantity = 1000000000", []).expect("restock");
    writer::spawn(store.write_conn, Vec::new(), max_batch, Default::default()).expect("writer")
}

fn bench_orders(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut group = c.benchmark_group("orders");
    group.throughput(Throughput::Elements(CONCURRENT_ORDERS));
    group.sample_size(10);
    for &max_batch in BATCH_BOUNDS {
        let dir = tempfile::tempdir().expect("temp dir");
        let (writer, thread) = {
            let _guard = runtime.enter();
            stocked_writer(dir.path(), max_batch)
        };
        let mut offset = 0;
        group.bench_function(format!("place_2000_concurrent_durable_orders/batch_{max_batch}"), |b| {
            b.iter(|| {
                offset += CONCURRENT_ORDERS;
                runtime.block_on(place_concurrently(&writer, offset));
            });
        });
        drop(writer);
        thread.join();
    }
    group.finish();
}

fn bench_cancels(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut group = c.benchmark_group("cancels");
    group.throughput(Throughput::Elements(CONCURRENT_ORDERS));
    group.sample_size(10);
    let dir = tempfile::tempdir().expect("temp dir");
    let (writer, thread) = {
        let _guard = runtime.enter();
        stocked_writer(dir.path(), writer::DEFAULT_MAX_BATCH)
    };
    let mut offset = 0;
    group.bench_function(format!("cancel_2000_concurrent_durable_orders/batch_{}", writer::DEFAULT_MAX_BATCH), |b| {
        b.iter_batched(
            || {
                offset += CONCURRENT_ORDERS;
                runtime.block_on(place_concurrently(&writer, offset))
            },
            |ids| runtime.block_on(cancel_concurrently(&writer, ids)),
            BatchSize::PerIteration,
        );
    });
    drop(writer);
    thread.join();
    group.finish();
}

criterion_group!(benches, bench_orders, bench_cancels);
criterion_main!(benches);
