//! What the admin reads, for the API and the pages alike: categories, products, stores, a
//! store's inventory, orders across stores and jobs, as small named queries on a read
//! connection, sharing one row type and one row mapping per object.
//!
//! - One object: [`category`], [`product`], [`store`] (404 when it does not exist), with
//!   [`all_categories`] and [`product_stock`] for the product form.
//! - The API's lists count every matching row, as the contract's pages do ([`categories`] and
//!   [`stores`] are the page lists below, unfiltered; [`products`] and [`orders`] count exactly).
//! - The pages' lists ([`product_list`], [`inventory_list`], [`order_list`],
//!   [`category_list`], [`store_list`], [`job_list`]) work at any scale: each walks an index in
//!   the page's own order and stops after the page (no temporary sort), and counts stop at
//!   [`COUNT_BOUND`] (an exact count of a million rows would cost more than the page). Each sort
//!   is its own literal statement, so the planner sees which index serves it
//!   (`listing_plans_never_sort_or_scan`).

use rusqlite::{Connection, Row, params};
use serde::Serialize;

use crate::db::optional;
use crate::db::outbox::jobs::{self, JobRow};
use crate::db::store::listings::{InventoryRow, PageOf, RowStock, inventory_row, inventory_rows};
use crate::domain::admin_list::{InventoryList, InventorySort, NameSort, OrderList, ProductList, ProductSort, Sort};
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
    /// The row's low-stock threshold (answered by `PUT`, which may set it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low_stock_threshold: Option<i64>,
}

/// Filters of the cross-store order list.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrderFilter {
    /// Only this store's orders.
    pub store_id: Option<StoreId>,
    /// Only orders in this state.
    pub status: Option<OrderStatus>,
}

/// A page of categories by id, every one counted: the admin API's list ([`category_list`]
/// unfiltered, by id).
pub fn categories(conn: &Connection, page: PageRequest) -> Result<PageOf<CategoryRow>> {
    category_list(conn, None, Sort { key: NameSort::Id, descending: false }, page)
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

fn product_row(row: &Row<'_>) -> rusqlite::Result<ProductRow> {
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
fn find_product(conn: &Connection, id: ProductId) -> Result<Option<ProductRow>> {
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

/// A page of stores by id, every one counted: the admin API's list ([`store_list`]
/// unfiltered, by id).
pub fn stores(conn: &Connection, page: PageRequest) -> Result<PageOf<StoreRow>> {
    store_list(conn, None, Sort { key: NameSort::Id, descending: false }, page)
}

/// One store, or 404 when it does not exist.
pub fn store(conn: &Connection, id: StoreId) -> Result<StoreRow> {
    let found = optional(conn.query_row("SELECT id, name, location FROM stores WHERE id = ?1", [id], store_row))?;
    found.ok_or_else(|| Error::store_not_found(id))
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

fn order_columns(row: &Row<'_>) -> rusqlite::Result<OrderColumns> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
}

/// An [`OrderRow`] from its columns; a status the schema forbids is an invariant error.
fn order_row(columns: rusqlite::Result<OrderColumns>) -> Result<OrderRow> {
    let (id, store_id, status, created_at, total_quantity) = columns?;
    let status =
        OrderStatus::parse(&status).ok_or_else(|| Error::Invariant(format!("order {id} has status {status:?}")))?;
    Ok(OrderRow { id, store_id, status, created_at: Timestamp::from_micros(created_at), total_quantity })
}

/// Counts stop here: a list shows "1000+" rather than scanning a million rows to count them.
/// At 10,000 a store's inventory page took 46 ms p50 at 1M products, the count being most of it.
pub const COUNT_BOUND: i64 = 1_000;

/// Products: ?1 title contains (or NULL), ?2 category (or NULL).
macro_rules! product_filter {
    () => {
        " (?1 IS NULL OR instr(lower(p.title), lower(?1)) > 0) AND (?2 IS NULL OR p.category_id = ?2) "
    };
}
macro_rules! product_ids_page {
    ($order:literal) => {
        concat!("SELECT p.id FROM products p WHERE", product_filter!(), "ORDER BY ", $order, " LIMIT ?3 OFFSET ?4")
    };
}
const ADMIN_PRODUCTS_COUNT: &str =
    concat!("SELECT COUNT(*) FROM (SELECT 1 FROM products p WHERE", product_filter!(), "LIMIT ?3)");

/// The page's ids: only the sort's index is walked (the skipped rows' categories are never
/// joined: page 200 by title took 42.5 ms when they were).
fn product_page_sql(sort: Sort<ProductSort>) -> &'static str {
    match (sort.key, sort.descending) {
        (ProductSort::Id, false) => product_ids_page!("p.id"),
        (ProductSort::Id, true) => product_ids_page!("p.id DESC"),
        (ProductSort::Title, false) => product_ids_page!("p.title COLLATE NOCASE, p.id"),
        (ProductSort::Title, true) => product_ids_page!("p.title COLLATE NOCASE DESC, p.id DESC"),
        (ProductSort::Price, false) => product_ids_page!("p.price_cents, p.id"),
        (ProductSort::Price, true) => product_ids_page!("p.price_cents DESC, p.id DESC"),
    }
}

/// One page of products and how many match (at most `COUNT_BOUND + 1`), and whether that is
/// a count. A title search is not counted: `contains` has no index, so counting walks titles
/// until the bound fills (27 ms p50 for `q=kettle` at 1M products); instead the page reads one
/// row more than it shows, and `count` is the rows up to this page plus one when there are more.
///
/// `found`: for a title search, the page's ids (and one more when there are more) when the
/// caller found them already (the search's title order does, in memory: by SQL, a search that
/// matched nothing read all 1M titles, 353 ms).
pub fn product_list(
    conn: &Connection,
    list: &ProductList,
    found: Option<&[ProductId]>,
) -> Result<(PageOf<ProductRow>, bool)> {
    let counted = list.q.is_none();
    let ids: Vec<ProductId> = match found {
        Some(found) => found.to_vec(),
        None => {
            let limit = list.page.limit() + i64::from(!counted);
            let mut stmt = conn.prepare_cached(product_page_sql(list.sort))?;
            stmt.query_map(params![list.q, list.category, limit, list.page.offset()], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?
        }
    };
    let mut rows = products_by_id(conn, &ids)?;
    let count = if counted {
        conn.prepare_cached(ADMIN_PRODUCTS_COUNT)?
            .query_row(params![list.q, list.category, COUNT_BOUND + 1], |row| row.get(0))?
    } else {
        let seen = list.page.offset() + i64::try_from(rows.len()).unwrap_or(i64::MAX);
        rows.truncate(usize::try_from(list.page.limit()).unwrap_or(usize::MAX));
        seen
    };
    Ok((PageOf { count, rows }, counted))
}

/// The products `ids` name, in that order (one that is gone meanwhile is left out).
fn products_by_id(conn: &Connection, ids: &[ProductId]) -> Result<Vec<ProductRow>> {
    let mut rows = Vec::with_capacity(ids.len());
    for &id in ids {
        rows.extend(find_product(conn, id)?);
    }
    Ok(rows)
}

/// A store's inventory: ?1 store, ?2 title contains (or NULL), ?3 in stock (or NULL).
macro_rules! inventory_filter {
    () => {
        " i.store_id = ?1
          AND (?2 IS NULL OR instr(lower(p.title), lower(?2)) > 0)
          AND (?3 IS NULL OR (?3 = 1 AND i.quantity > 0) OR (?3 = 0 AND i.quantity = 0)) "
    };
}
macro_rules! inventory_page {
    ($order:literal) => {
        concat!(
            "SELECT p.id, p.title, p.price_cents, c.name, c.id, i.quantity, i.held, i.low_stock_threshold
               FROM inventory i
               JOIN products p ON p.id = i.product_id
               JOIN categories c ON c.id = p.category_id
              WHERE",
            inventory_filter!(),
            "ORDER BY ",
            $order,
            " LIMIT ?4 OFFSET ?5"
        )
    };
}
const ADMIN_INVENTORY_COUNT: &str = concat!(
    "SELECT COUNT(*) FROM (SELECT 1 FROM inventory i JOIN products p ON p.id = i.product_id WHERE",
    inventory_filter!(),
    "LIMIT ?4)"
);

fn inventory_page_sql(sort: Sort<InventorySort>) -> &'static str {
    match (sort.key, sort.descending) {
        (InventorySort::Product, false) => inventory_page!("i.product_id"),
        (InventorySort::Product, true) => inventory_page!("i.product_id DESC"),
        (InventorySort::Quantity, false) => inventory_page!("i.quantity, i.product_id"),
        (InventorySort::Quantity, true) => inventory_page!("i.quantity DESC, i.product_id DESC"),
    }
}

/// One page of a store's inventory. `found`: for a title search, the page's (product,
/// stock) pairs and their count when the caller found them already (the search's title
/// order and stock view do, in memory: by SQL, a search tests every title of the store's 100k
/// rows before it can count).
pub fn inventory_list(
    conn: &Connection,
    store: StoreId,
    list: &InventoryList,
    found: Option<PageOf<(ProductId, RowStock)>>,
) -> Result<PageOf<InventoryRow>> {
    if let Some(found) = found {
        return Ok(PageOf { count: found.count, rows: inventory_rows(conn, store, &found.rows)? });
    }
    let count = conn
        .prepare_cached(ADMIN_INVENTORY_COUNT)?
        .query_row(params![store, list.q, list.in_stock, COUNT_BOUND + 1], |row| row.get(0))?;
    let mut stmt = conn.prepare_cached(inventory_page_sql(list.sort))?;
    let rows = stmt
        .query_map(params![store, list.q, list.in_stock, list.page.limit(), list.page.offset()], inventory_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(PageOf { count, rows })
}

/// Orders: ?1 status (or NULL), ?2..?3 the creation range (always bound, so the index range
/// serves it), ?4 the store in the per-store statement.
macro_rules! order_page {
    ($store:literal, $limit:literal) => {
        concat!(
            "SELECT o.id, o.store_id, o.status, o.created_at,
                    (SELECT COALESCE(SUM(oi.quantity_requested), 0) FROM order_items oi WHERE oi.order_id = o.id)
               FROM orders o
              WHERE (?1 IS NULL OR o.status = ?1) AND o.created_at >= ?2 AND o.created_at < ?3",
            $store,
            " ORDER BY o.created_at DESC, o.id DESC LIMIT ",
            $limit
        )
    };
}
macro_rules! order_count {
    ($store:literal) => {
        concat!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM orders o
              WHERE (?1 IS NULL OR o.status = ?1) AND o.created_at >= ?2 AND o.created_at < ?3",
            $store,
            " LIMIT ?5)"
        )
    };
}
const ADMIN_ORDERS_PAGE: &str = order_page!(" AND ?4 IS NULL", "?5 OFFSET ?6");
const ADMIN_STORE_ORDERS_PAGE: &str = order_page!(" AND o.store_id = ?4", "?5 OFFSET ?6");
const ADMIN_ORDERS_COUNT: &str = order_count!(" AND ?4 IS NULL");
const ADMIN_STORE_ORDERS_COUNT: &str = order_count!(" AND o.store_id = ?4");

/// One page of orders across stores (or one store's), newest first.
pub fn order_list(conn: &Connection, list: &OrderList) -> Result<PageOf<OrderRow>> {
    let status = list.status.map(OrderStatus::as_str);
    let from = list.from.map_or(i64::MIN, |at| at.micros);
    let to = list.to.map_or(i64::MAX, |at| at.micros);
    let (count_sql, page_sql) = match list.store {
        Some(_) => (ADMIN_STORE_ORDERS_COUNT, ADMIN_STORE_ORDERS_PAGE),
        None => (ADMIN_ORDERS_COUNT, ADMIN_ORDERS_PAGE),
    };
    let count = conn
        .prepare_cached(count_sql)?
        .query_row(params![status, from, to, list.store, COUNT_BOUND + 1], |row| row.get(0))?;
    let mut stmt = conn.prepare_cached(page_sql)?;
    let rows = stmt
        .query_map(params![status, from, to, list.store, list.page.limit(), list.page.offset()], order_columns)?
        .map(order_row)
        .collect::<Result<Vec<_>>>()?;
    Ok(PageOf { count, rows })
}

/// Categories whose name contains `q`; the table holds tens of rows, so counts are exact.
pub fn category_list(
    conn: &Connection,
    q: Option<&str>,
    sort: Sort<NameSort>,
    page: PageRequest,
) -> Result<PageOf<CategoryRow>> {
    let count = conn.query_row(
        "SELECT COUNT(*) FROM categories WHERE ?1 IS NULL OR instr(lower(name), lower(?1)) > 0",
        [q],
        |row| row.get(0),
    )?;
    let sql = match (sort.key, sort.descending) {
        (NameSort::Id, false) => {
            "SELECT id, name FROM categories WHERE ?1 IS NULL OR instr(lower(name), lower(?1)) > 0 ORDER BY id LIMIT ?2 OFFSET ?3"
        }
        (NameSort::Id, true) => {
            "SELECT id, name FROM categories WHERE ?1 IS NULL OR instr(lower(name), lower(?1)) > 0 ORDER BY id DESC LIMIT ?2 OFFSET ?3"
        }
        (NameSort::Name, false) => {
            "SELECT id, name FROM categories WHERE ?1 IS NULL OR instr(lower(name), lower(?1)) > 0 ORDER BY name COLLATE NOCASE, id LIMIT ?2 OFFSET ?3"
        }
        (NameSort::Name, true) => {
            "SELECT id, name FROM categories WHERE ?1 IS NULL OR instr(lower(name), lower(?1)) > 0 ORDER BY name COLLATE NOCASE DESC, id DESC LIMIT ?2 OFFSET ?3"
        }
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![q, page.limit(), page.offset()], |row| {
        Ok(CategoryRow { id: row.get(0)?, name: row.get(1)? })
    })?;
    Ok(PageOf { count, rows: rows.collect::<rusqlite::Result<_>>()? })
}

fn store_row(row: &Row<'_>) -> rusqlite::Result<StoreRow> {
    Ok(StoreRow { id: row.get(0)?, name: row.get(1)?, location: row.get(2)? })
}

/// Stores whose name or location contains `q`; tens of rows, exact counts.
pub fn store_list(
    conn: &Connection,
    q: Option<&str>,
    sort: Sort<NameSort>,
    page: PageRequest,
) -> Result<PageOf<StoreRow>> {
    let count = conn.query_row(
        "SELECT COUNT(*) FROM stores
          WHERE ?1 IS NULL OR instr(lower(name), lower(?1)) > 0 OR instr(lower(location), lower(?1)) > 0",
        [q],
        |row| row.get(0),
    )?;
    let sql = match (sort.key, sort.descending) {
        (NameSort::Id, false) => {
            "SELECT id, name, location FROM stores WHERE ?1 IS NULL OR instr(lower(name), lower(?1)) > 0 OR instr(lower(location), lower(?1)) > 0 ORDER BY id LIMIT ?2 OFFSET ?3"
        }
        (NameSort::Id, true) => {
            "SELECT id, name, location FROM stores WHERE ?1 IS NULL OR instr(lower(name), lower(?1)) > 0 OR instr(lower(location), lower(?1)) > 0 ORDER BY id DESC LIMIT ?2 OFFSET ?3"
        }
        (NameSort::Name, false) => {
            "SELECT id, name, location FROM stores WHERE ?1 IS NULL OR instr(lower(name), lower(?1)) > 0 OR instr(lower(location), lower(?1)) > 0 ORDER BY name COLLATE NOCASE, id LIMIT ?2 OFFSET ?3"
        }
        (NameSort::Name, true) => {
            "SELECT id, name, location FROM stores WHERE ?1 IS NULL OR instr(lower(name), lower(?1)) > 0 OR instr(lower(location), lower(?1)) > 0 ORDER BY name COLLATE NOCASE DESC, id DESC LIMIT ?2 OFFSET ?3"
        }
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![q, page.limit(), page.offset()], store_row)?;
    Ok(PageOf { count, rows: rows.collect::<rusqlite::Result<_>>()? })
}

/// The dashboard's tiles: (link, label, bounded count as shown).
pub fn dashboard_counts(conn: &Connection) -> Result<Vec<(&'static str, &'static str, String)>> {
    let bounded = |count: i64| if count > COUNT_BOUND { format!("{COUNT_BOUND}+") } else { count.to_string() };
    let mut tiles = Vec::new();
    let products: i64 =
        conn.query_row("SELECT COUNT(*) FROM (SELECT 1 FROM products LIMIT ?1)", [COUNT_BOUND + 1], |row| row.get(0))?;
    tiles.push(("/admin/products/", "products", bounded(products)));
    let categories: i64 = conn.query_row("SELECT COUNT(*) FROM categories", [], |row| row.get(0))?;
    tiles.push(("/admin/categories/", "categories", bounded(categories)));
    let stores: i64 = conn.query_row("SELECT COUNT(*) FROM stores", [], |row| row.get(0))?;
    tiles.push(("/admin/stores/", "stores", bounded(stores)));
    let orders: i64 =
        conn.query_row("SELECT COUNT(*) FROM (SELECT 1 FROM orders LIMIT ?1)", [COUNT_BOUND + 1], |row| row.get(0))?;
    tiles.push(("/admin/orders/", "orders", bounded(orders)));
    let failed: i64 =
        conn.query_row(jobs::ADMIN_JOBS_COUNT_QUEUED_OR_FAILED, params!["failed", COUNT_BOUND + 1], |row| row.get(0))?;
    tiles.push(("/admin/jobs/?state=failed", "failed jobs", bounded(failed)));
    Ok(tiles)
}

/// One page of jobs, newest first, optionally in one state.
pub fn job_list(conn: &Connection, state: Option<&str>, page: PageRequest) -> Result<PageOf<JobRow>> {
    let (count_sql, page_sql) = jobs::jobs_sql(state);
    let mut stmt = conn.prepare_cached(count_sql)?;
    let count = stmt.query_row(params![state, COUNT_BOUND + 1], |row| row.get(0))?;
    let mut stmt = conn.prepare_cached(page_sql)?;
    let rows = stmt
        .query_map(params![state, page.limit(), page.offset()], jobs::job_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(PageOf { count, rows })
}

/// An order's events (its jobs: `order.confirmed`, `order.cancelled`), oldest first
/// (`jobs_order`); an order has a handful.
pub fn order_events(conn: &Connection, order_id: OrderId) -> Result<Vec<JobRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, order_id, state, attempts, max_attempts, run_at, last_error, event_id FROM jobs
          WHERE order_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![order_id], jobs::job_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// One job by its id (the job page and `aforro jobs show`), `None` when there is none.
pub fn job(conn: &Connection, job_id: i64) -> Result<Option<JobRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, order_id, state, attempts, max_attempts, run_at, last_error, event_id FROM jobs WHERE id = ?1",
    )?;
    crate::db::optional(stmt.query_row([job_id], jobs::job_row))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::query_plan;

    #[test]
    fn listing_plans_never_sort_or_scan() {
        let mut conn = Connection::open_in_memory().expect("db");
        crate::db::migrate::migrate(&mut conn).expect("migrate");
        let sorts = [ProductSort::Id, ProductSort::Title, ProductSort::Price];
        let product_pages =
            sorts.iter().flat_map(|&key| [false, true].map(|descending| product_page_sql(Sort { key, descending })));
        let inventory_pages = [InventorySort::Product, InventorySort::Quantity]
            .iter()
            .flat_map(|&key| [false, true].map(|descending| inventory_page_sql(Sort { key, descending })));
        let fixed = [
            ADMIN_ORDERS_PAGE,
            ADMIN_STORE_ORDERS_PAGE,
            ADMIN_ORDERS_COUNT,
            ADMIN_STORE_ORDERS_COUNT,
            jobs::ADMIN_JOBS_PAGE_QUEUED_OR_FAILED,
            jobs::ADMIN_JOBS_COUNT_QUEUED_OR_FAILED,
        ];
        for sql in product_pages.chain(inventory_pages).chain(fixed) {
            let plan = query_plan(&conn, sql);
            // A temp B-tree is a sort of every matching row; "SCAN x" without an index walks
            // the table in rowid order, which only the id sort of products wants.
            let bad: Vec<_> = plan
                .iter()
                .filter(|step| {
                    step.contains("TEMP B-TREE")
                        || (step.starts_with("SCAN")
                            && !step.contains("INDEX")
                            && !step.contains("subquery")
                            && !sql.contains("ORDER BY p.id"))
                })
                .collect();
            assert!(bad.is_empty(), "{sql}\n{plan:#?}");
        }
    }
}
