//! What the admin API and page read: categories, products, stores, orders across stores and
//! failed jobs, as small named queries on a read connection.

use rusqlite::{Connection, Row, params};
use serde::Serialize;

use super::optional;
use crate::db::listings::PageOf;
use crate::domain::{CategoryId, Money, OrderId, OrderStatus, PageRequest, ProductId, StoreId, Timestamp};
use crate::error::{Error, Result};

/// A category as the admin lists and edits it.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryRow {
    /// The category's id.
    pub id: CategoryId,
    /// Unique without case.
    pub name: String,
}

/// A product as the admin lists and edits it, with its category's name.
#[derive(Debug, Clone, Serialize)]
pub struct ProductRow {
    /// The product's id.
    pub id: ProductId,
    /// The title shown to customers.
    pub title: String,
    /// Free text, searched like the title.
    pub description: String,
    /// The unit price.
    pub price: Money,
    /// The category it belongs to.
    pub category_id: CategoryId,
    /// That category's name, so the list needs no second lookup.
    pub category: String,
    /// When the product was created.
    pub created_at: Timestamp,
}

/// A store as the admin lists and edits it.
#[derive(Debug, Clone, Serialize)]
pub struct StoreRow {
    /// The store's id.
    pub id: StoreId,
    /// The store's display name.
    pub name: String,
    /// Where the store is (free text).
    pub location: String,
}

/// One order of the cross-store order list.
#[derive(Debug, Clone, Serialize)]
pub struct OrderRow {
    /// The order's id.
    pub id: OrderId,
    /// The store it was placed in.
    pub store_id: StoreId,
    /// Where the order is in its life.
    pub status: OrderStatus,
    /// When it was placed.
    pub created_at: Timestamp,
    /// Units over all its lines.
    pub total_quantity: i64,
}

/// The inventory of one store for one product, after a change.
#[derive(Debug, Clone, Serialize)]
pub struct StockRow {
    /// The store holding the stock.
    pub store_id: StoreId,
    /// The product stocked.
    pub product_id: ProductId,
    /// Units on hand after the change.
    pub quantity: i64,
}

/// Filters of the cross-store order list.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrderFilter {
    /// Only this store's orders.
    pub store_id: Option<StoreId>,
    /// Only orders in this state.
    pub status: Option<OrderStatus>,
}

/// A page of categories by name, for the admin API.
pub fn categories(conn: &Connection, page: PageRequest) -> Result<PageOf<CategoryRow>> {
    let count = conn.query_row("SELECT COUNT(*) FROM categories", [], |row| row.get(0))?;
    let mut stmt = conn.prepare_cached("SELECT id, name FROM categories ORDER BY id LIMIT ?1 OFFSET ?2")?;
    let rows = stmt.query_map(params![page.limit(), page.offset()], |row| {
        Ok(CategoryRow { id: row.get(0)?, name: row.get(1)? })
    })?;
    Ok(PageOf { count, rows: rows.collect::<rusqlite::Result<_>>()? })
}

/// Every category by name (the product form's choice; catalogs have tens).
pub fn all_categories(conn: &Connection) -> Result<Vec<CategoryRow>> {
    let mut stmt = conn.prepare_cached("SELECT id, name FROM categories ORDER BY name COLLATE NOCASE")?;
    let rows = stmt.query_map([], |row| Ok(CategoryRow { id: row.get(0)?, name: row.get(1)? }))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One category, or 404 when it does not exist.
pub fn category(conn: &Connection, id: CategoryId) -> Result<CategoryRow> {
    let found = optional(conn.query_row("SELECT id, name FROM categories WHERE id = ?1", [id], |row| {
        Ok(CategoryRow { id: row.get(0)?, name: row.get(1)? })
    }))?;
    found.ok_or_else(|| Error::NotFound(format!("category {id} does not exist")))
}

const PRODUCT_COLUMNS: &str = "SELECT p.id, p.title, p.description, p.price_cents, p.category_id, c.name, p.created_at
   FROM products p JOIN categories c ON c.id = p.category_id";

/// One page of products whose title contains `?1` (all when NULL).
const PRODUCTS_TITLED_PAGE: &str =
    "WHERE ?1 IS NULL OR instr(lower(p.title), lower(?1)) > 0 ORDER BY p.id LIMIT ?2 OFFSET ?3";

pub(super) fn product_row(row: &Row<'_>) -> rusqlite::Result<ProductRow> {
    Ok(ProductRow {
        id: row.get(0)?,
        title: row.get(1)?,
        description: row.get(2)?,
        price: Money::from_cents(row.get(3)?),
        category_id: row.get(4)?,
        category: row.get(5)?,
        created_at: Timestamp::from_micros(row.get(6)?),
    })
}

/// Products by id, optionally only those whose title contains `title_contains`
/// (case-insensitively): the admin's lookup, not the ranked search.
pub fn products(conn: &Connection, title_contains: Option<&str>, page: PageRequest) -> Result<PageOf<ProductRow>> {
    // instr, not LIKE: no wildcards to escape, and a NUL in the text does not cut the pattern
    // short (LIKE stops reading at a NUL and would match every title).
    let count = conn.query_row(
        "SELECT COUNT(*) FROM products WHERE ?1 IS NULL OR instr(lower(title), lower(?1)) > 0",
        [title_contains],
        |row| row.get(0),
    )?;
    let mut stmt = conn.prepare_cached(&format!("{PRODUCT_COLUMNS} {PRODUCTS_TITLED_PAGE}"))?;
    let rows = stmt.query_map(params![title_contains, page.limit(), page.offset()], product_row)?;
    Ok(PageOf { count, rows: rows.collect::<rusqlite::Result<_>>()? })
}

/// One product with its category's name, or 404 when it does not exist.
pub fn product(conn: &Connection, id: ProductId) -> Result<ProductRow> {
    find_product(conn, id)?.ok_or_else(|| Error::NotFound(format!("product {id} does not exist")))
}

/// The product `id`, if it exists.
pub(super) fn find_product(conn: &Connection, id: ProductId) -> Result<Option<ProductRow>> {
    optional(conn.prepare_cached(&format!("{PRODUCT_COLUMNS} WHERE p.id = ?1"))?.query_row([id], product_row))
}

/// Every store's stock of one product (the page's edit form shows it).
pub fn product_stock(conn: &Connection, id: ProductId) -> Result<Vec<(StoreRow, Option<i64>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.name, s.location, i.quantity
           FROM stores s LEFT JOIN inventory i ON i.store_id = s.id AND i.product_id = ?1
          ORDER BY s.id",
    )?;
    let rows = stmt.query_map([id], |row| {
        Ok((StoreRow { id: row.get(0)?, name: row.get(1)?, location: row.get(2)? }, row.get(3)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A page of stores by id, for the admin API.
pub fn stores(conn: &Connection, page: PageRequest) -> Result<PageOf<StoreRow>> {
    let count = conn.query_row("SELECT COUNT(*) FROM stores", [], |row| row.get(0))?;
    let mut stmt = conn.prepare_cached("SELECT id, name, location FROM stores ORDER BY id LIMIT ?1 OFFSET ?2")?;
    let rows = stmt.query_map(params![page.limit(), page.offset()], |row| {
        Ok(StoreRow { id: row.get(0)?, name: row.get(1)?, location: row.get(2)? })
    })?;
    Ok(PageOf { count, rows: rows.collect::<rusqlite::Result<_>>()? })
}

/// One store, or 404 when it does not exist.
pub fn store(conn: &Connection, id: StoreId) -> Result<StoreRow> {
    let found = optional(conn.query_row("SELECT id, name, location FROM stores WHERE id = ?1", [id], |row| {
        Ok(StoreRow { id: row.get(0)?, name: row.get(1)?, location: row.get(2)? })
    }))?;
    found.ok_or_else(|| Error::NotFound(format!("store {id} does not exist")))
}

/// Orders of every store, newest first.
pub fn orders(conn: &Connection, filter: OrderFilter, page: PageRequest) -> Result<PageOf<OrderRow>> {
    let status = filter.status.map(OrderStatus::as_str);
    let count = conn.query_row(
        "SELECT COUNT(*) FROM orders WHERE (?1 IS NULL OR store_id = ?1) AND (?2 IS NULL OR status = ?2)",
        params![filter.store_id, status],
        |row| row.get(0),
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT o.id, o.store_id, o.status, o.created_at,
                (SELECT COALESCE(SUM(oi.quantity_requested), 0) FROM order_items oi WHERE oi.order_id = o.id)
           FROM orders o
          WHERE (?1 IS NULL OR o.store_id = ?1) AND (?2 IS NULL OR o.status = ?2)
          ORDER BY o.created_at DESC, o.id DESC
          LIMIT ?3 OFFSET ?4",
    )?;
    let rows = stmt
        .query_map(params![filter.store_id, status, page.limit(), page.offset()], order_columns)?
        .map(order_row)
        .collect::<Result<Vec<_>>>()?;
    Ok(PageOf { count, rows })
}

/// The raw columns `id, store_id, status, created_at, total_quantity` of an order list row.
type OrderColumns = (OrderId, StoreId, String, i64, i64);

pub(super) fn order_columns(row: &Row<'_>) -> rusqlite::Result<OrderColumns> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
}

/// An [`OrderRow`] from its columns; a status the schema forbids is an invariant error.
pub(super) fn order_row(columns: rusqlite::Result<OrderColumns>) -> Result<OrderRow> {
    let (id, store_id, status, created_at, total_quantity) = columns?;
    let status =
        OrderStatus::parse(&status).ok_or_else(|| Error::Invariant(format!("order {id} has status {status:?}")))?;
    Ok(OrderRow { id, store_id, status, created_at: Timestamp::from_micros(created_at), total_quantity })
}
