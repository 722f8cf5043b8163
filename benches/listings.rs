//! Store listings at depth, in process, at the sizes their targets name: the inventory
//! listing of a store with 100k rows in a 1M-product catalog (the title order + stock view
//! path, and the SQL path it replaced), a store with 1M orders, and filtered browses at 1M
//! products.
//!
//! The 1M catalog is the search benchmark's (`target/bench-data/1m`, seeded and indexed on
//! first use: about a minute); the 1M orders live in their own database
//! (`target/bench-data/orders-1m`, inserted on first use). `AFORRO_BENCH_SQL=1` adds the SQL
//! inventory listing (160–240 ms a page) as a baseline.

use std::path::PathBuf;
use std::time::Duration;

use aforro::app::open_store;
use aforro::config::{Config, Synchronous};
use aforro::db::ReadPool;
use aforro::db::store::listings::{InventoryFilter, store_inventory, store_orders};
use aforro::domain::{CategoryId, PageRequest, StoreId};
use aforro::search::{CategoryFilter, SearchIndex, SearchRequest, SortOrder};
use aforro::seed::{SeedOptions, seed};
use criterion::{Criterion, criterion_group, criterion_main};

const ORDERS: i64 = 1_000_000;

fn bench_root(label: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data").join(label)
}

/// The search benchmark's 1M catalog (seeded and indexed on first use).
fn open_catalog() -> (SearchIndex, ReadPool) {
    let config = Config { synchronous: Synchronous::Off, ..Config::in_dir(&bench_root("1m")) };
    let mut store = open_store(&config).expect("open the bench database");
    if aforro::seed::is_empty(&store.write_conn).expect("count products") {
        let options = SeedOptions {
            categories: 12,
            products: 1_000_000,
            stores: 50,
            inventory_per_store: 100_000,
            random_seed: 42,
        };
        seed(&mut store.write_conn, &options).expect("seed the bench catalog");
    }
    let index = SearchIndex::open(&config.index_dir, store.reads.clone(), 0).expect("open or build the index");
    (index, store.reads)
}

/// A small catalog whose store 1 has [`ORDERS`] orders of one or two lines.
fn open_orders() -> ReadPool {
    let config = Config { synchronous: Synchronous::Off, ..Config::in_dir(&bench_root("orders-1m")) };
    let mut store = open_store(&config).expect("open the orders database");
    if aforro::seed::is_empty(&store.write_conn).expect("count products") {
        let options = SeedOptions { categories: 4, products: 100, stores: 2, inventory_per_store: 100, random_seed: 7 };
        seed(&mut store.write_conn, &options).expect("seed");
        let tx = store.write_conn.transaction().expect("transaction");
        {
            let mut order = tx
                .prepare("INSERT INTO orders (id, store_id, status, created_at) VALUES (?1, 1, ?2, ?1 * 1000)")
                .expect("orders");
            let mut item = tx
                .prepare("INSERT INTO order_items (order_id, product_id, quantity_requested) VALUES (?1, ?2, ?3)")
                .expect("items");
            for id in 1..=ORDERS {
                let status = if id % 5 == 0 { "REJECTED" } else { "CONFIRMED" };
                order.execute(rusqlite::params![id, status]).expect("order");
                item.execute([id, 1 + id % 100, 1 + id % 3]).expect("item");
                if id % 2 == 0 {
                    item.execute([id, 1 + (id + 1) % 100, 2]).expect("item");
                }
            }
        }
        tx.commit().expect("commit");
    }
    store.reads
}

fn bench_inventory(c: &mut Criterion, index: &SearchIndex, reads: &ReadPool) {
    let started = std::time::Instant::now();
    index.compute_title_order().expect("title order");
    println!("inventory: title order of 1M products computed in {:?}", started.elapsed());
    let store = StoreId(1);
    let cases = [
        ("page_1", InventoryFilter::default(), 1),
        ("page_500", InventoryFilter::default(), 500),
        ("q_kettle", InventoryFilter { title_contains: Some("kettle".to_owned()), ..InventoryFilter::default() }, 1),
        ("in_stock", InventoryFilter { in_stock: Some(true), ..InventoryFilter::default() }, 1),
        ("in_stock_page_500", InventoryFilter { in_stock: Some(true), ..InventoryFilter::default() }, 500),
        ("low_stock", InventoryFilter { low_stock: Some(true), ..InventoryFilter::default() }, 1),
        ("low_stock_page_500", InventoryFilter { low_stock: Some(true), ..InventoryFilter::default() }, 500),
    ];
    let mut group = c.benchmark_group("inventory_1m");
    group.sample_size(50).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    for (name, filter, page) in &cases {
        let page = PageRequest { page: *page, page_size: 20 };
        group.bench_function(*name, |b| {
            b.iter(|| {
                reads
                    .run_blocking(|conn| index.inventory_page(conn, store, filter, page))
                    .expect("listing")
                    .expect("the title order is current")
            });
        });
    }
    group.finish();
    if std::env::var("AFORRO_BENCH_SQL").is_ok() {
        let mut group = c.benchmark_group("inventory_1m_sql");
        group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
        for (name, filter, page) in &cases {
            let page = PageRequest { page: *page, page_size: 20 };
            group.bench_function(*name, |b| {
                b.iter(|| reads.run_blocking(|conn| store_inventory(conn, store, filter, page)).expect("listing"));
            });
        }
        group.finish();
    }
}

fn bench_filtered_browse(c: &mut Criterion, index: &SearchIndex, reads: &ReadPool) {
    let cases = [
        (
            "category_3_by_price",
            SearchRequest {
                category: Some(CategoryFilter::Id(CategoryId(3))),
                sort: SortOrder::PriceAscending,
                ..SearchRequest::default()
            },
        ),
        (
            "store_1_in_stock_by_price_desc",
            SearchRequest {
                store_id: Some(StoreId(1)),
                in_stock: Some(true),
                sort: SortOrder::PriceDescending,
                ..SearchRequest::default()
            },
        ),
    ];
    for sort in [SortOrder::PriceAscending, SortOrder::PriceDescending] {
        let started = std::time::Instant::now();
        index.compute_browse(sort).expect("browse order");
        println!("browse: full order {sort:?} with its filter aids computed in {:?}", started.elapsed());
    }
    let mut group = c.benchmark_group("filtered_browse_1m");
    group.sample_size(50).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    for (name, request) in &cases {
        group.bench_function(*name, |b| {
            b.iter(|| reads.run_blocking(|conn| index.search(conn, request)).expect("search"));
        });
    }
    group.finish();
}

fn bench_store_orders(c: &mut Criterion) {
    let reads = open_orders();
    let mut group = c.benchmark_group("store_orders_1m");
    group.sample_size(50).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    for page in [1, 10_000] {
        let request = PageRequest { page, page_size: 20 };
        group.bench_function(format!("page_{page}"), |b| {
            b.iter(|| reads.run_blocking(|conn| store_orders(conn, StoreId(1), None, request)).expect("orders"));
        });
    }
    group.finish();
}

fn bench_listings(c: &mut Criterion) {
    bench_store_orders(c);
    let (index, reads) = open_catalog();
    bench_inventory(c, &index, &reads);
    bench_filtered_browse(c, &index, &reads);
}

criterion_group!(benches, bench_listings);
criterion_main!(benches);
