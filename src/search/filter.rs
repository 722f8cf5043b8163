//! What a match must satisfy besides the text query: category, price range and stock, the
//! last answered from the live stock view while collecting.

use std::ops::RangeInclusive;
use std::sync::Arc;

use super::stock::{CarriedProducts, StockTables, StoreColumn};

/// Which stock a match must have, answered from the in-memory stock view.
#[derive(Clone)]
pub enum StockCondition {
    /// No stock condition: every product passes.
    Unfiltered,
    /// The store carries the product (`column: None`: the store carries nothing); `in_stock`
    /// narrows to quantity > 0 (`true`) or = 0 (`false`).
    Store {
        /// The store's quantities (`None`: it carries nothing).
        column: Option<StoreColumn>,
        /// The products the store carries (from the same tables as `column`).
        carried: Option<CarriedProducts>,
        /// `Some(true)`: quantity > 0; `Some(false)`: quantity = 0.
        in_stock: Option<bool>,
    },
    /// In stock (`true`) or out of stock (`false`) in every store at once.
    AnyStore {
        /// The whole stock view, read once for the search.
        tables: Arc<StockTables>,
        /// `true`: in stock somewhere; `false`: in stock nowhere.
        in_stock: bool,
    },
}

impl StockCondition {
    /// `None`: the product does not pass; `Some(quantity)` (quantity only for a store filter).
    #[inline(always)]
    pub(super) fn admits(&self, product_id: u64) -> Option<Option<u32>> {
        match self {
            Self::Unfiltered => Some(None),
            Self::Store { column, in_stock, .. } => {
                let quantity = StockTables::quantity_in(column.as_deref()?, product_id)?;
                in_stock.is_none_or(|wanted| wanted == (quantity > 0)).then_some(Some(quantity))
            }
            Self::AnyStore { tables, in_stock } => (tables.in_stock_anywhere(product_id) == *in_stock).then_some(None),
        }
    }
}

/// `stock_first=true`: which group a product sorts in, answered from the live stock view, so
/// an order that empties a product moves it at once, without touching the index.
#[derive(Clone)]
pub enum StockFirst {
    /// Plain `sort`, stock not considered.
    Off,
    /// In stock in this store (`None`: the store carries nothing).
    Store(Option<StoreColumn>),
    /// In stock in any store.
    Anywhere(Arc<StockTables>),
}

impl StockFirst {
    /// 0 for products that go first (in stock, or everything when off), 1 for the rest.
    #[inline(always)]
    pub(super) fn group(&self, product_id: u64) -> u64 {
        let in_stock = match self {
            Self::Off => true,
            Self::Store(column) => column
                .as_deref()
                .and_then(|column| StockTables::quantity_in(column, product_id))
                .is_some_and(|quantity| quantity > 0),
            Self::Anywhere(tables) => tables.in_stock_anywhere(product_id),
        };
        u64::from(!in_stock)
    }
}

/// Everything a match must satisfy besides the text query.
#[derive(Clone)]
pub struct MatchFilter {
    /// Only this category (`None`: any).
    pub category_id: Option<u64>,
    /// The price range in cents (everything when unfiltered).
    pub price_cents: RangeInclusive<u64>,
    /// The stock a match must have.
    pub stock: StockCondition,
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;
    use crate::domain::StoreId;
    use crate::search::stock::StockView;

    /// Store 1 has product 1 (3 units) and product 2 (none); product 3 is carried nowhere.
    fn tables() -> Arc<StockTables> {
        let conn = Connection::open_in_memory().expect("in-memory db");
        conn.execute_batch(
            "CREATE TABLE products (id INTEGER PRIMARY KEY); INSERT INTO products VALUES (1), (2), (3);
             CREATE TABLE inventory (store_id, product_id, quantity, held DEFAULT 0, low_stock_threshold DEFAULT 5);
             INSERT INTO inventory (store_id, product_id, quantity) VALUES (1, 1, 3), (1, 2, 0);",
        )
        .expect("fixture");
        StockView::load(&conn).expect("load").tables()
    }

    #[test]
    fn a_store_filter_passes_carried_products_with_their_quantity() {
        let tables = tables();
        let column = tables.store(StoreId(1)).cloned();
        let carried = StockCondition::Store { column: column.clone(), carried: None, in_stock: None };
        assert_eq!((carried.admits(1), carried.admits(2), carried.admits(3)), (Some(Some(3)), Some(Some(0)), None));
        let in_stock = StockCondition::Store { column: column.clone(), carried: None, in_stock: Some(true) };
        assert_eq!((in_stock.admits(1), in_stock.admits(2)), (Some(Some(3)), None));
        let out_of_stock = StockCondition::Store { column, carried: None, in_stock: Some(false) };
        assert_eq!((out_of_stock.admits(1), out_of_stock.admits(2)), (None, Some(Some(0))));
        assert_eq!(StockCondition::Store { column: None, carried: None, in_stock: None }.admits(1), None);
    }

    #[test]
    fn without_a_store_in_stock_means_in_any_store() {
        let tables = tables();
        let anywhere = StockCondition::AnyStore { tables: tables.clone(), in_stock: true };
        let nowhere = StockCondition::AnyStore { tables, in_stock: false };
        assert_eq!((anywhere.admits(1), anywhere.admits(2), anywhere.admits(3)), (Some(None), None, None));
        assert_eq!((nowhere.admits(1), nowhere.admits(2), nowhere.admits(3)), (None, Some(None), Some(None)));
    }

    #[test]
    fn stock_first_puts_in_stock_products_in_group_zero() {
        let tables = tables();
        let in_store = StockFirst::Store(tables.store(StoreId(1)).cloned());
        assert_eq!((in_store.group(1), in_store.group(2), in_store.group(3)), (0, 1, 1));
        let anywhere = StockFirst::Anywhere(tables);
        assert_eq!((anywhere.group(1), anywhere.group(2), anywhere.group(3)), (0, 1, 1));
        assert_eq!(StockFirst::Off.group(3), 0);
    }
}
