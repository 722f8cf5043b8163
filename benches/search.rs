//! Search latency, in process, on a 1,000- and a 1,000,000-product seeded catalog.
//!
//! The catalogs and their indexes are built once and cached under `target/bench-data/`
//! (seeding 1M products takes ~40 s, indexing them ~30 s; later runs reuse both, since the
//! index's watermark still matches). `AFORRO_BENCH_SIZES=1k` skips the big catalog;
//! `AFORRO_BENCH_SIZES=100k` runs an opt-in middle size.
//! Every case computes the facets and the exact count, as every HTTP search does.

use std::path::PathBuf;
use std::time::Duration;

use aforro::app::open_store;
use aforro::config::{Config, Synchronous};
use aforro::db::ReadPool;
use aforro::domain::{Money, PageRequest, ProductId, StoreId};
use aforro::search::{CategoryFilter, PriceRange, SearchIndex, SearchRequest, SortOrder};
use aforro::seed::{SeedOptions, seed};
use criterion::{Criterion, criterion_group, criterion_main};

struct Catalog {
    label: &'static str,
    options: SeedOptions,
}

fn catalogs() -> Vec<Catalog> {
    let small = Catalog {
        label: "1k",
        options: SeedOptions { categories: 12, products: 1_000, stores: 20, inventory_per_store: 400, random_seed: 42 },
    };
    let big = Catalog {
        label: "1m",
        options: SeedOptions {
            categories: 12,
            products: 1_000_000,
            stores: 50,
            inventory_per_store: 100_000,
            random_seed: 42,
        },
    };
    // Opt-in only: between the two, big enough for a page within the result window to be deep
    // (a broad word matches some 10,000+ products), quick to build (seconds).
    let medium = Catalog {
        label: "100k",
        options: SeedOptions {
            categories: 12,
            products: 100_000,
            stores: 20,
            inventory_per_store: 10_000,
            random_seed: 42,
        },
    };
    let wanted = std::env::var("AFORRO_BENCH_SIZES").unwrap_or_else(|_| "1k,1m".to_owned());
    [small, medium, big]
        .into_iter()
        .filter(|catalog| wanted.split(',').any(|size| size.trim() == catalog.label))
        .collect()
}

/// Opens (seeding and indexing on first use) the cached catalog.
fn open(catalog: &Catalog) -> (SearchIndex, ReadPool) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data").join(catalog.label);
    let config = Config { synchronous: Synchronous::Off, ..Config::in_dir(&root) };
    let mut store = open_store(&config).expect("open the bench database");
    if aforro::seed::is_empty(&store.write_conn).expect("count products") {
        seed(&mut store.write_conn, &catalog.options).expect("seed the bench catalog");
    }
    // No match cache: each iteration repeats one request, and the figures are the walk's.
    let index = SearchIndex::open(&config.index_dir, store.reads.clone(), 0).expect("open or build the index");
    (index, store.reads)
}

fn cases() -> Vec<(&'static str, SearchRequest)> {
    let base = SearchRequest::default();
    let words = |q: &str| SearchRequest { q: Some(q.to_owned()), sort: SortOrder::Relevance, ..base.clone() };
    let price =
        |min, max| PriceRange::new(Some(Money::from_cents(min)), Some(Money::from_cents(max))).expect("min <= max");
    vec![
        ("one_word_top20", words("kettle")),
        ("two_words", words("steel kettle")),
        (
            "words_category_price",
            SearchRequest {
                category: Some(CategoryFilter::Name("kitchen".to_owned())),
                price: price(1_000, 10_000),
                ..words("steel kettle")
            },
        ),
        ("no_words_by_price", SearchRequest { sort: SortOrder::PriceAscending, ..base.clone() }),
        ("store_in_stock", SearchRequest { store_id: Some(StoreId(1)), in_stock: Some(true), ..base.clone() }),
        ("broad_word_facets", words("steel")),
        ("deep_page", SearchRequest { page: PageRequest { page: 50, page_size: 20 }, ..words("kettle") }),
        // A deep page of a broad word (results 5,901 to 6,000; `steel` matches some 6,300
        // products at 100k, 63,000 at 1M): a count pass, then a pass keeping 6,000 hits.
        // Against `broad_word_facets` (its first page) it shows what a deep page costs
        // (docs/search.md, "Deep pages"); at 1k it is past the end.
        (
            "broad_word_deep_page",
            SearchRequest {
                page: PageRequest { page: 60, page_size: 100 },
                sort: SortOrder::PriceAscending,
                ..words("steel")
            },
        ),
        // Far past the end: the count pass alone decides the 404 (the HTTP layer answers it).
        (
            "broad_word_past_the_end",
            SearchRequest { page: PageRequest { page: 50_000, page_size: 100 }, ..words("steel") },
        ),
        ("one_word_typo", words("kettel")),
        ("prefix_4_letters", words("kett")),
        ("relaxed_two_words", words("kettle qqqq")),
        ("two_words_highlight", SearchRequest { highlight: true, ..words("steel kettle") }),
        ("two_words_stock_first", SearchRequest { stock_first: true, ..words("steel kettle") }),
        // The costliest shapes a client can send: the widest prefix, and eight long misspelt
        // words (the cap) that each expand to their typo budget.
        ("prefix_2_letters", words("st")),
        ("eight_misspelt_words", words("stainles steal kettel cooper bambo leathr woolen grafite zzzzzzzzz qqqqqqqq")),
    ]
}

/// Requests whose tail matters (typos expand into many terms): their p50 and p99 over a
/// fixed number of runs, printed beside criterion's estimates.
const TAIL_CASES: &[&str] =
    &["one_word_typo", "prefix_4_letters", "relaxed_two_words", "prefix_2_letters", "eight_misspelt_words"];
const TAIL_RUNS: usize = 400;

fn print_tails(label: &str, index: &SearchIndex, reads: &ReadPool) {
    for (name, request) in cases().into_iter().filter(|(name, _)| TAIL_CASES.contains(name)) {
        let mut took: Vec<Duration> = (0..TAIL_RUNS)
            .map(|_| {
                let started = std::time::Instant::now();
                reads.run_blocking(|conn| index.search(conn, &request)).expect("search");
                started.elapsed()
            })
            .collect();
        took.sort_unstable();
        // A quantile of a short list of timings: the index is small and non-negative.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let at = |quantile: f64| took[((took.len() - 1) as f64 * quantile) as usize];
        println!("search_{label}/{name}: p50 {:?}, p99 {:?} over {TAIL_RUNS} runs", at(0.5), at(0.99));
    }
}

fn bench_search(c: &mut Criterion) {
    for catalog in catalogs() {
        let (index, reads) = open(&catalog);
        precompute_browse(&index, catalog.label);
        print_tails(catalog.label, &index, &reads);
        let mut group = c.benchmark_group(format!("search_{}", catalog.label));
        group.sample_size(30).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
        for (name, request) in cases() {
            group.bench_function(name, |b| {
                b.iter(|| reads.run_blocking(|conn| index.search(conn, &request)).expect("search"));
            });
        }
        group.finish();
        bench_catalog_change(c, catalog.label, &index);
    }
}

/// The unfiltered browse is served from an order precomputed per catalog generation (in the
/// background; until it is ready, browses take the full scan). Compute it now, so criterion
/// measures the steady state, and print what computing it costs (one run, not a statistic).
fn precompute_browse(index: &SearchIndex, label: &str) {
    let started = std::time::Instant::now();
    index.compute_browse(SortOrder::PriceAscending).expect("browse order");
    println!("search_{label}: full browse order by price computed in {:?}", started.elapsed());
}

/// What a catalog write adds after its SQLite commit before it is searchable (and before
/// its response goes out): re-read the row, replace the document, commit, reload the reader.
fn bench_catalog_change(c: &mut Criterion, label: &str, index: &SearchIndex) {
    let mut group = c.benchmark_group(format!("catalog_change_{label}"));
    group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    group.bench_function("one_product_searchable", |b| {
        b.iter(|| index.reindex_products(&[ProductId(1)]).expect("reindex one product"));
    });
    group.finish();
}

criterion_group!(benches, bench_search);
criterion_main!(benches);
