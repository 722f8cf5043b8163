//! `aforro seed`: a deterministic, realistic demo catalog, fast enough for a million products.
//!
//! This module generates the rows; [`crate::db::store::seed`] stores them, one transaction per phase
//! (categories, products, stores, inventory), so a seed is all-or-nothing per phase and fsyncs
//! a handful of times instead of millions. Running it again adds new products and new stores;
//! categories are matched by name and inventory rows only ever go to the stores this run
//! created, so no unique constraint can be hit.

mod words;

use indicatif::ProgressBar;
use rand::seq::{IndexedRandom, index};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::Connection;

use crate::db::store::seed::{self as store, SeedProduct};
use crate::domain::Timestamp;
use crate::error::Result;
use crate::progress::progress_bar;

/// What to seed. Defaults are the contract's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedOptions {
    /// Categories to add.
    pub categories: u32,
    /// Products to add, spread over the categories.
    pub products: u32,
    /// Stores to add.
    pub stores: u32,
    /// Products each store stocks.
    pub inventory_per_store: u32,
    /// Same seed, same catalog.
    pub random_seed: u64,
}

impl Default for SeedOptions {
    fn default() -> Self {
        Self { categories: 12, products: 1200, stores: 24, inventory_per_store: 400, random_seed: 42 }
    }
}

/// What a seed run added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// Categories added (existing names are kept, not counted).
    pub categories: u64,
    /// Products added.
    pub products: u64,
    /// Stores added.
    pub stores: u64,
    /// Inventory rows added.
    pub inventory_rows: u64,
}

/// The demo catalog's time span: created_at is spread over the two years before this instant.
const TWO_YEARS_MICROS: i64 = 2 * 365 * 24 * 3600 * 1_000_000;
/// Rows between progress updates (and plain log lines off a terminal).
const PROGRESS_STEP: u64 = 50_000;

/// True when there is nothing in the catalog yet (`serve --demo` seeds only then).
pub fn is_empty(conn: &Connection) -> Result<bool> {
    Ok(crate::db::store::catalog::count_products(conn)? == 0)
}

/// Seeds the database behind `conn` (which must be migrated).
pub fn seed(conn: &mut Connection, options: &SeedOptions) -> Result<SeedReport> {
    store::with_bulk_settings(conn, |conn| seed_all(conn, options))
}

fn seed_all(conn: &mut Connection, options: &SeedOptions) -> Result<SeedReport> {
    let mut rng = ChaCha8Rng::seed_from_u64(options.random_seed);
    let now = Timestamp::now();
    let categories = seed_categories(conn, options.categories)?;
    let products = seed_products(conn, &mut rng, &categories, options.products, now)?;
    let store_ids = seed_stores(conn, &mut rng, options.stores)?;
    let inventory_rows = seed_inventory(conn, &mut rng, &store_ids, options.inventory_per_store)?;
    Ok(SeedReport {
        categories: categories.iter().filter(|category| category.created).count() as u64,
        products,
        stores: store_ids.len() as u64,
        inventory_rows,
    })
}

struct SeededCategory {
    id: i64,
    nouns: &'static [&'static str],
    created: bool,
}

/// Finds or creates `count` categories by name (names beyond the word list get a number).
fn seed_categories(conn: &mut Connection, count: u32) -> Result<Vec<SeededCategory>> {
    let (names, word_lists): (Vec<String>, Vec<_>) = (0..count as usize)
        .map(|index| {
            let (base, nouns) = words::CATEGORIES[index % words::CATEGORIES.len()];
            let round = index / words::CATEGORIES.len();
            (if round == 0 { base.to_owned() } else { format!("{base} {}", round + 1) }, nouns)
        })
        .unzip();
    let found = store::find_or_create_categories(conn, &names)?;
    Ok(found.into_iter().zip(word_lists).map(|((id, created), nouns)| SeededCategory { id, nouns, created }).collect())
}

fn seed_products(
    conn: &mut Connection,
    rng: &mut ChaCha8Rng,
    categories: &[SeededCategory],
    count: u32,
    now: Timestamp,
) -> Result<u64> {
    if categories.is_empty() || count == 0 {
        return Ok(0);
    }
    let progress = progress_bar(u64::from(count), "products");
    let products = (1..=u64::from(count)).map(|done| {
        let category = &categories[rng.random_range(0..categories.len())];
        let product = random_product(rng, category.nouns);
        let created_at = Timestamp { micros: now.micros - rng.random_range(0..TWO_YEARS_MICROS) };
        tick(&progress, done);
        SeedProduct {
            title: product.title,
            description: product.description,
            price_cents: product.price_cents,
            category_id: category.id,
            created_at,
        }
    });
    let inserted = store::insert_products(conn, products)?;
    progress.finish_and_clear();
    tracing::info!(count, "seeded products");
    Ok(inserted)
}

struct RandomProduct {
    title: String,
    description: String,
    price_cents: i64,
}

#[cfg(feature = "test-support")]
/// `count` product titles as the seed writes them, deterministic for `random_seed`, without a
/// database: benches build the autocomplete map from them.
pub fn random_titles(count: usize, random_seed: u64) -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(random_seed);
    (0..count)
        .map(|_| {
            let (_, nouns) = words::CATEGORIES[rng.random_range(0..words::CATEGORIES.len())];
            random_product(&mut rng, nouns).title
        })
        .collect()
}

fn pick(rng: &mut ChaCha8Rng, list: &[&'static str]) -> &'static str {
    list.choose(rng).expect("word lists are not empty")
}

fn random_product(rng: &mut ChaCha8Rng, nouns: &[&'static str]) -> RandomProduct {
    let brand = pick(rng, words::BRANDS);
    let adjective = pick(rng, words::ADJECTIVES);
    let material = pick(rng, words::MATERIALS);
    let noun = pick(rng, nouns);
    let size = pick(rng, words::SIZES);
    let title = match rng.random_range(0..4) {
        0 => format!("{brand} {adjective} {noun}"),
        1 => format!("{brand} {material} {noun}"),
        2 => format!("{brand} {adjective} {material} {noun} {size}"),
        _ => format!("{brand} {noun} {size}"),
    };
    let adjective = adjective.to_lowercase();
    let article = if adjective.starts_with(['a', 'e', 'i', 'o', 'u']) { "An" } else { "A" };
    let description = format!(
        "{article} {adjective} {} {} in {}, {}. {}",
        material.to_lowercase(),
        noun.to_lowercase(),
        pick(rng, words::COLOURS),
        pick(rng, words::BENEFITS),
        format_args!("From {brand}: {}.", pick(rng, words::BENEFITS)),
    );
    // Prices skew low like a real shop: most under 100.00, a few up to 999.99.
    let price_cents = match rng.random_range(0..10) {
        0..=5 => rng.random_range(50..10_000),
        6..=8 => rng.random_range(10_000..50_000),
        _ => rng.random_range(50_000..=99_999),
    };
    RandomProduct { title, description, price_cents }
}

fn seed_stores(conn: &mut Connection, rng: &mut ChaCha8Rng, count: u32) -> Result<Vec<i64>> {
    let stores = (0..count).map(|_| {
        let city = *words::CITIES.choose(rng).expect("cities are not empty");
        let kind = *words::STORE_KINDS.choose(rng).expect("store kinds are not empty");
        (format!("Aforro {city} {kind}"), city.to_owned())
    });
    let ids = store::insert_stores(conn, stores)?;
    tracing::info!(count, "seeded stores");
    Ok(ids)
}

/// Gives each new store `per_store` distinct products (or every product, if fewer exist),
/// about one in ten of them out of stock.
fn seed_inventory(conn: &mut Connection, rng: &mut ChaCha8Rng, store_ids: &[i64], per_store: u32) -> Result<u64> {
    let product_ids = store::product_ids(conn)?;
    let per_store = (per_store as usize).min(product_ids.len());
    let total = (per_store * store_ids.len()) as u64;
    let progress = progress_bar(total, "inventory");
    let mut done = 0;
    let product_ids = &product_ids;
    let rows = store_ids.iter().flat_map(|&store_id| {
        // Sorted picks make the unique index's inserts sequential: much faster at 5M rows.
        let mut picks = index::sample(rng, product_ids.len(), per_store).into_vec();
        picks.sort_unstable();
        let quantities: Vec<i64> =
            picks.iter().map(|_| if rng.random_ratio(1, 10) { 0 } else { rng.random_range(1..=100) }).collect();
        picks.into_iter().zip(quantities).map(move |(pick, quantity)| (store_id, product_ids[pick], quantity))
    });
    let rows = rows.inspect(|_| {
        done += 1;
        tick(&progress, done);
    });
    let inserted = store::insert_inventory(conn, rows)?;
    progress.finish_and_clear();
    tracing::info!(rows = inserted, "seeded inventory");
    Ok(inserted)
}

fn tick(bar: &ProgressBar, done: u64) {
    if done.is_multiple_of(PROGRESS_STEP) {
        bar.set_position(done);
        let total = bar.length().unwrap_or(0);
        // Off a terminal, one line per tenth is enough to show it is moving.
        let tenth = (total / 10 / PROGRESS_STEP).max(1) * PROGRESS_STEP;
        if bar.is_hidden() && done.is_multiple_of(tenth) {
            tracing::info!(done, total, what = %bar.message(), "seeding");
        }
    }
}
