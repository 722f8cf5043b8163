//! The admin list pages' queries at any scale: each walks an index in the page's own order and
//! stops after the page (no temporary sort), and counts stop at [`COUNT_BOUND`] (an exact
//! count of a million rows would cost more than the page). Each sort is its own literal
//! statement, so the planner sees which index serves it (`listing_plans_never_sort_or_scan`).

use rusqlite::{Connection, Row, params};

use super::admin_listing::{CategoryRow, OrderRow, ProductRow, StoreRow, find_product, order_columns, order_row};
use super::listings::{InventoryRow, PageOf, inventory_row};
use crate::domain::admin_list::{InventoryList, InventorySort, NameSort, OrderList, ProductList, ProductSort, Sort};
use crate::domain::{OrderStatus, ProductId, StoreId};
use crate::error::{Error, Result};

/// Counts stop here: a list shows "1000+" rather than scanning a million rows to count them.
/// At 10,000 a store's inventory page took 46 ms p50 at 1M products, the count being most of it.
pub const COUNT_BOUND: i64 = 1_000;

/// How a list narrows by title, on the same parameter: its text (`instr`, or NULL for every
/// title), or a JSON array of the product ids whose titles contain it (see [`TitleFilter`]).
macro_rules! title_contains {
    ($param:literal) => {
        concat!("(", $param, " IS NULL OR instr(lower(p.title), lower(", $param, ")) > 0)")
    };
}
macro_rules! id_among {
    ($id:literal, $param:literal) => {
        concat!($id, " IN (SELECT value FROM json_each(", $param, "))")
    };
}

/// Products: ?1 the title filter, ?2 category (or NULL).
macro_rules! product_ids_page {
    ($title:expr, $order:literal) => {
        concat!(
            "SELECT p.id FROM products p WHERE ",
            $title,
            " AND (?2 IS NULL OR p.category_id = ?2) ORDER BY ",
            $order,
            " LIMIT ?3 OFFSET ?4"
        )
    };
}
macro_rules! product_pages {
    ($title:expr) => {
        [
            product_ids_page!($title, "p.id"),
            product_ids_page!($title, "p.id DESC"),
            product_ids_page!($title, "p.title COLLATE NOCASE, p.id"),
            product_ids_page!($title, "p.title COLLATE NOCASE DESC, p.id DESC"),
            product_ids_page!($title, "p.price_cents, p.id"),
            product_ids_page!($title, "p.price_cents DESC, p.id DESC"),
        ]
    };
}
/// The page's ids, by sort (see [`product_page_sql`]): walking the sort's index, or among the
/// few ids that match (looked up by id, then sorted).
const PRODUCT_PAGES: [&str; 6] = product_pages!(title_contains!("?1"));
const PRODUCT_PAGES_AMONG: [&str; 6] = product_pages!(id_among!("p.id", "?1"));
const ADMIN_PRODUCTS_COUNT: &str = concat!(
    "SELECT COUNT(*) FROM (SELECT 1 FROM products p WHERE ",
    title_contains!("?1"),
    " AND (?2 IS NULL OR p.category_id = ?2) LIMIT ?3)"
);

/// A title filter as the list statements take it.
#[derive(Debug, Clone, Copy)]
pub enum TitleFilter<'a> {
    /// Titles containing this text (`None`: every title), tested row by row.
    Contains(Option<&'a str>),
    /// Exactly these products: every one whose title contains the searched text, when the
    /// caller knows them and they are few (the search's title order finds them in memory).
    Among(&'a [ProductId]),
}

impl TitleFilter<'_> {
    /// The parameter the statements bind: the text, or the ids as a JSON array.
    fn param(self) -> Result<Option<String>> {
        match self {
            Self::Contains(text) => Ok(text.map(str::to_owned)),
            Self::Among(ids) => {
                let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
                serde_json::to_string(&ids).map(Some).map_err(|error| Error::Invariant(error.to_string()))
            }
        }
    }

    fn is_among(self) -> bool {
        matches!(self, Self::Among(_))
    }

    /// Whether it matches nothing at all (no statement needs to run).
    fn is_empty(self) -> bool {
        matches!(self, Self::Among([]))
    }
}

/// The index of a sort in the page arrays: each key ascending, then descending.
fn sort_index(key_index: usize, descending: bool) -> usize {
    key_index * 2 + usize::from(descending)
}

/// The page's ids: only the sort's index is walked (the skipped rows' categories are never
/// joined: page 200 by title took 42.5 ms when they were), or only the few matching ids.
fn product_page_sql(sort: Sort<ProductSort>, among: bool) -> &'static str {
    let key = match sort.key {
        ProductSort::Id => 0,
        ProductSort::Title => 1,
        ProductSort::Price => 2,
    };
    let pages = if among { &PRODUCT_PAGES_AMONG } else { &PRODUCT_PAGES };
    pages[sort_index(key, sort.descending)]
}

/// One page of products and how many match (at most `COUNT_BOUND + 1`), and whether that is
/// a count. A title search is not counted: `contains` has no index, so counting walks titles
/// until the bound fills (27 ms p50 for `q=kettle` at 1M products); instead the page reads one
/// row more than it shows, and `count` is the rows up to this page plus one when there are more.
/// With [`TitleFilter::Among`] the page sorts just the few matches instead of walking an index
/// past every title that does not match (a search that matched nothing read all 1M titles:
/// 353 ms).
pub fn products(conn: &Connection, list: &ProductList, title: TitleFilter<'_>) -> Result<(PageOf<ProductRow>, bool)> {
    let counted = list.q.is_none();
    let limit = list.page.limit() + i64::from(!counted);
    let ids: Vec<i64> = if title.is_empty() {
        Vec::new()
    } else {
        let mut stmt = conn.prepare_cached(product_page_sql(list.sort, title.is_among()))?;
        stmt.query_map(params![title.param()?, list.category, limit, list.page.offset()], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?
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
fn products_by_id(conn: &Connection, ids: &[i64]) -> Result<Vec<ProductRow>> {
    let mut rows = Vec::with_capacity(ids.len());
    for &id in ids {
        rows.extend(find_product(conn, ProductId(id))?);
    }
    Ok(rows)
}

/// A store's inventory: ?1 store, ?2 the title filter, ?3 in stock (or NULL).
macro_rules! inventory_filter {
    ($title:expr) => {
        concat!(
            " i.store_id = ?1 AND ",
            $title,
            " AND (?3 IS NULL OR (?3 = 1 AND i.quantity > 0) OR (?3 = 0 AND i.quantity = 0)) "
        )
    };
}
macro_rules! inventory_page {
    ($title:expr, $order:literal) => {
        concat!(
            "SELECT p.id, p.title, p.price_cents, c.name, c.id, i.quantity
               FROM inventory i
               JOIN products p ON p.id = i.product_id
               JOIN categories c ON c.id = p.category_id
              WHERE",
            inventory_filter!($title),
            "ORDER BY ",
            $order,
            " LIMIT ?4 OFFSET ?5"
        )
    };
}
macro_rules! inventory_pages {
    ($title:expr) => {
        [
            inventory_page!($title, "i.product_id"),
            inventory_page!($title, "i.product_id DESC"),
            inventory_page!($title, "i.quantity, i.product_id"),
            inventory_page!($title, "i.quantity DESC, i.product_id DESC"),
        ]
    };
}
macro_rules! inventory_count {
    ($title:expr) => {
        concat!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM inventory i JOIN products p ON p.id = i.product_id WHERE",
            inventory_filter!($title),
            "LIMIT ?4)"
        )
    };
}
const INVENTORY_PAGES: [&str; 4] = inventory_pages!(title_contains!("?2"));
const INVENTORY_PAGES_AMONG: [&str; 4] = inventory_pages!(id_among!("i.product_id", "?2"));
const ADMIN_INVENTORY_COUNT: &str = inventory_count!(title_contains!("?2"));
const ADMIN_INVENTORY_COUNT_AMONG: &str = inventory_count!(id_among!("i.product_id", "?2"));

fn inventory_page_sql(sort: Sort<InventorySort>, among: bool) -> &'static str {
    let key = match sort.key {
        InventorySort::Product => 0,
        InventorySort::Quantity => 1,
    };
    let pages = if among { &INVENTORY_PAGES_AMONG } else { &INVENTORY_PAGES };
    pages[sort_index(key, sort.descending)]
}

/// One page of a store's inventory (with [`TitleFilter::Among`], only those products' rows
/// are looked up: a title search that matched nothing tested all 100k titles of a store).
pub fn inventory(
    conn: &Connection,
    store: StoreId,
    list: &InventoryList,
    title: TitleFilter<'_>,
) -> Result<PageOf<InventoryRow>> {
    if title.is_empty() {
        return Ok(PageOf { count: 0, rows: Vec::new() });
    }
    let param = title.param()?;
    let count_sql = if title.is_among() { ADMIN_INVENTORY_COUNT_AMONG } else { ADMIN_INVENTORY_COUNT };
    let count = conn
        .prepare_cached(count_sql)?
        .query_row(params![store, param, list.in_stock, COUNT_BOUND + 1], |row| row.get(0))?;
    let mut stmt = conn.prepare_cached(inventory_page_sql(list.sort, title.is_among()))?;
    let rows = stmt
        .query_map(params![store, param, list.in_stock, list.page.limit(), list.page.offset()], inventory_row)?
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
pub fn orders(conn: &Connection, list: &OrderList) -> Result<PageOf<OrderRow>> {
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
pub fn categories(
    conn: &Connection,
    q: Option<&str>,
    sort: Sort<NameSort>,
    page: crate::domain::PageRequest,
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
pub fn stores(
    conn: &Connection,
    q: Option<&str>,
    sort: Sort<NameSort>,
    page: crate::domain::PageRequest,
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
    let failed: i64 = conn.query_row(
        "SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE state = 'failed' LIMIT ?1)",
        [COUNT_BOUND + 1],
        |row| row.get(0),
    )?;
    tiles.push(("/admin/jobs/?state=failed", "failed jobs", bounded(failed)));
    Ok(tiles)
}

/// One page of jobs, newest first, optionally in one state (`jobs_state_newest`).
pub fn jobs(
    conn: &Connection,
    state: Option<&str>,
    page: crate::domain::PageRequest,
) -> Result<PageOf<super::jobs::JobRow>> {
    let count = conn.query_row(
        "SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE ?1 IS NULL OR state = ?1 LIMIT ?2)",
        params![state, COUNT_BOUND + 1],
        |row| row.get(0),
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, order_id, state, attempts, max_attempts, run_at, last_error, event_id FROM jobs
          WHERE ?1 IS NULL OR state = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3",
    )?;
    let rows = stmt
        .query_map(params![state, page.limit(), page.offset()], super::jobs::job_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(PageOf { count, rows })
}

/// An order's events (its jobs: `order.confirmed`, `order.cancelled`), oldest first
/// (`jobs_order`); an order has a handful.
pub fn order_events(conn: &Connection, order_id: crate::domain::OrderId) -> Result<Vec<super::jobs::JobRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, order_id, state, attempts, max_attempts, run_at, last_error, event_id FROM jobs
          WHERE order_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![order_id], super::jobs::job_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::listings::query_plan;

    #[test]
    fn listing_plans_never_sort_or_scan() {
        let mut conn = Connection::open_in_memory().expect("db");
        crate::db::migrate::migrate(&mut conn).expect("migrate");
        let fixed = [ADMIN_ORDERS_PAGE, ADMIN_STORE_ORDERS_PAGE, ADMIN_ORDERS_COUNT, ADMIN_STORE_ORDERS_COUNT];
        for sql in PRODUCT_PAGES.iter().chain(&INVENTORY_PAGES).chain(&fixed) {
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

    #[test]
    fn few_title_matches_are_looked_up_by_id_never_by_walking_a_table() {
        let mut conn = Connection::open_in_memory().expect("db");
        crate::db::migrate::migrate(&mut conn).expect("migrate");
        let among = PRODUCT_PAGES_AMONG.iter().chain(&INVENTORY_PAGES_AMONG).chain([&ADMIN_INVENTORY_COUNT_AMONG]);
        for sql in among {
            let plan = query_plan(&conn, sql);
            let walks: Vec<_> =
                plan.iter().filter(|step| step.starts_with("SCAN p") || step.starts_with("SCAN i")).collect();
            assert!(walks.is_empty(), "{sql}\n{plan:#?}");
            assert!(plan.iter().any(|step| step.contains("PRIMARY KEY")), "{sql}\n{plan:#?}");
        }
    }
}
