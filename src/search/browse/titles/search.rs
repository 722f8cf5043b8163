//! The admin's title search ("title contains", as SQLite's `instr(lower(title), lower(q))`)
//! over the title order's folded titles, with the admin lists' filters and sorts applied to
//! the matches in memory.
//!
//! Why: a `contains` search has no index, so SQL tests titles one by one until a page is
//! full; a needle that matches little reads every title (353 ms at 1M products for one that
//! matches nothing), and one that matches products far from the top of the sort's index reads
//! most of them. Here one pass of `memmem` over the concatenated folded titles (about 35 MB at
//! 1M products) finds every match, then only the matches are filtered and ordered. A needle
//! matching more than the caller's limit answers `None`: the matches are then dense enough that
//! the SQL walk of the sort's index finds a page soon.

use std::cmp::Reverse;

use memchr::memmem;

use super::TitleOrder;
use crate::db::store::listings::{PageOf, RowStock};
use crate::domain::admin_list::{InventoryList, InventorySort, ProductList, ProductSort};
use crate::domain::{PageRequest, ProductId, StoreId};
use crate::search::stock::StockTables;

/// What a title search over the title order found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TitleMatches {
    /// More than the limit asked for.
    Many,
    /// Every match, in title order.
    Few(Vec<ProductId>),
}

impl TitleOrder {
    /// The ranks (title order) of the titles containing `needle`, ASCII letters folded as
    /// SQLite's `lower` folds them; `None` as soon as more than `limit` do.
    fn matching_ranks(&self, needle: &str, limit: usize) -> Option<Vec<u32>> {
        let needle = needle.as_bytes().to_ascii_lowercase();
        let finder = memmem::Finder::new(&needle);
        let mut ranks = Vec::new();
        // Matches come in increasing positions, so the rank holding each is found by moving
        // forward: one step per title over the whole pass, at most.
        let mut rank = 0;
        let mut from = 0;
        while let Some(found) =
            self.folded.get(from..).filter(|rest| !rest.is_empty()).and_then(|rest| finder.find(rest))
        {
            let at = from + found;
            while self.starts[rank + 1] as usize <= at {
                rank += 1;
            }
            let end = self.starts[rank + 1] as usize;
            // Titles are concatenated without a separator: a match running into the next
            // title is no match, and no later one in this title could end inside it either.
            if at + needle.len() <= end {
                if ranks.len() == limit {
                    return None;
                }
                ranks.push(u32::try_from(rank).expect("ranks were u32 when the order was built"));
            }
            from = end;
        }
        Some(ranks)
    }

    /// The products whose title contains `needle`, in title order, or [`TitleMatches::Many`].
    pub fn containing(&self, needle: &str, limit: usize) -> TitleMatches {
        match self.matching_ranks(needle, limit) {
            Some(ranks) => TitleMatches::Few(ranks.into_iter().map(|rank| self.product_at(rank)).collect()),
            None => TitleMatches::Many,
        }
    }

    fn product_at(&self, rank: u32) -> ProductId {
        ProductId(i64::from(self.by_title[rank as usize]))
    }

    /// One page of the admin product list for its title search (`list.q`): the ids of the
    /// products whose title contains it (in `list.category`, if given), sorted as `list.sort`
    /// sorts them in SQL, with one id more than the page shows when there are more. `None`
    /// without a search, or when more than `limit` titles match.
    pub fn product_search_page(&self, list: &ProductList, limit: usize) -> Option<Vec<ProductId>> {
        let mut ranks = self.matching_ranks(list.q.as_deref()?, limit)?;
        if let Some(category) = list.category {
            ranks.retain(|&rank| self.category_id.get(self.by_title[rank as usize] as usize) == Some(&category.0));
        }
        let (offset, take) = offset_and_limit(list.page);
        let end = offset.saturating_add(take).saturating_add(1);
        let id = |rank: u32| self.by_title[rank as usize];
        let price = |rank: u32| self.price_cents.get(id(rank) as usize).copied().unwrap_or_default();
        // Each descending sort is its ascending one reversed, ties included (as in SQL).
        match (list.sort.key, list.sort.descending) {
            (ProductSort::Title, false) => {} // matches come in title order
            (ProductSort::Title, true) => ranks.reverse(),
            (ProductSort::Id, false) => first_sorted_by_key(&mut ranks, end, id),
            (ProductSort::Id, true) => first_sorted_by_key(&mut ranks, end, |rank| Reverse(id(rank))),
            (ProductSort::Price, false) => first_sorted_by_key(&mut ranks, end, |rank| (price(rank), id(rank))),
            (ProductSort::Price, true) => {
                first_sorted_by_key(&mut ranks, end, |rank| Reverse((price(rank), id(rank))));
            }
        }
        Some(ranks.into_iter().skip(offset).take(take + 1).map(|rank| self.product_at(rank)).collect())
    }

    /// One page of a store's inventory for its title search (`list.q`): (product, stock) of
    /// the store's rows whose product's title contains it (and in stock or not, on hand, if
    /// asked), sorted as `list.sort` sorts them in SQL (by on-hand quantity), with their exact
    /// count. `None` without a search, or when more than `limit` titles match.
    pub fn inventory_search_page(
        &self,
        tables: &StockTables,
        store_id: StoreId,
        list: &InventoryList,
        limit: usize,
    ) -> Option<PageOf<(ProductId, RowStock)>> {
        let ranks = self.matching_ranks(list.q.as_deref()?, limit)?;
        if tables.store(store_id).is_none() {
            return Some(PageOf { count: 0, rows: Vec::new() });
        }
        let mut rows: Vec<(u32, RowStock)> = ranks
            .into_iter()
            .filter_map(|rank| {
                let product = self.by_title[rank as usize];
                let stock = tables.row_stock(store_id, ProductId(i64::from(product)))?;
                list.in_stock.is_none_or(|in_stock| in_stock == (stock.quantity > 0)).then_some((product, stock))
            })
            .collect();
        let count = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        let (offset, take) = offset_and_limit(list.page);
        let end = offset.saturating_add(take);
        match (list.sort.key, list.sort.descending) {
            (InventorySort::Product, false) => first_sorted_by_key(&mut rows, end, |(product, _)| product),
            (InventorySort::Product, true) => first_sorted_by_key(&mut rows, end, |(product, _)| Reverse(product)),
            (InventorySort::Quantity, false) => {
                first_sorted_by_key(&mut rows, end, |(product, stock)| (stock.quantity, product));
            }
            (InventorySort::Quantity, true) => {
                first_sorted_by_key(&mut rows, end, |(product, stock)| Reverse((stock.quantity, product)));
            }
        }
        let rows = rows
            .into_iter()
            .skip(offset)
            .take(take)
            .map(|(product, stock)| (ProductId(i64::from(product)), stock))
            .collect();
        Some(PageOf { count, rows })
    }
}

fn offset_and_limit(page: PageRequest) -> (usize, usize) {
    (usize::try_from(page.offset()).unwrap_or(usize::MAX), usize::try_from(page.limit()).unwrap_or(usize::MAX))
}

/// Puts the `first` smallest items by `key` first, in order (the rest after them, in no
/// order): a page needs only its own end sorted.
fn first_sorted_by_key<T: Copy, K: Ord>(items: &mut [T], first: usize, key: impl Fn(T) -> K) {
    if first < items.len() {
        items.select_nth_unstable_by_key(first, |item| key(*item));
    }
    let end = first.min(items.len());
    items[..end].sort_unstable_by_key(|item| key(*item));
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::{TitleMatches, TitleOrder};
    use crate::domain::admin_list::{ProductList, ProductSort, Sort};
    use crate::domain::{CategoryId, PageRequest, ProductId};

    /// A title order over `products` (title, price in cents, category; ids from 1).
    fn order_of(products: &[(&str, i64, i64)]) -> TitleOrder {
        let mut conn = Connection::open_in_memory().expect("db");
        crate::db::migrate::migrate(&mut conn).expect("migrate");
        conn.execute_batch("INSERT INTO categories (id, name) VALUES (1, 'One'), (2, 'Two')").expect("categories");
        for (id, (title, price, category)) in (1..).zip(products) {
            conn.execute(
                "INSERT INTO products (id, title, price_cents, category_id, created_at) VALUES (?1, ?2, ?3, ?4, 0)",
                rusqlite::params![id, title, price, category],
            )
            .expect("product");
        }
        TitleOrder::load(&conn, 0).expect("title order")
    }

    fn titled(titles: &[&'static str]) -> TitleOrder {
        order_of(&titles.iter().map(|title| (*title, 100, 1)).collect::<Vec<_>>())
    }

    fn few(ids: &[i64]) -> TitleMatches {
        TitleMatches::Few(ids.iter().copied().map(ProductId).collect())
    }

    fn ids(ids: &[i64]) -> Option<Vec<ProductId>> {
        Some(ids.iter().copied().map(ProductId).collect())
    }

    #[test]
    fn finds_every_title_containing_the_needle_in_title_order_ignoring_ascii_case() {
        let order = titled(&["Steel Kettle", "kettle stand", "Mug", "Electric KETTLE"]);

        assert_eq!(order.containing("Kettle", 10), few(&[4, 2, 1]));
        assert_eq!(order.containing("mug", 10), few(&[3]));
        assert_eq!(order.containing("zzqx", 10), few(&[]));
    }

    #[test]
    fn a_match_across_two_neighbouring_titles_is_no_match_and_hides_none() {
        // Concatenated in title order: "ab" + "aba" + "bab" = "abababab": "aba" and "bab"
        // also occur across the boundaries, and the real "aba" starts inside a false one.
        let order = titled(&["ab", "aba", "bab"]);

        assert_eq!(order.containing("aba", 10), few(&[2]));
        assert_eq!(order.containing("bab", 10), few(&[3]));
        assert_eq!(order.containing("abab", 10), few(&[]));
    }

    #[test]
    fn more_matches_than_the_limit_are_many() {
        let order = titled(&["Kettle", "Kettle", "Kettle"]);

        assert_eq!(order.containing("kettle", 2), TitleMatches::Many);
        assert_eq!(order.containing("kettle", 3), few(&[1, 2, 3]));
        assert_eq!(order.product_search_page(&list(None, ProductSort::Id, false, 1, 5), 2), None);
    }

    /// A product list searching "kettle".
    fn list(category: Option<i64>, key: ProductSort, descending: bool, page: u32, page_size: u32) -> ProductList {
        ProductList {
            q: Some("kettle".to_owned()),
            category: category.map(CategoryId),
            sort: Sort { key, descending },
            page: PageRequest { page, page_size },
        }
    }

    #[test]
    fn a_product_search_page_filters_by_category_and_sorts_as_sql_does_with_one_more() {
        let order = order_of(&[
            ("Steel Kettle", 2500, 1),
            ("kettle stand", 900, 2),
            ("Electric Kettle", 2500, 1),
            ("Mug", 100, 1),
            ("Copper Kettle", 4000, 1),
        ]);
        let page = |category, key, descending, page, page_size| {
            order.product_search_page(&list(category, key, descending, page, page_size), 100)
        };

        assert_eq!(page(None, ProductSort::Title, false, 1, 10), ids(&[5, 3, 2, 1]));
        assert_eq!(page(None, ProductSort::Title, true, 1, 10), ids(&[1, 2, 3, 5]));
        // Page 2 of 2 rows: rows 3 and 4, and 5 to say there is more.
        assert_eq!(page(None, ProductSort::Id, true, 2, 1), ids(&[3, 2]));
        // Equal prices: by id, ascending or (descending) reversed.
        assert_eq!(page(Some(1), ProductSort::Price, false, 1, 10), ids(&[1, 3, 5]));
        assert_eq!(page(Some(1), ProductSort::Price, true, 1, 10), ids(&[5, 3, 1]));
        assert_eq!(page(Some(2), ProductSort::Price, false, 2, 1), ids(&[]));
    }
}
