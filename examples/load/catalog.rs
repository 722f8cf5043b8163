//! What the workloads draw from, read once from the server's database before the run.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

/// Products a shopper may ask for, per store, and the words they type.
pub(crate) struct Catalog {
    /// Each store with the products it carries (an inventory row, stocked or not).
    pub stores: Vec<(i64, Vec<i64>)>,
    /// Title words, most frequent first (so a skewed draw favours popular words).
    pub words: Vec<String>,
    /// Category ids and names.
    pub categories: Vec<(i64, String)>,
}

/// Products at the front of each store's list that most orders ask for (contention).
pub(crate) const HOT_PRODUCTS_PER_STORE: usize = 16;
/// Titles sampled for the vocabulary: enough for thousands of distinct words.
const TITLE_SAMPLE: i64 = 50_000;

impl Catalog {
    pub(crate) fn load(database: &Path) -> anyhow::Result<Self> {
        let conn = open_read_only(database)?;
        let catalog = Self { stores: stores(&conn)?, words: words(&conn)?, categories: categories(&conn)? };
        anyhow::ensure!(!catalog.stores.is_empty(), "the database has no stocked stores; seed it first");
        anyhow::ensure!(!catalog.words.is_empty(), "the database has no products; seed it first");
        Ok(catalog)
    }
}

pub(crate) fn open_read_only(database: &Path) -> anyhow::Result<Connection> {
    anyhow::ensure!(database.exists(), "{} does not exist", database.display());
    Ok(Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_ONLY)?)
}

fn stores(conn: &Connection) -> anyhow::Result<Vec<(i64, Vec<i64>)>> {
    let mut by_store: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut stmt = conn.prepare("SELECT store_id, product_id FROM inventory ORDER BY store_id, product_id")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        by_store.entry(row.get(0)?).or_default().push(row.get(1)?);
    }
    let mut stores: Vec<(i64, Vec<i64>)> = by_store.into_iter().collect();
    stores.sort_unstable_by_key(|(store_id, _)| *store_id);
    Ok(stores)
}

fn words(conn: &Connection) -> anyhow::Result<Vec<String>> {
    let mut counts: HashMap<String, u32> = HashMap::new();
    let mut stmt = conn.prepare("SELECT title FROM products ORDER BY id LIMIT ?1")?;
    let mut rows = stmt.query([TITLE_SAMPLE])?;
    while let Some(row) = rows.next()? {
        let title: String = row.get(0)?;
        for word in title.split(|c: char| !c.is_alphanumeric()).filter(|word| word.chars().count() >= 3) {
            *counts.entry(word.to_lowercase()).or_default() += 1;
        }
    }
    let mut words: Vec<(String, u32)> = counts.into_iter().collect();
    words.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(words.into_iter().map(|(word, _)| word).collect())
}

fn categories(conn: &Connection) -> anyhow::Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare("SELECT id, name FROM categories ORDER BY id")?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
