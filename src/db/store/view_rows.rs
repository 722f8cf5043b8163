//! The rows the derived views are built from and kept in step with: every product for a full
//! search-index build, one product for an index update, the products of a category, the
//! category names, a search page's rows, every inventory row for the stock view and every
//! title in listing order with every price and category (the browse orders). The views own
//! what they make of the rows; the SQL lives here.
//!
//! The full scans hand each row to a callback, borrowing its text from SQLite's buffer: a
//! build over 1M products then copies no string it does not keep.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension};

use crate::db::records::{HeldChange, StockChange, ThresholdChange};
use crate::domain::{CategoryId, ProductId};
use crate::error::Result;

/// A product row as the search index sees it, its text borrowed from the row being read.
#[derive(Debug, Clone, Copy)]
pub struct ProductRow<'a> {
    /// The product's id (the index's key).
    pub id: i64,
    /// Searched as typed and stemmed.
    pub title: &'a str,
    /// Searched as typed and stemmed.
    pub description: &'a str,
    /// Filtered and sorted on.
    pub price_cents: i64,
    /// Filtered and faceted on.
    pub category_id: i64,
    /// Sorted on (newest first).
    pub created_at: i64,
    /// The category's name, searchable like the title.
    pub category: &'a str,
}

/// The columns of [`ProductRow`], in its order, as a literal that the two queries below
/// complete (`concat!` keeps them literals, which `scripts/check-sql.sh` checks).
macro_rules! product_rows {
    () => {
        "SELECT p.id, p.title, p.description, p.price_cents, p.category_id, p.created_at, c.name
           FROM products p JOIN categories c ON c.id = p.category_id"
    };
}

/// Every product, for a full build.
const PRODUCT_ROWS_BY_ID: &str = concat!(product_rows!(), " ORDER BY p.id");

/// One product, for an incremental update.
const PRODUCT_ROW: &str = concat!(product_rows!(), " WHERE p.id = ?1");

/// Reads a [`ProductRow`] from a row of [`product_rows!`].
fn product_row<'a>(row: &'a rusqlite::Row<'_>) -> rusqlite::Result<ProductRow<'a>> {
    Ok(ProductRow {
        id: row.get(0)?,
        title: row.get_ref(1)?.as_str()?,
        description: row.get_ref(2)?.as_str()?,
        price_cents: row.get(3)?,
        category_id: row.get(4)?,
        created_at: row.get(5)?,
        category: row.get_ref(6)?.as_str()?,
    })
}

/// Hands every product to `each`, by id. Inside a transaction it reads that transaction's
/// snapshot, so a build and the watermark it records agree.
pub fn for_each_product(conn: &Connection, mut each: impl FnMut(ProductRow<'_>) -> Result<()>) -> Result<()> {
    let mut stmt = conn.prepare(PRODUCT_ROWS_BY_ID)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        each(product_row(row)?)?;
    }
    Ok(())
}

/// What `each` makes of one product's row, or `None` when the product does not exist.
pub fn with_product<T>(
    conn: &Connection,
    product_id: ProductId,
    each: impl FnOnce(ProductRow<'_>) -> Result<T>,
) -> Result<Option<T>> {
    let mut stmt = conn.prepare_cached(PRODUCT_ROW)?;
    let mut rows = stmt.query([product_id])?;
    match rows.next()? {
        Some(row) => Ok(Some(each(product_row(row)?)?)),
        None => Ok(None),
    }
}

/// The ids of every product in the categories `category_ids` (whose name the index must
/// carry anew after a rename).
pub fn products_in_categories(conn: &Connection, category_ids: &[CategoryId]) -> Result<Vec<ProductId>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM products WHERE category_id = ?1")?;
    let mut products = Vec::new();
    for category_id in category_ids {
        let rows = stmt.query_map([category_id], |row| row.get(0).map(ProductId))?;
        products.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);
    }
    Ok(products)
}

/// Every category's name by id. Catalogs have tens of categories, so one small query per
/// search.
pub fn category_names(conn: &Connection) -> Result<BTreeMap<CategoryId, String>> {
    let mut stmt = conn.prepare_cached("SELECT id, name FROM categories")?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// What a search result shows of a product beside what the index knows.
#[derive(Debug, Clone)]
pub struct ProductSummary {
    /// As stored (the index holds it analysed).
    pub title: String,
    /// As stored.
    pub description: String,
    /// The price in cents.
    pub price_cents: i64,
    /// The category's id.
    pub category_id: CategoryId,
    /// The category's name.
    pub category: String,
    /// Microseconds since the epoch.
    pub created_at: i64,
}

/// The summaries of `product_ids`, in their order: `None` for a product gone from SQLite
/// (deleted by another process since the index was built).
pub fn product_summaries(conn: &Connection, product_ids: &[ProductId]) -> Result<Vec<Option<ProductSummary>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.title, p.description, p.price_cents, p.category_id, c.name, p.created_at
           FROM products p JOIN categories c ON c.id = p.category_id
          WHERE p.id = ?1",
    )?;
    let mut summaries = Vec::with_capacity(product_ids.len());
    for id in product_ids {
        let summary = stmt
            .query_row([id], |row| {
                Ok(ProductSummary {
                    title: row.get(0)?,
                    description: row.get(1)?,
                    price_cents: row.get(2)?,
                    category_id: row.get(3)?,
                    category: row.get(4)?,
                    created_at: row.get(5)?,
                })
            })
            .optional()?;
        summaries.push(summary);
    }
    Ok(summaries)
}

/// The highest product id (0 for an empty catalog): sizes the stock view's tables.
pub fn max_product_id(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COALESCE(MAX(id), 0) FROM products", [], |row| row.get(0))?)
}

/// Hands every inventory row to `each` as the stock it sets, in no particular order.
pub fn for_each_inventory_row(conn: &Connection, mut each: impl FnMut(StockChange) -> Result<()>) -> Result<()> {
    let mut stmt = conn.prepare("SELECT store_id, product_id, quantity FROM inventory")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        each(StockChange { store_id: row.get(0)?, product_id: row.get(1)?, quantity: row.get(2)? })?;
    }
    Ok(())
}

/// Hands every inventory row that active reservations hold something of to `each`, as the
/// held amount it sets (the partial index `inventory_held` holds exactly those rows).
pub fn for_each_held_row(conn: &Connection, mut each: impl FnMut(HeldChange) -> Result<()>) -> Result<()> {
    let mut stmt = conn.prepare("SELECT store_id, product_id, held FROM inventory WHERE held > 0")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        each(HeldChange { store_id: row.get(0)?, product_id: row.get(1)?, held: row.get(2)? })?;
    }
    Ok(())
}

/// Hands every inventory row whose low-stock threshold is not `default` to `each` (one pass
/// over the inventory at start; thresholds are set by hand, so few rows differ).
pub fn for_each_low_stock_override(
    conn: &Connection,
    default: i64,
    mut each: impl FnMut(ThresholdChange) -> Result<()>,
) -> Result<()> {
    let mut stmt = conn
        .prepare("SELECT store_id, product_id, low_stock_threshold FROM inventory WHERE low_stock_threshold <> ?1")?;
    let mut rows = stmt.query([default])?;
    while let Some(row) = rows.next()? {
        each(ThresholdChange { store_id: row.get(0)?, product_id: row.get(1)?, threshold: row.get(2)? })?;
    }
    Ok(())
}

/// Hands every product's (id, title) to `each` in listing order (title without case, then
/// id). The `products_title_nocase` index is that order, so SQLite walks an index and sorts
/// nothing.
pub fn for_each_title(conn: &Connection, mut each: impl FnMut(i64, &str) -> Result<()>) -> Result<()> {
    let mut stmt = conn.prepare("SELECT id, title FROM products ORDER BY title COLLATE NOCASE, id")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        each(row.get(0)?, row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?)?;
    }
    Ok(())
}

/// Hands every product's (id, price in cents, category id) to `each`, in rowid order: a walk
/// of the table, no index, nothing sorted.
pub fn for_each_price_and_category(conn: &Connection, mut each: impl FnMut(i64, i64, i64) -> Result<()>) -> Result<()> {
    let mut stmt = conn.prepare("SELECT id, price_cents, category_id FROM products")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        each(row.get(0)?, row.get(1)?, row.get(2)?)?;
    }
    Ok(())
}
