//! The demo seed's SQL: bulk inserts with prepared statements, one `IMMEDIATE` transaction
//! per phase (so a phase is all-or-nothing and fsyncs once instead of per row). `seed`
//! generates the rows; this module only stores them.

use rusqlite::{Connection, TransactionBehavior, params};

use crate::domain::Timestamp;
use crate::error::Result;

/// SQLite page cache for seeding, in KiB (256 MiB).
const SEED_CACHE_KIB: i64 = 256 * 1024;

/// Runs `seed` with a big page cache, which keeps a million-row insert in memory instead of
/// re-reading the file, then restores the connection's cache size and refreshes the planner's
/// statistics (the listings' indexes were chosen for a full table).
pub fn with_bulk_settings<T>(conn: &mut Connection, seed: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
    let cache_size: i64 = conn.pragma_query_value(None, "cache_size", |row| row.get(0))?;
    conn.pragma_update(None, "cache_size", -SEED_CACHE_KIB)?;
    let seeded = seed(conn).and_then(|seeded| {
        conn.execute_batch("ANALYZE")?;
        Ok(seeded)
    });
    conn.pragma_update(None, "cache_size", cache_size)?;
    seeded
}

/// Finds or creates each category by name (case-insensitively): its id, and whether this
/// call created it.
pub fn find_or_create_categories(conn: &mut Connection, names: &[String]) -> Result<Vec<(i64, bool)>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut found = Vec::with_capacity(names.len());
    {
        let mut insert = tx.prepare("INSERT INTO categories (name) VALUES (?1) ON CONFLICT DO NOTHING")?;
        let mut find = tx.prepare("SELECT id FROM categories WHERE name = ?1 COLLATE NOCASE")?;
        for name in names {
            let created = insert.execute([name])? == 1;
            found.push((find.query_row([name], |row| row.get(0))?, created));
        }
    }
    tx.commit()?;
    Ok(found)
}

/// A generated product, as the seed inserts it.
pub struct SeedProduct {
    /// The product's title (what search and autocomplete match).
    pub title: String,
    /// A sentence of description text.
    pub description: String,
    /// Price in cents, positive.
    pub price_cents: i64,
    /// An existing category's id.
    pub category_id: i64,
    /// When it was listed.
    pub created_at: Timestamp,
}

/// Inserts every product `products` yields, in one transaction; returns how many.
pub fn insert_products(conn: &mut Connection, products: impl Iterator<Item = SeedProduct>) -> Result<u64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut count = 0;
    {
        let mut insert = tx.prepare(
            "INSERT INTO products (title, description, price_cents, category_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for product in products {
            insert.execute(params![
                product.title,
                product.description,
                product.price_cents,
                product.category_id,
                product.created_at.micros
            ])?;
            count += 1;
        }
    }
    tx.commit()?;
    Ok(count)
}

/// Inserts each `(name, location)` store in one transaction; returns their new ids in order.
pub fn insert_stores(conn: &mut Connection, stores: impl Iterator<Item = (String, String)>) -> Result<Vec<i64>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut ids = Vec::new();
    {
        let mut insert = tx.prepare("INSERT INTO stores (name, location) VALUES (?1, ?2) RETURNING id")?;
        for (name, location) in stores {
            ids.push(insert.query_row(params![name, location], |row| row.get(0))?);
        }
    }
    tx.commit()?;
    Ok(ids)
}

/// Every product id, ascending.
pub fn product_ids(conn: &Connection) -> Result<Vec<i64>> {
    let ids = conn
        .prepare("SELECT id FROM products ORDER BY id")?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// Inserts each `(store_id, product_id, quantity)` inventory row in one transaction; returns
/// how many.
pub fn insert_inventory(conn: &mut Connection, rows: impl Iterator<Item = (i64, i64, i64)>) -> Result<u64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut count = 0;
    {
        let mut insert = tx.prepare("INSERT INTO inventory (store_id, product_id, quantity) VALUES (?1, ?2, ?3)")?;
        for (store_id, product_id, quantity) in rows {
            insert.execute(params![store_id, product_id, quantity])?;
            count += 1;
        }
    }
    tx.commit()?;
    Ok(count)
}
