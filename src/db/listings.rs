//! The store listings: a store's orders and its inventory, one page per query.

use rusqlite::{Connection, params};
use serde::Serialize;

use crate::domain::{CategoryId, Money, OrderId, OrderStatus, PageRequest, ProductId, StoreId, Timestamp};
use crate::error::{Error, Result};

/// One row of `GET /stores/<id>/orders/`.
#[derive(Debug, Clone, Serialize)]
pub struct StoreOrderRow {
    pub id: OrderId,
    pub status: OrderStatus,
    pub created_at: Timestamp,
    pub total_quantity: i64,
}

/// A page of rows and the total they were cut from.
#[derive(Debug, Clone)]
pub struct PageOf<T> {
    pub count: i64,
    pub rows: Vec<T>,
}

const STORE_ORDERS_COUNT: &str = "SELECT COUNT(*) FROM orders WHERE store_id = ?1 AND (?2 IS NULL OR status = ?2)";
const STORE_ORDERS_PAGE: &str = "SELECT o.id, o.status, o.created_at,
        (SELECT COALESCE(SUM(oi.quantity_requested), 0) FROM order_items oi WHERE oi.order_id = o.id)
   FROM orders o
  WHERE o.store_id = ?1 AND (?2 IS NULL OR o.status = ?2)
  ORDER BY o.created_at DESC, o.id DESC
  LIMIT ?3 OFFSET ?4";

/// A store's orders, newest first. `total_quantity` is summed in the same query (a correlated
/// sub-select on `order_items`' unique (order_id, product_id) index), so a page is one query
/// whatever its size.
pub fn store_orders(
    conn: &Connection,
    store_id: StoreId,
    status: Option<OrderStatus>,
    page: PageRequest,
) -> Result<PageOf<StoreOrderRow>> {
    let status = status.map(OrderStatus::as_str);
    let count: i64 = conn.prepare_cached(STORE_ORDERS_COUNT)?.query_row(params![store_id, status], |row| row.get(0))?;
    let mut stmt = conn.prepare_cached(STORE_ORDERS_PAGE)?;
    let rows = stmt
        .query_map(params![store_id, status, page.limit(), page.offset()], |row| {
            Ok((row.get::<_, OrderId>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)?, row.get::<_, i64>(3)?))
        })?
        .map(|row| {
            let (id, status, created_at, total_quantity) = row?;
            let status = OrderStatus::parse(&status)
                .ok_or_else(|| Error::Invariant(format!("order {id} has status {status:?}")))?;
            Ok(StoreOrderRow { id, status, created_at: Timestamp::from_micros(created_at), total_quantity })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(PageOf { count, rows })
}

/// One row of `GET /stores/<id>/inventory/`.
#[derive(Debug, Clone, Serialize)]
pub struct InventoryRow {
    pub product_id: ProductId,
    pub title: String,
    pub price: Money,
    pub category: String,
    pub category_id: CategoryId,
    pub quantity: i64,
}

/// Filters of the inventory listing.
#[derive(Debug, Clone, Default)]
pub struct InventoryFilter {
    /// Title contains this, case-insensitively.
    pub title_contains: Option<String>,
    /// `Some(true)`: quantity > 0; `Some(false)`: quantity = 0.
    pub in_stock: Option<bool>,
}

/// The inventory listing's WHERE clause: ?1 store, ?2 title text or NULL, ?3 in_stock or NULL.
/// `instr` on ASCII-lowercased text, not `LIKE`: LIKE stops reading its pattern at a NUL, so
/// `q=%00` became `%` and matched every title; `instr` compares whole strings and has no
/// wildcards to escape. Case folding is the same (`lower` and LIKE both fold ASCII only).
macro_rules! inventory_filter {
    () => {
        " i.store_id = ?1
          AND (?2 IS NULL OR instr(lower(p.title), lower(?2)) > 0)
          AND (?3 IS NULL OR (?3 = 1 AND i.quantity > 0) OR (?3 = 0 AND i.quantity = 0)) "
    };
}
const INVENTORY_COUNT: &str =
    concat!("SELECT COUNT(*) FROM inventory i JOIN products p ON p.id = i.product_id WHERE", inventory_filter!());
const INVENTORY_PAGE: &str = concat!(
    "SELECT p.id, p.title, p.price_cents, c.name, c.id, i.quantity
       FROM inventory i
       JOIN products p ON p.id = i.product_id
       JOIN categories c ON c.id = p.category_id
      WHERE",
    inventory_filter!(),
    "ORDER BY p.title COLLATE NOCASE, p.id
     LIMIT ?4 OFFSET ?5"
);

/// An [`InventoryRow`] from `p.id, p.title, p.price_cents, c.name, c.id, i.quantity`.
pub(super) fn inventory_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<InventoryRow> {
    Ok(InventoryRow {
        product_id: row.get(0)?,
        title: row.get(1)?,
        price: Money::from_cents(row.get(2)?),
        category: row.get(3)?,
        category_id: row.get(4)?,
        quantity: row.get(5)?,
    })
}

/// A store's inventory by title (case-insensitive), then product id.
pub fn store_inventory(
    conn: &Connection,
    store_id: StoreId,
    filter: &InventoryFilter,
    page: PageRequest,
) -> Result<PageOf<InventoryRow>> {
    let pattern = filter.title_contains.as_deref();
    let in_stock = filter.in_stock;
    let count: i64 =
        conn.prepare_cached(INVENTORY_COUNT)?.query_row(params![store_id, pattern, in_stock], |row| row.get(0))?;
    let mut stmt = conn.prepare_cached(INVENTORY_PAGE)?;
    let rows = stmt
        .query_map(params![store_id, pattern, in_stock, page.limit(), page.offset()], inventory_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(PageOf { count, rows })
}

/// The plan of `sql`, one detail line per step (the listing tests check it).
#[cfg(test)]
pub(crate) fn query_plan(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).expect("explain");
    let nulls = rusqlite::params_from_iter(std::iter::repeat_n(rusqlite::types::Null, stmt.parameter_count()));
    stmt.query_map(nulls, |row| row.get::<_, String>(3)).expect("plan").collect::<rusqlite::Result<_>>().expect("rows")
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    #[test]
    fn listing_queries_never_scan_a_whole_table() {
        let mut conn = Connection::open_in_memory().expect("db");
        crate::db::migrate::migrate(&mut conn).expect("migrate");
        for sql in [STORE_ORDERS_COUNT, STORE_ORDERS_PAGE, INVENTORY_COUNT, INVENTORY_PAGE] {
            let plan = query_plan(&conn, sql);
            // "SCAN x" without an index walks every row of x; "SEARCH" and index scans don't.
            let full_scans: Vec<_> =
                plan.iter().filter(|step| step.starts_with("SCAN") && !step.contains("INDEX")).collect();
            assert!(full_scans.is_empty(), "{sql}\n{plan:#?}");
        }
    }
}
