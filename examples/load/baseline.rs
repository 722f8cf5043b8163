//! In-process comparisons on the same data, one query at a time on one thread:
//! - search: tantivy (what `/api/search/products/` runs, uncached) vs SQLite FTS5 (a throwaway
//!   table built here in a temp file, not part of the product) vs `LIKE '%q%'` (what the Django
//!   version ran); each computes what a search answer needs: the count, the top 20 with their
//!   rows, and the category facet;
//! - suggest: the fst map (uncached) vs `SELECT DISTINCT title … LIKE 'q%' LIMIT 10`.
//!
//! The server must be stopped (the index is opened for writing, and rebuilt if stale).

use std::path::Path;
use std::time::{Duration, Instant};

use aforro::db::ReadPool;
use aforro::db::exclusive::lock_data_dir;
use aforro::db::store::popularity::products_with_popularity;
use aforro::search::{SearchIndex, SearchRequest, SortOrder};
use aforro::suggest::{Overlay, SuggestMap, SuggestQuery, suggest};
use hdrhistogram::Histogram;
use rand::SeedableRng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use rusqlite::{Connection, OpenFlags};

use crate::catalog::{Catalog, open_read_only};

/// The most frequent title words the queries are drawn from.
const VOCABULARY: usize = 500;

pub(crate) fn run(data_dir: &Path, index_dir: &Path, queries: usize) -> anyhow::Result<()> {
    let _lock = lock_data_dir(data_dir)?;
    let database = data_dir.join("aforro.db");
    let catalog = Catalog::load(&database)?;
    let searches = search_queries(&catalog, queries);
    let prefixes = prefix_queries(&catalog, queries);
    println!("{:<34} {:>7} {:>9} {:>9} {:>9} {:>9}", "approach", "queries", "mean ms", "p50 ms", "p99 ms", "max ms");
    search_tantivy(&database, index_dir, &searches)?;
    search_fts5(&database, &searches)?;
    search_like(&database, &searches[..(searches.len() / 10).max(1)])?;
    suggest_fst(&database, &prefixes)?;
    suggest_like(&database, &prefixes)?;
    Ok(())
}

fn search_queries(catalog: &Catalog, count: usize) -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let vocabulary = &catalog.words[..catalog.words.len().min(VOCABULARY)];
    let word = |rng: &mut ChaCha8Rng| vocabulary.choose(rng).expect("words").clone();
    (0..count)
        .map(|i| if i % 2 == 0 { word(&mut rng) } else { format!("{} {}", word(&mut rng), word(&mut rng)) })
        .collect()
}

fn prefix_queries(catalog: &Catalog, count: usize) -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let vocabulary = &catalog.words[..catalog.words.len().min(VOCABULARY)];
    (0..count)
        .map(|i| {
            let word = vocabulary.choose(&mut rng).expect("words");
            word.chars().take(3 + i % 3).collect()
        })
        .collect()
}

/// Times `query` over every input and prints one row.
fn measure<Q>(name: &str, inputs: &[Q], mut query: impl FnMut(&Q) -> anyhow::Result<()>) -> anyhow::Result<()> {
    let mut latency: Histogram<u64> = Histogram::new_with_bounds(1, 600_000_000, 3)?;
    let mut total = Duration::ZERO;
    for input in inputs {
        let started = Instant::now();
        query(input)?;
        let elapsed = started.elapsed();
        total += elapsed;
        latency.saturating_record(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX).max(1));
    }
    let ms = |micros: u64| micros as f64 / 1000.0;
    println!(
        "{name:<34} {:>7} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
        inputs.len(),
        total.as_secs_f64() * 1000.0 / inputs.len() as f64,
        ms(latency.value_at_quantile(0.5)),
        ms(latency.value_at_quantile(0.99)),
        ms(latency.max())
    );
    Ok(())
}

fn search_tantivy(database: &Path, index_dir: &Path, queries: &[String]) -> anyhow::Result<()> {
    let reads = ReadPool::open(database)?;
    // No match cache: the figures are the walk's, comparable with the engines beside it.
    let index = SearchIndex::open(index_dir, reads.clone(), 0)?;
    measure("search: tantivy (aforro)", queries, |q| {
        let request = SearchRequest { q: Some(q.clone()), sort: SortOrder::Relevance, ..SearchRequest::default() };
        reads.run_blocking(|conn| index.search(conn, &request))?;
        Ok(())
    })
}

fn search_fts5(database: &Path, queries: &[String]) -> anyhow::Result<()> {
    let scratch = tempfile::tempdir()?;
    let conn =
        Connection::open_with_flags(scratch.path().join("fts.db"), OpenFlags::default() | OpenFlags::SQLITE_OPEN_URI)?;
    conn.execute("ATTACH DATABASE ?1 AS shop", [format!("file:{}?mode=ro", database.display())])?;
    let started = Instant::now();
    conn.execute_batch(
        "CREATE VIRTUAL TABLE fts USING fts5(title, description, tokenize = 'unicode61 remove_diacritics 2');
         INSERT INTO fts (rowid, title, description) SELECT id, title, description FROM shop.products;",
    )?;
    println!("(FTS5 table built in {:.1} s)", started.elapsed().as_secs_f64());
    measure("search: SQLite FTS5, bm25", queries, |q| {
        // Each word quoted: plain words, OR-ed, as the tantivy query ranks any-word matches.
        let expression: Vec<String> = q.split(' ').map(|word| format!("\"{word}\"")).collect();
        let expression = expression.join(" OR ");
        conn.query_row("SELECT COUNT(*) FROM fts WHERE fts MATCH ?1", [&expression], |row| row.get::<_, i64>(0))?;
        drain(
            &conn,
            "SELECT p.id, p.title, p.description, p.price_cents, p.category_id, p.created_at
             FROM fts JOIN shop.products p ON p.id = fts.rowid WHERE fts MATCH ?1 ORDER BY bm25(fts, 3.0, 1.0) LIMIT 20",
            &expression,
        )?;
        drain(
            &conn,
            "SELECT p.category_id, COUNT(*) FROM fts JOIN shop.products p ON p.id = fts.rowid
             WHERE fts MATCH ?1 GROUP BY p.category_id",
            &expression,
        )
    })
}

fn search_like(database: &Path, queries: &[String]) -> anyhow::Result<()> {
    let conn = open_read_only(database)?;
    measure("search: LIKE '%q%' (Django's)", queries, |q| {
        let pattern = format!("%{q}%");
        let matching = "FROM products WHERE title LIKE ?1 OR description LIKE ?1";
        conn.query_row(&format!("SELECT COUNT(*) {matching}"), [&pattern], |row| row.get::<_, i64>(0))?;
        drain(
            &conn,
            &format!(
                "SELECT id, title, description, price_cents, category_id, created_at {matching} ORDER BY id LIMIT 20"
            ),
            &pattern,
        )?;
        drain(&conn, &format!("SELECT category_id, COUNT(*) {matching} GROUP BY category_id"), &pattern)
    })
}

fn suggest_fst(database: &Path, prefixes: &[String]) -> anyhow::Result<()> {
    let conn = open_read_only(database)?;
    let started = Instant::now();
    let map = SuggestMap::build(products_with_popularity(&conn)?);
    println!("(fst map built in {:.1} s, {} MB)", started.elapsed().as_secs_f64(), map.memory_bytes() / 1_000_000);
    let overlay = Overlay::default();
    let parsed: Vec<SuggestQuery> = prefixes
        .iter()
        .map(|q| SuggestQuery::parse(Some(q)))
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    measure("suggest: fst map, uncached", &parsed, |query| {
        std::hint::black_box(suggest(&map, &overlay, query));
        Ok(())
    })
}

fn suggest_like(database: &Path, prefixes: &[String]) -> anyhow::Result<()> {
    let conn = open_read_only(database)?;
    measure("suggest: LIKE 'q%' (Django's)", prefixes, |q| {
        drain(&conn, "SELECT DISTINCT title FROM products WHERE title LIKE ?1 || '%' LIMIT 10", q)
    })
}

/// Runs `sql` and reads every row, as a handler serialising them would.
fn drain(conn: &Connection, sql: &str, parameter: &str) -> anyhow::Result<()> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query([parameter])?;
    while let Some(row) = rows.next()? {
        std::hint::black_box(row.get_ref(0)?);
    }
    Ok(())
}
