//! A 10,000-row bulk stock update through the single writer, in-process (the goal:
//! at most 200 ms). Each iteration sends one `reject_everything` update of 10,000 rows over a
//! seeded catalog (20 stores × 2,000 products), alternating `delta` +1 and −1 rows on distinct
//! pairs and a `quantity` row every tenth, so every row changes its quantity and writes its
//! movement; `synchronous=FULL`, as `serve` runs.
//!
//! Run: `cargo bench --bench stock_bulk`

use aforro::app::open_store;
use aforro::config::{Config, Synchronous};
use aforro::db::writer::{self, WriterHandle, WriterThread};
use aforro::domain::stock::{MAX_BULK_ROWS, bulk_update};
use aforro::seed::{SeedOptions, seed};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};

const STORES: u32 = 20;
const PRODUCTS: u32 = 2_000;

fn stocked_writer(dir: &std::path::Path) -> (WriterHandle, WriterThread) {
    let config = Config { synchronous: Synchronous::Full, ..Config::in_dir(dir) };
    let mut store = open_store(&config).expect("open store");
    let options =
        SeedOptions { products: PRODUCTS, stores: STORES, inventory_per_store: PRODUCTS, ..SeedOptions::default() };
    seed(&mut store.write_conn, &options).expect("seed");
    store.write_conn.execute("UPDATE inventory SET quantity = 1000", []).expect("restock");
    writer::spawn(store.write_conn, Vec::new(), writer::DEFAULT_MAX_BATCH, Default::default()).expect("writer")
}

/// Iteration `round`'s rows: each (store, product) pair once, every row a change.
fn rows(round: u64) -> Vec<Value> {
    (0..MAX_BULK_ROWS as u64)
        .map(|index| {
            let store = index % u64::from(STORES) + 1;
            let product = index / u64::from(STORES) + 1;
            if index.is_multiple_of(10) {
                json!({"store_id": store, "product_id": product, "quantity": 500 + round % 2})
            } else {
                let delta = if round.is_multiple_of(2) { 1 } else { -1 };
                json!({"store_id": store, "product_id": product, "delta": delta})
            }
        })
        .collect()
}

fn bench_bulk(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let (writer, thread) = {
        let _guard = runtime.enter();
        stocked_writer(dir.path())
    };
    let mut group = c.benchmark_group("stock_bulk");
    group.throughput(Throughput::Elements(MAX_BULK_ROWS as u64));
    group.sample_size(10);
    let mut round = 0;
    group.bench_function("rows_10000_through_the_writer", |b| {
        b.iter_batched(
            || {
                round += 1;
                bulk_update(&json!({"rows": rows(round)})).expect("a valid update")
            },
            |update| {
                let outcome = runtime.block_on(writer.bulk_update_stock(None, update)).expect("applied");
                assert_eq!(outcome.applied, MAX_BULK_ROWS);
            },
            criterion::BatchSize::PerIteration,
        );
    });
    group.finish();
    drop(writer);
    thread.join();
}

criterion_group!(benches, bench_bulk);
criterion_main!(benches);
