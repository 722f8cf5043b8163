//! Catalog and store lookups: categories, products, stores and their stock.

use rusqlite::{Connection, params};

use super::optional;
use crate::domain::{ProductId, StoreId};
use crate::error::Result;

pub fn store_exists(conn: &Connection, store_id: StoreId) -> Result<bool> {
    let mut stmt = conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM stores WHERE id = ?1)")?;
    Ok(stmt.query_row([store_id], |row| row.get(0))?)
}

/// A product's title and the stock a store holds of it (0 when the store has no row for it),
/// or `None` when the product does not exist.
pub fn product_stock_in_store(
    conn: &Connection,
    store_id: StoreId,
    product_id: ProductId,
) -> Result<Option<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.title, COALESCE(i.quantity, 0)
           FROM products p
           LEFT JOIN inventory i ON i.product_id = p.id AND i.store_id = ?1
          WHERE p.id = ?2",
    )?;
    optional(stmt.query_row(params![store_id, product_id], |row| Ok((row.get(0)?, row.get(1)?))))
}

/// Takes `quantity` units of a product from a store if it has them; returns the new stock,
/// or `None` if there were not enough. The `quantity >= ?3` guard keeps the CHECK constraint
/// from ever being the thing that stops an oversell.
pub fn take_stock(conn: &Connection, store_id: StoreId, product_id: ProductId, quantity: i64) -> Result<Option<i64>> {
    let mut stmt = conn.prepare_cached(
        "UPDATE inventory SET quantity = quantity - ?3
          WHERE store_id = ?1 AND product_id = ?2 AND quantity >= ?3
      RETURNING quantity",
    )?;
    optional(stmt.query_row(params![store_id, product_id, quantity], |row| row.get(0)))
}

/// The catalog watermark: changes whenever a product or category changes (see the triggers
/// in `0001_init.sql`). Derived data records it to know whether it is stale.
pub fn catalog_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT version FROM catalog_version WHERE id = 1", [], |row| row.get(0))?)
}

/// Which database a catalog is and how far it has changed: derived data stamped with another
/// watermark is stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogWatermark {
    /// Random, fixed when the database was first migrated (`0004_catalog_lineage.sql`): two
    /// databases at the same version are still told apart.
    pub lineage: String,
    /// [`catalog_version`].
    pub version: i64,
}

pub fn catalog_watermark(conn: &Connection) -> Result<CatalogWatermark> {
    Ok(conn.query_row("SELECT lineage, version FROM catalog_version WHERE id = 1", [], |row| {
        Ok(CatalogWatermark { lineage: row.get(0)?, version: row.get(1)? })
    })?)
}

pub fn count_products(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM products", [], |row| row.get(0))?)
}

/// A product as the catalog writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductFields {
    pub title: String,
    pub description: String,
    pub price_cents: i64,
    pub category_id: crate::domain::CategoryId,
}

/// Inserts a product and returns its id. Rejected by the database if the category does not
/// exist or the price is negative (foreign key and CHECK constraints).
pub fn insert_product(conn: &Connection, fields: &ProductFields, now: crate::domain::Timestamp) -> Result<ProductId> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO products (title, description, price_cents, category_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
    )?;
    Ok(stmt.query_row(
        params![fields.title, fields.description, fields.price_cents, fields.category_id, now.micros],
        |row| row.get(0),
    )?)
}

/// Replaces a product's fields; returns false when there is no such product.
pub fn update_product(conn: &Connection, product_id: ProductId, fields: &ProductFields) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "UPDATE products SET title = ?2, description = ?3, price_cents = ?4, category_id = ?5 WHERE id = ?1",
    )?;
    Ok(stmt.execute(params![product_id, fields.title, fields.description, fields.price_cents, fields.category_id])?
        == 1)
}
