//! Autocomplete: map build time, map memory, and uncached lookup latency at 1k and 1M titles
//! for 3-letter prefixes, long (and multi-word) prefixes and typo queries.
//!
//! `cargo bench --bench suggest` runs criterion on the lookups at both sizes and on the 1k
//! build, and prints, once per size, the build time, the map's memory and a latency
//! distribution (p50/p99/max over every query of a class, called repeatedly) — criterion
//! reports means and medians but not a p99. The 1M build is timed once, not sampled: it takes
//! seconds. `SUGGEST_BENCH_TITLES=100000` replaces the large size (for a quicker run).

use std::hint::black_box;
use std::time::{Duration, Instant};

use aforro::db::store::popularity::ProductPopularity;
use aforro::domain::ProductId;
use aforro::seed::random_titles;
use aforro::suggest::{Overlay, SuggestMap, SuggestQuery, suggest};
use criterion::{BenchmarkId, Criterion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SHORT_PREFIXES: &[&str] = &["nor", "ket", "bam", "pre", "ste", "hea", "cla", "mod", "sle", "cre"];
const LONG_PREFIXES: &[&str] =
    &["nordwind", "headphon", "kettlebe", "waterproo", "nordwind compact", "acme steel ke", "bamboo cutting bo"];
const TYPOS: &[&str] = &["nordwnd", "kettel", "headphomes", "bledner", "lantren", "hamock", "wheelbarow"];

/// Query classes as reported: (name, queries).
const CLASSES: &[(&str, &[&str])] = &[("prefix3", SHORT_PREFIXES), ("long_prefix", LONG_PREFIXES), ("typo", TYPOS)];

/// Products like the seed's, with popularity: most never ordered, some in stock.
fn products(count: usize) -> Vec<ProductPopularity> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    random_titles(count, 42)
        .into_iter()
        .zip(1..)
        .map(|(title, id)| ProductPopularity {
            product_id: ProductId(id),
            title,
            units_ordered: if rng.random_ratio(1, 10) { rng.random_range(1..50) } else { 0 },
            stock: if rng.random_ratio(1, 3) { rng.random_range(0..500) } else { 0 },
        })
        .collect()
}

fn parse_all(queries: &[&str]) -> Vec<SuggestQuery> {
    queries.iter().map(|q| SuggestQuery::parse(Some(q)).expect("bench queries are valid")).collect()
}

/// Times every query of each class `rounds` times, one call at a time, and prints percentiles.
fn print_latency_distribution(size: usize, map: &SuggestMap) {
    let overlay = Overlay::default();
    for (class, queries) in CLASSES {
        let queries = parse_all(queries);
        let mut samples: Vec<Duration> = Vec::new();
        for _ in 0..2_000 {
            for query in &queries {
                let started = Instant::now();
                black_box(suggest(map, &overlay, query));
                samples.push(started.elapsed());
            }
        }
        samples.sort_unstable();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "fraction is in 0..=1")]
        let at = |fraction: f64| samples[((samples.len() - 1) as f64 * fraction) as usize];
        eprintln!(
            "suggest latency {size} titles {class:<11}: p50 {:>8.1?}  p99 {:>8.1?}  max {:>8.1?}  ({} calls)",
            at(0.50),
            at(0.99),
            at(1.0),
            samples.len()
        );
    }
}

fn build_once(size: usize) -> SuggestMap {
    let rows = products(size);
    let started = Instant::now();
    let map = SuggestMap::build(rows);
    eprintln!(
        "suggest build {size} products: {:.2?}, {} distinct titles, map memory {:.1} MB",
        started.elapsed(),
        map.title_count(),
        map.memory_bytes() as f64 / 1e6
    );
    map
}

fn bench_lookups(criterion: &mut Criterion, size: usize, map: &SuggestMap) {
    let overlay = Overlay::default();
    let mut group = criterion.benchmark_group(format!("suggest_lookup_{size}"));
    for (class, queries) in CLASSES {
        let queries = parse_all(queries);
        // One iteration asks every query of the class once; criterion's time is per query.
        group.throughput(criterion::Throughput::Elements(queries.len() as u64));
        group.bench_function(BenchmarkId::from_parameter(class), |bencher| {
            bencher.iter(|| {
                for query in &queries {
                    black_box(suggest(map, &overlay, query));
                }
            });
        });
    }
    group.finish();
}

fn main() {
    let large: usize = std::env::var("SUGGEST_BENCH_TITLES").ok().and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let mut criterion = Criterion::default().measurement_time(Duration::from_secs(3)).configure_from_args();

    let small_rows = products(1_000);
    criterion.bench_function("suggest_build_1000", |bencher| {
        bencher.iter_batched(|| small_rows.clone(), SuggestMap::build, criterion::BatchSize::SmallInput);
    });
    for size in [1_000, large] {
        let map = build_once(size);
        print_latency_distribution(size, &map);
        bench_lookups(&mut criterion, size, &map);
    }
    criterion.final_summary();
}
