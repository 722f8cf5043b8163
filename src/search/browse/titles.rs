//! The store inventory listing (`GET /stores/<id>/inventory/`) served from memory: one title
//! order of the whole catalog, computed per catalog generation like the browse orders, walked
//! through a store's column of the stock view. A page then costs the products walked to reach
//! it instead of sorting the store's rows per request (165 ms at 100k rows per store).
//!
//! What each request costs (n = products the store carries, N = the catalog):
//! - no filter: `count` is the length of the store's carried list; the page walks the title
//!   order until it has skipped `offset` and kept `limit` of the store's products, about
//!   `(offset + limit) · N / n` slots;
//! - `in_stock`, `low_stock`: the same walk, plus one pass over the store's n quantities for
//!   the exact `count` (sequential, about 0.1 ms at n = 100k); `in_stock` tests what is
//!   available, `low_stock` compares what is on hand with its row's threshold, the default
//!   unless the stock view holds another;
//! - `q` (title contains): an exact count of titles containing a substring has no index to
//!   answer it. A store carrying a sixteenth of the catalog or more has it found by one
//!   sequential `memmem` pass over every case-folded title kept here (matches come out in
//!   title order, and only those the store carries count); a smaller store has each of its n
//!   carried titles tested instead, and only the matches are sorted by title rank.
//!
//! Quantities are read from the stock view, which the writer updates after every commit and
//! before replying, so a listing after an order shows that order's deduction. Titles, prices
//! and categories of the page's rows are read from SQLite by id. Until the order of the
//! current catalog generation is ready (about a second at 1M products, in the background), the
//! listing takes the SQL path; the answer is the same either way.
//!
//! Memory at 1M products: ids by title and ranks by id (4 bytes each), title offsets (4 bytes),
//! the folded titles themselves (about 35 MB), and each product's price and category (16 bytes)
//! for the admin's title search ([`search`]).

use std::collections::HashMap;
use std::sync::Arc;

use memchr::memmem;
use rusqlite::Connection;

use crate::db::store::listings::{InventoryFilter, InventoryRow, PageOf, RowStock, inventory_rows};
use crate::db::store::view_rows;
use crate::domain::{PageRequest, ProductId, StoreId};
use crate::error::{Error, Result};
use crate::search::stock::{StockTables, StockView, Thresholds};

pub mod saved;
pub mod search;

/// A rank for product ids without a title (no such product).
const NO_RANK: u32 = u32::MAX;

/// With `q`, a store carrying at least 1 / `SCAN_RATIO` of the catalog has its matches found
/// by one sequential pass over every title (about 35 bytes each, memmem's SIMD speed) rather
/// than by a random read of each carried product's title (a cache miss or three each). At the
/// issue's sizes (100k of 1M carried) the pass wins; a small store still reads only its own.
const SCAN_RATIO: usize = 16;

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
    /// Indexed by product id: its price and category, for the admin's title search, which
    /// filters and sorts its matches here (see [`search`]).
    price_cents: Vec<i64>,
    category_id: Vec<i64>,
}

impl TitleOrder {
    /// Reads every title in listing order. The `products_title_nocase` index is that order,
    /// so SQLite walks an index and nothing is sorted here.
    pub fn load(conn: &Connection, generation: u64) -> Result<Self> {
        let mut order = Self {
            generation,
            by_title: Vec::new(),
            rank: Vec::new(),
            folded: Vec::new(),
            starts: vec![0],
            price_cents: Vec::new(),
            category_id: Vec::new(),
        };
        view_rows::for_each_title(conn, |id, title| {
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
            order.folded.extend(title.bytes().map(|byte| byte.to_ascii_lowercase()));
            let end = u32::try_from(order.folded.len())
                .map_err(|_| Error::Invariant("titles too long for the title order".to_owned()))?;
            order.starts.push(end);
            Ok(())
        })?;
        order.price_cents = vec![0; order.rank.len()];
        order.category_id = vec![0; order.rank.len()];
        view_rows::for_each_price_and_category(conn, |id, price_cents, category_id| {
            let id = usize::try_from(id).unwrap_or(usize::MAX);
            if let (Some(price), Some(category)) = (order.price_cents.get_mut(id), order.category_id.get_mut(id)) {
                *price = price_cents;
                *category = category_id;
            }
            Ok(())
        })?;
        Ok(order)
    }

    fn folded_title(&self, rank: u32) -> &[u8] {
        let rank = rank as usize;
        &self.folded[self.starts[rank] as usize..self.starts[rank + 1] as usize]
    }

    /// The ranks (ascending) of every title containing the finder's needle, which must not be
    /// empty: one pass of `memmem` over the concatenated titles, reading them in order rather
    /// than jumping to each carried product's title. A hit that runs past the end of its title
    /// (into the next one) is no match, and the search resumes at the next title's start: the
    /// first hit at or after a title's start, if it lies within that title and ends there, is
    /// exactly "this title contains the needle".
    fn ranks_containing(&self, finder: &memmem::Finder<'_>) -> Vec<u32> {
        let needle_len = finder.needle().len();
        let mut found = Vec::new();
        let mut rank = 0;
        let mut from = 0;
        while let Some(hit) = self.folded.get(from..).and_then(|rest| finder.find(rest)) {
            let at = from + hit;
            // The title holding `at`: both only move forward, so the whole query walks
            // `starts` once.
            while self.starts[rank + 1] as usize <= at {
                rank += 1;
            }
            let end = self.starts[rank + 1] as usize;
            if at + needle_len <= end {
                found.push(u32::try_from(rank).unwrap_or(NO_RANK));
            }
            from = end;
        }
        found
    }

    fn rank_of(&self, product_id: u32) -> Option<u32> {
        self.rank.get(product_id as usize).copied().filter(|rank| *rank != NO_RANK)
    }

    /// The page's (product, available quantity) pairs and the exact count, for one store's
    /// current quantities (`in_stock` tests what is available, as the contract says).
    pub fn page(
        &self,
        tables: &StockTables,
        thresholds: &Thresholds,
        store_id: StoreId,
        filter: &InventoryFilter,
        page: PageRequest,
    ) -> PageOf<(ProductId, i64)> {
        let (Some(column), Some(carried)) = (tables.store(store_id), tables.carried(store_id)) else {
            return PageOf { count: 0, rows: Vec::new() };
        };
        let offset = usize::try_from(page.offset()).unwrap_or(usize::MAX);
        let limit = usize::try_from(page.limit()).unwrap_or(usize::MAX);
        let thresholds = thresholds.store(store_id);
        // Low stock is judged on hand, the slot holds what is available: the store's few held
        // pairs are copied once (only when the filter asks), elsewhere on hand is the slot.
        let on_hand = match filter.low_stock {
            Some(_) => tables.on_hand_of_held(store_id),
            None => HashMap::new(),
        };
        // Whether a carried product's row passes the stock filters (the quantity is the
        // product's available, read once by the caller).
        let passes = |product_id: u32, quantity: u32| {
            filter.in_stock.is_none_or(|in_stock| in_stock == (quantity > 0))
                && filter.low_stock.is_none_or(|low| {
                    let on_hand = on_hand.get(&product_id).copied().unwrap_or(i64::from(quantity));
                    low == (on_hand <= thresholds.of(product_id))
                })
        };
        let quantity_of = |product_id: u32| StockTables::quantity_in(column, u64::from(product_id));
        let row = |product_id: u32, quantity: u32| (ProductId(i64::from(product_id)), i64::from(quantity));

        if let Some(q) = filter.title_contains.as_deref() {
            let needle = q.as_bytes().to_ascii_lowercase();
            let finder = memmem::Finder::new(&needle);
            let mut ranks: Vec<(u32, u32)> = if !needle.is_empty() && carried.len() * SCAN_RATIO >= self.by_title.len()
            {
                self.ranks_containing(&finder)
                    .into_iter()
                    .filter_map(|rank| {
                        let product_id = self.by_title[rank as usize];
                        let quantity = quantity_of(product_id)?;
                        passes(product_id, quantity).then_some((rank, quantity))
                    })
                    .collect()
            } else {
                carried
                    .iter()
                    .filter_map(|&product_id| {
                        let quantity = quantity_of(product_id).filter(|quantity| passes(product_id, *quantity))?;
                        let rank = self.rank_of(product_id)?;
                        finder.find(self.folded_title(rank)).map(|_| (rank, quantity))
                    })
                    .collect()
            };
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

        let count = match (filter.in_stock, filter.low_stock) {
            (None, None) => carried.len(),
            _ => carried
                .iter()
                .filter(|&&product_id| quantity_of(product_id).is_some_and(|quantity| passes(product_id, quantity)))
                .count(),
        };
        let rows = self
            .by_title
            .iter()
            .filter_map(|&product_id| {
                quantity_of(product_id).filter(|quantity| passes(product_id, *quantity)).map(|q| (product_id, q))
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
    let tables = stock.tables();
    let ids = order.page(&tables, &stock.thresholds(), store_id, filter, page);
    // The page's on hand and held: a lookup per row of the page, never per row of the store.
    let rows: Vec<(ProductId, RowStock)> = ids
        .rows
        .iter()
        .map(|&(product_id, available)| {
            let stock = tables.row_stock(store_id, product_id).unwrap_or(RowStock { quantity: available, held: 0 });
            (product_id, stock)
        })
        .collect();
    Ok(PageOf { count: ids.count, rows: inventory_rows(conn, store_id, &rows)? })
}

/// The latest computed title order, shared with requests.
pub type SharedTitleOrder = Option<Arc<TitleOrder>>;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Pieces that make neighbouring titles run into each other: a needle made of one title's
    /// end and the next one's start must not match.
    const PIECES: [&str; 8] = ["Kettle", "kettle", "mug", "GK", "a", "", "Zed", "ä-b"];

    fn order_of(titles: &[String]) -> TitleOrder {
        let conn = Connection::open_in_memory().expect("in-memory db");
        // The columns `TitleOrder::load` reads; price and category play no part in these tests.
        conn.execute_batch(
            "CREATE TABLE products (id INTEGER PRIMARY KEY, title TEXT NOT NULL,
                 price_cents INTEGER NOT NULL DEFAULT 0, category_id INTEGER NOT NULL DEFAULT 0)",
        )
        .expect("table");
        for (id, title) in (1i64..).zip(titles) {
            conn.execute("INSERT INTO products (id, title) VALUES (?1, ?2)", rusqlite::params![id, title])
                .expect("product");
        }
        TitleOrder::load(&conn, 1).expect("title order")
    }

    proptest! {
        /// The catalog-wide pass finds exactly the titles that a test of each title finds.
        #[test]
        fn one_pass_over_every_title_finds_what_testing_each_title_finds(
            pieces in prop::collection::vec((0..PIECES.len(), 0..PIECES.len()), 0..30),
            needle in "(k|e|t|l|g|m|u|a|z|d| |-|ä|K|G){1,4}",
        ) {
            let titles: Vec<String> = pieces.iter().map(|&(a, b)| format!("{}{}", PIECES[a], PIECES[b])).collect();
            let order = order_of(&titles);
            let needle = needle.as_bytes().to_ascii_lowercase();
            let finder = memmem::Finder::new(&needle);
            let rank_count = u32::try_from(order.by_title.len()).expect("small");
            let each: Vec<u32> = (0..rank_count).filter(|&rank| finder.find(order.folded_title(rank)).is_some()).collect();
            prop_assert_eq!(order.ranks_containing(&finder), each);
        }
    }
}
