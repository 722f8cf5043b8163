//! Which of a segment's documents one store carries, as a bitset over the segment's
//! documents, kept with the segment's decoded columns.
//!
//! A store-filtered word search checks every match against the store's stock: it reads the
//! match's product id (a column) and then the store's quantity (a 4-byte slot per product id,
//! 4 MB at 1M products), two cache misses a match, though a store carries a tenth of the
//! catalog. Under the HTTP search mix at 1M (`scripts/search-mix.sh`, 8 clients, 2026-11-30,
//! `132d3c2`), store-filtered searches were 14 % of the requests and 37 % of the slowest 1 %
//! (docs/performance.md, "Why a store filter tests a bitset first"). One bit per document (125
//! KB per store at 1M, which stays in cache) now turns most matches away before either read;
//! the matches it lets through are checked in full as before, so a bit that is set when it
//! need not be costs only time.
//!
//! A bit that is clear must mean "not carried". The store's carried list (`stock`) is
//! replaced, never changed in place, whenever the store starts or stops carrying a product, so
//! a bitset is kept with the very list it was built for and used only for that list: a search
//! holding a newer list builds a new bitset. The entry holds the list, so its address cannot
//! be reused while the entry lives. At most `MAX_STORES` bitsets per segment are kept.

use std::collections::VecDeque;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex};

use tantivy::DocId;
use tantivy::columnar::ColumnValues;

use super::stock::{CarriedProducts, StockTables};
use crate::locking::lock;

/// Bitsets kept per segment: 8 MiB at 1M products. Beyond it the oldest is dropped (and
/// rebuilt, in a few milliseconds, when its store is searched again).
const MAX_STORES: usize = 64;
/// Product ids read at once while building a bitset (sequential reads of the id column).
const IDS_PER_READ: DocId = 4096;

/// One bit per document of a segment: set when the store carries the document's product.
pub struct DocBits {
    words: Box<[u64]>,
}

impl DocBits {
    /// Whether the document's bit is set (documents past the end are not carried).
    #[inline(always)]
    pub fn has(&self, doc: DocId) -> bool {
        let doc = doc as usize;
        self.words.get(doc / 64).is_some_and(|word| word & (1 << (doc % 64)) != 0)
    }
}

/// One segment's bitsets, by the carried list they were built for.
#[derive(Default)]
pub struct CarriedDocs {
    known: Mutex<VecDeque<(CarriedProducts, Arc<DocBits>)>>,
}

impl CarriedDocs {
    /// The bitset of the documents whose products `carried` holds, among `max_doc` documents
    /// with product ids `ids`; `column` is the same store's quantities (read to build it).
    pub fn of(
        &self,
        carried: &CarriedProducts,
        column: &[AtomicU32],
        ids: &dyn ColumnValues<u64>,
        max_doc: DocId,
    ) -> Arc<DocBits> {
        if let Some((_, bits)) = lock(&self.known).iter().find(|(list, _)| Arc::ptr_eq(list, carried)) {
            return Arc::clone(bits);
        }
        // Built outside the lock: a few milliseconds at 1M products. Two searches may both
        // build it; the second copy is simply dropped.
        let bits = Arc::new(build(column, ids, max_doc));
        let mut known = lock(&self.known);
        if !known.iter().any(|(list, _)| Arc::ptr_eq(list, carried)) {
            if known.len() >= MAX_STORES {
                known.pop_front();
            }
            known.push_back((Arc::clone(carried), Arc::clone(&bits)));
        }
        bits
    }
}

/// Sets the bit of every document whose product the store carries now (the column is live).
/// A product that starts being carried while this runs may get its bit: harmless, its match
/// is checked in full. A clear bit means the store did not carry the product when its slot
/// was read; a store that starts carrying it gets a new list, which this bitset never serves.
fn build(column: &[AtomicU32], ids: &dyn ColumnValues<u64>, max_doc: DocId) -> DocBits {
    let mut words = vec![0u64; (max_doc as usize).div_ceil(64)].into_boxed_slice();
    let mut block = vec![0u64; IDS_PER_READ as usize];
    let mut start: DocId = 0;
    while start < max_doc {
        let end = start.saturating_add(IDS_PER_READ).min(max_doc);
        let block = &mut block[..(end - start) as usize];
        ids.get_range(u64::from(start), block);
        for (doc, product_id) in (start..end).zip(block.iter()) {
            if StockTables::quantity_in(column, *product_id).is_some() {
                words[doc as usize / 64] |= 1 << (doc % 64);
            }
        }
        start = end;
    }
    DocBits { words }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;
    use tantivy::{Index, Term};

    use super::*;
    use crate::db::effects::{InventoryRemoval, StockChange};
    use crate::db::view_rows::ProductRow;
    use crate::domain::{ProductId, StoreId};
    use crate::search::build::product_document;
    use crate::search::collector::{MatchFilter, Matches, SearchCollector, StockCondition, StockFirst};
    use crate::search::columns::FastColumns;
    use crate::search::expand::expand_words;
    use crate::search::request::SortOrder;
    use crate::search::schema::{ProductFields, in_ram_index};
    use crate::search::stock::StockView;
    use crate::search::walk::WordsQuery;

    const PRODUCTS: i64 = 9_000;

    /// Products 1..9,000 in two segments (every thirteenth deleted), every third a kettle;
    /// store 1 carries every fifth product, a third of them out of stock.
    fn catalog() -> (Index, ProductFields, StockView) {
        let (index, fields, mut writer) = in_ram_index();
        for id in 1..=PRODUCTS {
            let title = if id % 3 == 0 { "steel kettle" } else { "desk lamp" };
            let product = ProductRow {
                id,
                title,
                description: "",
                price_cents: id,
                category_id: 1,
                created_at: id,
                category: "home",
            };
            writer.add_document(product_document(&product, &fields)).expect("add");
            if id == 4_000 {
                writer.commit().expect("first segment");
            }
        }
        writer.commit().expect("second segment");
        for id in (0..PRODUCTS).step_by(13) {
            writer.delete_term(Term::from_field_u64(fields.id, u64::try_from(id).expect("positive")));
        }
        writer.commit().expect("deletes");
        let conn = Connection::open_in_memory().expect("in-memory db");
        conn.execute_batch(
            "CREATE TABLE products (id INTEGER PRIMARY KEY); CREATE TABLE inventory (store_id, product_id, quantity);",
        )
        .expect("tables");
        for id in 1..=PRODUCTS {
            conn.execute("INSERT INTO products VALUES (?1)", [id]).expect("product");
            if id % 5 == 0 {
                conn.execute("INSERT INTO inventory VALUES (1, ?1, ?2)", [id, id % 3]).expect("row");
            }
        }
        let stock = StockView::load(&conn).expect("stock view");
        (index, fields, stock)
    }

    /// `kettle` in store 1, through the walk; `prefilter: false` hides the carried list, so
    /// only the full check runs.
    fn kettles(
        index: &Index,
        fields: &ProductFields,
        stock: &StockView,
        sort: SortOrder,
        in_stock: Option<bool>,
        prefilter: bool,
        columns: &Arc<FastColumns>,
    ) -> Matches {
        let searcher = index.reader().expect("reader").searcher();
        let tables = stock.tables();
        let column = tables.store(StoreId(1)).cloned();
        let carried = tables.carried(StoreId(1)).cloned().filter(|_| prefilter);
        let collector = SearchCollector {
            filter: MatchFilter {
                category_id: None,
                price_cents: 0..=u64::MAX,
                stock: StockCondition::Store { column, carried, in_stock },
            },
            sort,
            stock_first: StockFirst::Off,
            scored: sort == SortOrder::Relevance,
            top_n: 50,
            columns: Arc::clone(columns),
        };
        let words = expand_words(&searcher, fields, &["kettle".to_owned()]).expect("expand");
        let query = WordsQuery::new(&searcher, &words, 1, collector.scored).expect("weights").expect("a word");
        query.collect(&searcher, &collector).expect("search")
    }

    /// Count, price range, and the page's ids, quantities and packed ranks.
    type Answer = (u64, Option<(u64, u64)>, Vec<(u64, Option<u32>, u32)>);

    fn answer(matches: &Matches) -> Answer {
        let page = matches.top.iter().map(|hit| (hit.product_id, hit.quantity, hit.score.to_bits())).collect();
        (matches.count, matches.price_cents, page)
    }

    #[test]
    fn a_store_filter_answers_the_same_with_the_bitset_and_follows_what_the_store_carries() {
        let (index, fields, stock) = catalog();
        let searcher = index.reader().expect("reader").searcher();
        let columns = Arc::new(FastColumns::refresh(&FastColumns::default(), &searcher).expect("columns"));
        let same = |expected_count: u64| {
            for sort in [SortOrder::Relevance, SortOrder::PriceDescending] {
                for in_stock in [None, Some(true), Some(false)] {
                    let fast = kettles(&index, &fields, &stock, sort, in_stock, true, &columns);
                    let full = kettles(&index, &fields, &stock, sort, in_stock, false, &columns);
                    assert_eq!(answer(&fast), answer(&full), "{sort:?} {in_stock:?}");
                    if in_stock.is_none() {
                        assert_eq!(fast.count, expected_count, "{sort:?}");
                    }
                }
            }
        };
        // Kettles store 1 carries: multiples of 15, less the deleted multiples of 13.
        let carried_kettles = (1..=PRODUCTS).filter(|id| id % 15 == 0 && id % 13 != 0).count() as u64;
        same(carried_kettles);

        // Store 1 starts carrying kettle 3 (its list is replaced), then stops carrying kettle 15.
        stock.apply(&[StockChange { store_id: StoreId(1), product_id: ProductId(3), quantity: 4 }]);
        same(carried_kettles + 1);
        stock.remove(&[InventoryRemoval { store_id: StoreId(1), product_id: ProductId(15) }]);
        same(carried_kettles);
    }
}
