//! The store inventory listing (`GET /stores/<id>/inventory/`) served from memory: one title
//! order of the whole catalog, computed per catalog generation like the browse orders, walked
//! through a store's column of the stock view. A page then costs the products walked to reach
//! it instead of sorting the store's rows per request (165 ms at 100k rows per store).
//!
//! What each request costs (n = products the store carries, N = the catalog):
//! - no filter: `count` is the length of the store's carried list; the page walks the title
//!   order until it has skipped `offset` and kept `limit` of the store's products, about
//!   `(offset + limit) · N / n` slots;
//! - `in_stock`: the same walk, plus one pass over the store's n quantities for the exact
//!   `count` (sequential, about 0.1 ms at n = 100k);
//! - `q` (title contains): an exact count of titles containing a substring has no index to
//!   answer it, so every carried title is tested (n substring searches over case-folded titles
//!   kept here), and only the matches are sorted by title rank.
//!
//! Quantities are read from the stock view, which the writer updates after every commit and
//! before replying, so a listing after an order shows that order's deduction. Titles, prices
//! and categories of the page's rows are read from SQLite by id. Until the order of the
//! current catalog generation is ready (about a second at 1M products, in the background), the
//! listing takes the SQL path; the answer is the same either way.
//!
//! Memory at 1M products: ids by title and ranks by id (4 bytes each), title offsets (4 bytes)
//! and the folded titles themselves (about 35 MB).

use std::sync::Arc;

use memchr::memmem;
use rusqlite::Connection;

use crate::db::listings::{InventoryFilter, InventoryRow, PageOf, inventory_rows};
use crate::domain::{PageRequest, ProductId, StoreId};
use crate::error::{Error, Result};
use crate::search::stock::{StockTables, StockView};

/// A rank for product ids without a title (no such product).
const NO_RANK: u32 = u32::MAX;

/// Every product id ordered as the listing orders them: title compared as SQLite's `NOCASE`
/// compares it (ASCII letters folded, every other byte as is), then id.
pub struct TitleOrder {
    /// The catalog generation this order was read at (or before).
    pub generation: u64,
    /// Product ids by title, then id.
    by_title: Vec<u32>,
    /// Indexed by product id: its position in `by_title`, or [`NO_RANK`].
    rank: Vec<u32>,
    /// Titles in `by_title`'s order, ASCII-lowercased (SQLite's `lower`), concatenated.
    folded: Vec<u8>,
    /// `folded[starts[r]..starts[r + 1]]` is the title of rank `r`.
    starts: Vec<u32>,
}

impl TitleOrder {
    /// Reads every title in listing order. The `products_title_nocase` index is that order,
    /// so SQLite walks an index and nothing is sorted here.
    pub fn load(conn: &Connection, generation: u64) -> Result<Self> {
        let mut stmt = conn.prepare("SELECT id, title FROM products ORDER BY title COLLATE NOCASE, id")?;
        let mut rows = stmt.query([])?;
        let mut order =
            Self { generation, by_title: Vec::new(), rank: Vec::new(), folded: Vec::new(), starts: vec![0] };
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let id = u32::try_from(id)
                .ok()
                .filter(|id| *id != NO_RANK)
                .ok_or_else(|| Error::Invariant(format!("product id {id} does not fit the title order")))?;
            let rank = u32::try_from(order.by_title.len())
                .map_err(|_| Error::Invariant("too many products for the title order".to_owned()))?;
            order.by_title.push(id);
            let index = id as usize;
            if index >= order.rank.len() {
                order.rank.resize(index + 1, NO_RANK);
            }
            order.rank[index] = rank;
            let title: String = row.get(1)?;
            order.folded.extend(title.bytes().map(|byte| byte.to_ascii_lowercase()));
            let end = u32::try_from(order.folded.len())
                .map_err(|_| Error::Invariant("titles too long for the title order".to_owned()))?;
            order.starts.push(end);
        }
        Ok(order)
    }

    fn folded_title(&self, rank: u32) -> &[u8] {
        let rank = rank as usize;
        &self.folded[self.starts[rank] as usize..self.starts[rank + 1] as usize]
    }

    fn rank_of(&self, product_id: u32) -> Option<u32> {
        self.rank.get(product_id as usize).copied().filter(|rank| *rank != NO_RANK)
    }

    /// The products whose title contains `needle` as SQLite's `instr(lower(title),
    /// lower(needle))` finds it (ASCII letters folded), in title order; [`TitleMatches::Many`]
    /// as soon as more than `limit` do. One pass of `memmem` over the folded titles, not a
    /// test per title: about 35 MB at 1M products, a few milliseconds when little matches,
    /// and a frequent needle stops early at `limit`.
    pub fn containing(&self, needle: &str, limit: usize) -> TitleMatches {
        let needle = needle.as_bytes().to_ascii_lowercase();
        let finder = memmem::Finder::new(&needle);
        let mut ids = Vec::new();
        let mut from = 0;
        // `from` only grows, to the end of a title each time: at most one step per title.
        while let Some(found) =
            self.folded.get(from..).filter(|rest| !rest.is_empty()).and_then(|rest| finder.find(rest))
        {
            let at = from + found;
            // The title holding the match's first byte (`starts[0]` is 0, so there is one).
            let rank = self.starts.partition_point(|&start| start as usize <= at) - 1;
            let end = self.starts[rank + 1] as usize;
            // Titles are concatenated without a separator: a match running into the next
            // title is no match, and no later one in this title could end inside it either.
            if at + needle.len() <= end {
                if ids.len() == limit {
                    return TitleMatches::Many;
                }
                ids.push(ProductId(i64::from(self.by_title[rank])));
            }
            from = end;
        }
        TitleMatches::Few(ids)
    }

    /// The page's (product, quantity) pairs and the exact count, for one store's current
    /// quantities.
    pub fn page(
        &self,
        tables: &StockTables,
        store_id: StoreId,
        filter: &InventoryFilter,
        page: PageRequest,
    ) -> PageOf<(ProductId, i64)> {
        let (Some(column), Some(carried)) = (tables.store(store_id), tables.carried(store_id)) else {
            return PageOf { count: 0, rows: Vec::new() };
        };
        let offset = usize::try_from(page.offset()).unwrap_or(usize::MAX);
        let limit = usize::try_from(page.limit()).unwrap_or(usize::MAX);
        let stocked = |quantity: u32| filter.in_stock.is_none_or(|in_stock| in_stock == (quantity > 0));
        let quantity_of = |product_id: u32| StockTables::quantity_in(column, u64::from(product_id));
        let row = |product_id: u32, quantity: u32| (ProductId(i64::from(product_id)), i64::from(quantity));

        if let Some(q) = filter.title_contains.as_deref() {
            let needle = q.as_bytes().to_ascii_lowercase();
            let finder = memmem::Finder::new(&needle);
            let mut ranks: Vec<(u32, u32)> = carried
                .iter()
                .filter_map(|&product_id| {
                    let quantity = quantity_of(product_id).filter(|quantity| stocked(*quantity))?;
                    let rank = self.rank_of(product_id)?;
                    finder.find(self.folded_title(rank)).map(|_| (rank, quantity))
                })
                .collect();
            let count = ranks.len();
            let end = offset.saturating_add(limit).min(count);
            if offset >= end {
                return PageOf { count: count_i64(count), rows: Vec::new() };
            }
            // Only the page's end needs ordering: partition there, then sort what precedes it.
            if end < count {
                ranks.select_nth_unstable(end);
            }
            ranks.truncate(end);
            ranks.sort_unstable();
            let rows = ranks[offset..].iter().map(|&(rank, quantity)| row(self.by_title[rank as usize], quantity));
            return PageOf { count: count_i64(count), rows: rows.collect() };
        }

        let count = match filter.in_stock {
            None => carried.len(),
            Some(_) => carried.iter().filter(|&&product_id| quantity_of(product_id).is_some_and(stocked)).count(),
        };
        let rows = self
            .by_title
            .iter()
            .filter_map(|&product_id| {
                quantity_of(product_id).filter(|quantity| stocked(*quantity)).map(|q| (product_id, q))
            })
            .skip(offset)
            .take(limit)
            .map(|(product_id, quantity)| row(product_id, quantity))
            .collect();
        PageOf { count: count_i64(count), rows }
    }
}

fn count_i64(count: usize) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// The inventory page from `order` and the stock view, with its rows read from SQLite.
pub fn inventory_page(
    conn: &Connection,
    order: &TitleOrder,
    stock: &StockView,
    store_id: StoreId,
    filter: &InventoryFilter,
    page: PageRequest,
) -> Result<PageOf<InventoryRow>> {
    let ids = order.page(&stock.tables(), store_id, filter, page);
    Ok(PageOf { count: ids.count, rows: inventory_rows(conn, &ids.rows)? })
}

/// What a title search over the title order found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TitleMatches {
    /// The title order of the current catalog is not ready (the caller searches by SQL).
    Unknown,
    /// More than the limit asked for.
    Many,
    /// Every match, in title order.
    Few(Vec<ProductId>),
}

/// The latest computed title order, shared with requests.
pub type SharedTitleOrder = Option<Arc<TitleOrder>>;

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::{TitleMatches, TitleOrder};
    use crate::domain::ProductId;

    /// A title order over `titles` (ids from 1, in the order given).
    fn order_of(titles: &[&str]) -> TitleOrder {
        let mut conn = Connection::open_in_memory().expect("db");
        crate::db::migrate::migrate(&mut conn).expect("migrate");
        conn.execute("INSERT INTO categories (id, name) VALUES (1, 'All')", []).expect("category");
        for (id, title) in (1..).zip(titles) {
            conn.execute(
                "INSERT INTO products (id, title, price_cents, category_id, created_at) VALUES (?1, ?2, 100, 1, 0)",
                rusqlite::params![id, title],
            )
            .expect("product");
        }
        TitleOrder::load(&conn, 0).expect("title order")
    }

    fn few(ids: &[i64]) -> TitleMatches {
        TitleMatches::Few(ids.iter().copied().map(ProductId).collect())
    }

    #[test]
    fn finds_every_title_containing_the_needle_in_title_order_ignoring_ascii_case() {
        let order = order_of(&["Steel Kettle", "kettle stand", "Mug", "Electric KETTLE"]);

        assert_eq!(order.containing("Kettle", 10), few(&[4, 2, 1]));
        assert_eq!(order.containing("mug", 10), few(&[3]));
        assert_eq!(order.containing("zzqx", 10), few(&[]));
    }

    #[test]
    fn a_match_across_two_neighbouring_titles_is_no_match_and_hides_none() {
        // Concatenated in title order: "ab" + "aba" + "bab" = "ababab…": "bab" and "aba" occur
        // across the boundaries, and the real "aba" starts inside a false one.
        let order = order_of(&["ab", "aba", "bab"]);

        assert_eq!(order.containing("aba", 10), few(&[2]));
        assert_eq!(order.containing("bab", 10), few(&[3]));
        assert_eq!(order.containing("abab", 10), few(&[]));
    }

    #[test]
    fn more_matches_than_the_limit_are_many() {
        let order = order_of(&["Kettle", "Kettle", "Kettle"]);

        assert_eq!(order.containing("kettle", 2), TitleMatches::Many);
        assert_eq!(order.containing("kettle", 3), few(&[1, 2, 3]));
    }
}
