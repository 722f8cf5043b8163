//! The carried-products bitset checked through the whole search path (walk, collector, fast
//! columns): a store filter answers the same with it as without. Its own file, above both
//! `carried_docs.rs` and the modules it drives: inside `carried_docs.rs` those imports would
//! point back up.

use rusqlite::Connection;
use tantivy::{Index, Term};

use super::*;
use crate::db::records::{InventoryRemoval, StockChange};
use crate::db::store::view_rows::ProductRow;
use crate::domain::{ProductId, StoreId};
use crate::search::collector::{MatchFilter, Matches, SearchCollector, StockCondition, StockFirst};
use crate::search::columns::FastColumns;
use crate::search::expand::expand_words;
use crate::search::request::SortOrder;
use crate::search::schema::product_document;
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
        "CREATE TABLE products (id INTEGER PRIMARY KEY); CREATE TABLE inventory (store_id, product_id, quantity, held DEFAULT 0, low_stock_threshold DEFAULT 5);",
    )
    .expect("tables");
    for id in 1..=PRODUCTS {
        conn.execute("INSERT INTO products VALUES (?1)", [id]).expect("product");
        if id % 5 == 0 {
            conn.execute("INSERT INTO inventory (store_id, product_id, quantity) VALUES (1, ?1, ?2)", [id, id % 3])
                .expect("row");
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
