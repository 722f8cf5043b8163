//! What the autocomplete map is built from: every product's title and how popular it is
//! (units ordered in confirmed orders, then units in stock across stores).

use std::collections::HashMap;

use rusqlite::Connection;

use super::catalog::{CatalogWatermark, catalog_watermark};
use crate::domain::ProductId;
use crate::error::Result;

/// One product as autocomplete ranks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductPopularity {
    /// The product ranked.
    pub product_id: ProductId,
    /// Its title, as autocomplete shows it.
    pub title: String,
    /// Units of this product in `CONFIRMED` orders.
    pub units_ordered: i64,
    /// Units in stock, summed over every store.
    pub stock: i64,
}

/// Every product with its popularity, read in one transaction so the three reads agree.
pub fn products_with_popularity(conn: &Connection) -> Result<Vec<ProductPopularity>> {
    Ok(products_with_popularity_at(conn)?.1)
}

/// [`products_with_popularity`] and the catalog watermark of the same snapshot, to stamp what
/// is built from them.
pub fn products_with_popularity_at(conn: &Connection) -> Result<(CatalogWatermark, Vec<ProductPopularity>)> {
    let tx = conn.unchecked_transaction()?;
    let watermark = catalog_watermark(&tx)?;
    // Two grouped aggregates joined in memory: far cheaper than two correlated subqueries per
    // product at a million products, since few products have orders or stock rows.
    let units_ordered = sums_by_product(
        &tx,
        "SELECT oi.product_id, SUM(oi.quantity_requested)
           FROM order_items oi JOIN orders o ON o.id = oi.order_id
          WHERE o.status = 'CONFIRMED'
          GROUP BY oi.product_id",
    )?;
    let stock = sums_by_product(&tx, "SELECT product_id, SUM(quantity) FROM inventory GROUP BY product_id")?;
    let mut stmt = tx.prepare("SELECT id, title FROM products")?;
    let rows = stmt.query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))?;
    let mut products = Vec::new();
    for row in rows {
        let (id, title) = row?;
        products.push(ProductPopularity {
            product_id: ProductId(id),
            title,
            units_ordered: units_ordered.get(&id).copied().unwrap_or(0),
            stock: stock.get(&id).copied().unwrap_or(0),
        });
    }
    Ok((watermark, products))
}

fn sums_by_product(conn: &Connection, sql: &str) -> Result<HashMap<i64, i64>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The current titles of the given products (products that no longer exist are left out).
pub fn product_titles(conn: &Connection, product_ids: &[ProductId]) -> Result<Vec<(ProductId, String)>> {
    let mut stmt = conn.prepare_cached("SELECT title FROM products WHERE id = ?1")?;
    let mut titles = Vec::with_capacity(product_ids.len());
    for &product_id in product_ids {
        if let Some(title) = crate::db::optional(stmt.query_row([product_id], |row| row.get(0)))? {
            titles.push((product_id, title));
        }
    }
    Ok(titles)
}
