//! The store listings: a store's orders and its inventory, one page per query.

use rusqlite::{Connection, params};
use serde::Serialize;

use crate::db::optional;
use crate::domain::{CategoryId, Money, OrderId, OrderStatus, PageRequest, ProductId, StoreId, Timestamp};
use crate::error::{Error, Result};

/// The low-stock threshold of a row that does not say otherwise (migration 0016's default;
/// `movements` names it for the writes).
pub const DEFAULT_LOW_STOCK_THRESHOLD: i64 = 5;

/// One row of `GET /stores/<id>/orders/`.
#[derive(Debug, Clone, Serialize)]
pub struct StoreOrderRow {
    /// The order's id.
    pub id: OrderId,
    /// Where the order is in its life.
    pub status: OrderStatus,
    /// When it was placed.
    pub created_at: Timestamp,
    /// Units over all its lines.
    pub total_quantity: i64,
}

/// A page of rows and the total they were cut from.
#[derive(Debug, Clone)]
pub struct PageOf<T> {
    /// Rows matching in all (every page).
    pub count: i64,
    /// This page's rows.
    pub rows: Vec<T>,
}

/// From the per-status counts the triggers of migration 0005 keep: at most three rows.
const STORE_ORDERS_COUNT: &str =
    "SELECT COALESCE(SUM(orders), 0) FROM store_order_counts WHERE store_id = ?1 AND (?2 IS NULL OR status = ?2)";
/// The page's order ids come from a subquery that walks only a covering index (store, then
/// newest first, then status; with a status other than CONFIRMED, the partial (store, status,
/// newest) one): an `OFFSET` there skips index entries without reading a single order row.
/// One query per filter shape, since `?2 IS NULL OR status = ?2` made SQLite read every
/// skipped row's status from the table (page 10,000 of a store with 1M orders: 46 ms of CPU
/// with a status, 6–8 ms this way). Each names its index: the partial one is usable only
/// through the query's own `status <> 'CONFIRMED'`, and a plan that quietly fell back to
/// another index would cost a page what the store holds.
macro_rules! store_orders_page {
    ($index:literal, $filter:literal) => {
        concat!(
            "SELECT o.id, o.status, o.created_at,
                    (SELECT COALESCE(SUM(oi.quantity_requested), 0) FROM order_items oi WHERE oi.order_id = o.id)
               FROM orders o
              WHERE o.id IN (SELECT id FROM orders INDEXED BY ",
            $index,
            " WHERE store_id = ?1 ",
            $filter,
            " ORDER BY created_at DESC, id DESC LIMIT ?2 OFFSET ?3)
              ORDER BY o.created_at DESC, o.id DESC"
        )
    };
}
const STORE_ORDERS_PAGE: &str = store_orders_page!("orders_store_newest", "");
const STORE_ORDERS_PAGE_CONFIRMED: &str = store_orders_page!("orders_store_newest", "AND status = 'CONFIRMED'");
const STORE_ORDERS_PAGE_BY_STATUS: &str =
    store_orders_page!("orders_store_status_newest", "AND status = ?4 AND status <> 'CONFIRMED'");

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
    let (limit, offset) = (page.limit(), page.offset());
    let mut values: Vec<&dyn rusqlite::ToSql> = vec![&store_id, &limit, &offset];
    let sql = match &status {
        None => STORE_ORDERS_PAGE,
        Some("CONFIRMED") => STORE_ORDERS_PAGE_CONFIRMED,
        Some(status) => {
            values.push(status);
            STORE_ORDERS_PAGE_BY_STATUS
        }
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt
        .query_map(values.as_slice(), |row| {
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
    /// The product stocked.
    pub product_id: ProductId,
    /// Its title.
    pub title: String,
    /// Its unit price.
    pub price: Money,
    /// Its category's name.
    pub category: String,
    /// Its category's id.
    pub category_id: CategoryId,
    /// Units the store has on hand.
    pub quantity: i64,
    /// Units active reservations hold.
    pub held: i64,
    /// Units an order or a new hold can take: `max(0, quantity - held)`.
    pub available: i64,
    /// At or below this many units on hand the row is low on stock (on hand, not available).
    pub low_stock_threshold: i64,
}

/// What a store has of a product: on hand and held (available follows from them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowStock {
    /// Units on hand.
    pub quantity: i64,
    /// Units active reservations hold.
    pub held: i64,
}

impl RowStock {
    /// `max(0, quantity - held)`.
    pub fn available(self) -> i64 {
        (self.quantity - self.held).max(0)
    }
}

/// Filters of the inventory listing.
#[derive(Debug, Clone, Default)]
pub struct InventoryFilter {
    /// Title contains this, case-insensitively.
    pub title_contains: Option<String>,
    /// `Some(true)`: available > 0; `Some(false)`: available = 0.
    pub in_stock: Option<bool>,
    /// `Some(true)`: quantity at or below the row's low-stock threshold; `Some(false)`: above.
    pub low_stock: Option<bool>,
}

/// The inventory listing's WHERE clause: ?1 store, ?2 title text or NULL, ?3 in_stock or NULL,
/// ?4 low_stock or NULL.
/// `instr` on ASCII-lowercased text, not `LIKE`: LIKE stops reading its pattern at a NUL, so
/// `q=%00` became `%` and matched every title; `instr` compares whole strings and has no
/// wildcards to escape. Case folding is the same (`lower` and LIKE both fold ASCII only).
macro_rules! inventory_filter {
    () => {
        " i.store_id = ?1
          AND (?2 IS NULL OR instr(lower(p.title), lower(?2)) > 0)
          AND (?3 IS NULL OR (?3 = 1 AND i.quantity > i.held) OR (?3 = 0 AND i.quantity <= i.held))
          AND (?4 IS NULL OR (?4 = 1 AND i.quantity <= i.low_stock_threshold)
                          OR (?4 = 0 AND i.quantity > i.low_stock_threshold)) "
    };
}
const INVENTORY_COUNT: &str =
    concat!("SELECT COUNT(*) FROM inventory i JOIN products p ON p.id = i.product_id WHERE", inventory_filter!());
const INVENTORY_PAGE: &str = concat!(
    "SELECT p.id, p.title, p.price_cents, c.name, c.id, i.quantity, i.held, i.low_stock_threshold
       FROM inventory i
       JOIN products p ON p.id = i.product_id
       JOIN categories c ON c.id = p.category_id
      WHERE",
    inventory_filter!(),
    "ORDER BY p.title COLLATE NOCASE, p.id
     LIMIT ?5 OFFSET ?6"
);

/// An [`InventoryRow`] from `p.id, p.title, p.price_cents, c.name, c.id, i.quantity, i.held,
/// i.low_stock_threshold`.
pub(crate) fn inventory_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<InventoryRow> {
    let stock = RowStock { quantity: row.get(5)?, held: row.get(6)? };
    Ok(InventoryRow {
        product_id: row.get(0)?,
        title: row.get(1)?,
        price: Money::from_cents(row.get(2)?),
        category: row.get(3)?,
        category_id: row.get(4)?,
        quantity: stock.quantity,
        held: stock.held,
        available: stock.available(),
        low_stock_threshold: row.get(7)?,
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
    let (in_stock, low_stock) = (filter.in_stock, filter.low_stock);
    let count: i64 = conn
        .prepare_cached(INVENTORY_COUNT)?
        .query_row(params![store_id, pattern, in_stock, low_stock], |row| row.get(0))?;
    let mut stmt = conn.prepare_cached(INVENTORY_PAGE)?;
    let rows = stmt
        .query_map(params![store_id, pattern, in_stock, low_stock, page.limit(), page.offset()], inventory_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(PageOf { count, rows })
}

const INVENTORY_ROW: &str = "SELECT p.title, p.price_cents, c.name, c.id,
            COALESCE((SELECT i.low_stock_threshold FROM inventory i WHERE i.store_id = ?2 AND i.product_id = p.id), ?3)
       FROM products p
       JOIN categories c ON c.id = p.category_id
      WHERE p.id = ?1";

/// The listing rows of `products` (id and stock, from the stock view) in `store`, in that
/// order: one primary-key lookup each (and one of the row's threshold by the inventory's
/// unique index). A product deleted since its id was picked is left out.
pub fn inventory_rows(
    conn: &Connection,
    store: StoreId,
    products: &[(ProductId, RowStock)],
) -> Result<Vec<InventoryRow>> {
    let mut stmt = conn.prepare_cached(INVENTORY_ROW)?;
    let mut rows = Vec::with_capacity(products.len());
    for &(product_id, stock) in products {
        let row = optional(stmt.query_row(params![product_id, store, DEFAULT_LOW_STOCK_THRESHOLD], |row| {
            Ok(InventoryRow {
                product_id,
                title: row.get(0)?,
                price: Money::from_cents(row.get(1)?),
                category: row.get(2)?,
                category_id: row.get(3)?,
                quantity: stock.quantity,
                held: stock.held,
                available: stock.available(),
                low_stock_threshold: row.get(4)?,
            })
        }))?;
        rows.extend(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;
    use crate::db::query_plan;

    #[test]
    fn listing_queries_never_scan_a_whole_table() {
        let mut conn = Connection::open_in_memory().expect("db");
        crate::db::migrate::migrate(&mut conn).expect("migrate");
        for sql in [
            STORE_ORDERS_COUNT,
            STORE_ORDERS_PAGE,
            STORE_ORDERS_PAGE_CONFIRMED,
            STORE_ORDERS_PAGE_BY_STATUS,
            INVENTORY_COUNT,
            INVENTORY_PAGE,
            INVENTORY_ROW,
        ] {
            let plan = query_plan(&conn, sql);
            // "SCAN x" without an index walks every row of x; "SEARCH" and index scans don't.
            let full_scans: Vec<_> =
                plan.iter().filter(|step| step.starts_with("SCAN") && !step.contains("INDEX")).collect();
            assert!(full_scans.is_empty(), "{sql}\n{plan:#?}");
        }
    }

    /// One change to the orders table: insert (store, status), change the status of the
    /// n-th order, or delete it.
    #[derive(Debug, Clone)]
    enum Change {
        Insert(i64, usize),
        SetStatus(usize, usize),
        Delete(usize),
    }

    const STATUSES: [&str; 4] = ["PENDING", "CONFIRMED", "REJECTED", "CANCELLED"];

    fn any_change() -> impl proptest::strategy::Strategy<Value = Change> {
        use proptest::prelude::*;
        prop_oneof![
            4 => (1..=3i64, 0..STATUSES.len()).prop_map(|(store, status)| Change::Insert(store, status)),
            1 => (any::<usize>(), 0..STATUSES.len()).prop_map(|(n, status)| Change::SetStatus(n, status)),
            1 => any::<usize>().prop_map(Change::Delete),
        ]
    }

    proptest::proptest! {
        /// The kept counts answer what `COUNT(*)` over the orders answers, and the index-walking
        /// pages what a plain `ORDER BY … LIMIT … OFFSET` answers, for every store and status
        /// filter, after any mix of inserts, status changes and deletes.
        #[test]
        fn store_order_counts_and_pages_match_the_plain_sql(changes in proptest::collection::vec(any_change(), 0..60)) {
            let mut conn = Connection::open_in_memory().expect("db");
            crate::db::migrate::migrate(&mut conn).expect("migrate");
            conn.execute_batch("INSERT INTO stores (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c');").expect("stores");
            for (at, change) in changes.iter().enumerate() {
                let ids: Vec<i64> = conn
                    .prepare("SELECT id FROM orders ORDER BY id").expect("ids")
                    .query_map([], |row| row.get(0)).expect("ids")
                    .collect::<rusqlite::Result<_>>().expect("ids");
                match change {
                    Change::Insert(store, status) => {
                        // Every third shares a timestamp: ties fall back to id.
                        conn.execute("INSERT INTO orders (store_id, status, created_at) VALUES (?1, ?2, ?3)",
                            params![store, STATUSES[*status], at as i64 / 3]).expect("insert");
                    }
                    Change::SetStatus(n, status) if !ids.is_empty() => {
                        conn.execute("UPDATE orders SET status = ?1 WHERE id = ?2",
                            params![STATUSES[*status], ids[n % ids.len()]]).expect("update");
                    }
                    Change::Delete(n) if !ids.is_empty() => {
                        conn.execute("DELETE FROM orders WHERE id = ?1", [ids[n % ids.len()]]).expect("delete");
                    }
                    _ => {}
                }
            }
            for store in 1..=3 {
                for status in [None, Some(OrderStatus::Pending), Some(OrderStatus::Confirmed), Some(OrderStatus::Rejected),
                               Some(OrderStatus::Cancelled)] {
                    let counted: i64 = conn.query_row(
                        "SELECT COUNT(*) FROM orders WHERE store_id = ?1 AND (?2 IS NULL OR status = ?2)",
                        params![store, status.map(OrderStatus::as_str)], |row| row.get(0)).expect("count");
                    let listed = store_orders(&conn, StoreId(store), status, PageRequest::default()).expect("listing");
                    proptest::prop_assert_eq!(listed.count, counted, "store {} status {:?}", store, status);
                    for page in 1..=4 {
                        let request = PageRequest { page, page_size: 3 };
                        let plain: Vec<i64> = conn
                            .prepare("SELECT id FROM orders WHERE store_id = ?1 AND (?2 IS NULL OR status = ?2)
                                      ORDER BY created_at DESC, id DESC LIMIT ?3 OFFSET ?4").expect("plain")
                            .query_map(params![store, status.map(OrderStatus::as_str), request.limit(), request.offset()],
                                |row| row.get(0)).expect("plain")
                            .collect::<rusqlite::Result<_>>().expect("plain");
                        let listed = store_orders(&conn, StoreId(store), status, request).expect("listing");
                        let ids: Vec<i64> = listed.rows.iter().map(|row| row.id.0).collect();
                        proptest::prop_assert_eq!(ids, plain, "store {} status {:?} page {}", store, status, page);
                    }
                }
            }
        }
    }
}
