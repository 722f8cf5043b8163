//! The stock view saved at a clean stop (`views/stock.view`) and read back at the next start
//! when no stock has moved since: stamped with the catalog watermark, the newest commit of
//! the commit log (every commit that moves stock logs one) and the data folder lock's token of
//! the `serve` that saved it, so one order, one inventory edit, one catalog change or any
//! command that took the lock in between (`load prepare` rewrites quantities without a
//! logged commit) makes it stale and the start loads from SQLite instead.
//! See [`crate::view_files`] for the file itself.
//!
//! Sections: the product slots, the store ids, per store where its rows start, then every
//! store's carried product ids and their quantity slots (the same `u32` values the view holds),
//! then the low-stock thresholds that differ from the default as three parallel columns (store
//! id, product id, threshold): a threshold change logs a commit, so the stamp covers them too;
//! then the pairs active reservations hold something of as four parallel columns (store id,
//! product id, held, on hand): the slots hold what is *available*, so on hand and held of those
//! pairs live beside them and are saved beside them. A hold, a release and an expiry log a
//! commit too; a hold whose time ran out while the server was down is expired (a logged commit)
//! by the start before the view is opened, so a saved view never counts it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use rusqlite::Connection;

use super::{Held, Holds, NOT_CARRIED, StockTables, StockView, Thresholds, zeroed};
use crate::db::outbox::commit_log::latest_seq;
use crate::db::store::catalog::catalog_watermark;
use crate::domain::{ProductId, StoreId};
use crate::error::Result;
use crate::view_files::{self, Section, Unusable};

/// Bumped whenever the sections below change meaning.
pub const FORMAT: u32 = 3;
/// The file under the views folder.
pub const FILE_NAME: &str = "stock.view";

/// What the stock view of this database state is stamped with: its lineage, catalog version
/// and newest logged commit, read in one snapshot.
pub fn stock_stamp(conn: &Connection) -> Result<String> {
    let snapshot = conn.unchecked_transaction()?;
    let catalog = catalog_watermark(&snapshot)?;
    let commit = latest_seq(&snapshot)?;
    Ok(format!("lineage {} catalog {} commit {commit}", catalog.lineage, catalog.version))
}

impl StockView {
    /// Writes the view to `path` under `stamp` (atomically); returns the bytes written. Call
    /// it when nothing can commit (the writer has stopped), so the stamp says what it holds.
    pub fn save(&self, path: &Path, stamp: &str) -> std::io::Result<u64> {
        let _writer = crate::locking::lock(&self.update);
        let tables = self.tables();
        let mut store_ids: Vec<StoreId> = tables.stores.keys().copied().collect();
        store_ids.sort_unstable();
        let (mut starts, mut products, mut quantities) = (vec![0_u32], Vec::new(), Vec::new());
        for store_id in &store_ids {
            let column = &tables.stores[store_id];
            for (index, slot) in column.iter().enumerate() {
                let value = slot.load(Ordering::Relaxed);
                if value != NOT_CARRIED {
                    products.push(u32::try_from(index).expect("slots stay below u32::MAX"));
                    quantities.push(value);
                }
            }
            starts.push(u32::try_from(products.len()).map_err(|_| std::io::Error::other("too many stock rows"))?);
        }
        let ids: Vec<i64> = store_ids.iter().map(|id| id.0).collect();
        let (mut threshold_stores, mut threshold_products, mut threshold_values) = (Vec::new(), Vec::new(), Vec::new());
        let thresholds = self.thresholds();
        for (store_id, overrides) in &thresholds.stores {
            for (product, threshold) in overrides.iter() {
                threshold_stores.push(store_id.0);
                threshold_products.push(*product);
                threshold_values.push(*threshold);
            }
        }
        let (mut held_stores, mut held_products, mut held_values, mut held_on_hand) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for ((store_id, product_id), held) in crate::locking::read(&tables.holds).iter() {
            held_stores.push(store_id.0);
            held_products.push(product_id.0);
            held_values.push(held.held);
            held_on_hand.push(held.on_hand);
        }
        view_files::write(
            path,
            FORMAT,
            stamp,
            &[
                Section::I64s(&[i64::try_from(tables.product_slots).unwrap_or(i64::MAX)]),
                Section::I64s(&ids),
                Section::U32s(&starts),
                Section::U32s(&products),
                Section::U32s(&quantities),
                Section::I64s(&threshold_stores),
                Section::U32s(&threshold_products),
                Section::I64s(&threshold_values),
                Section::I64s(&held_stores),
                Section::I64s(&held_products),
                Section::I64s(&held_values),
                Section::I64s(&held_on_hand),
            ],
        )
    }

    /// The view saved at `path`, if it is whole and stamped `expected`.
    pub fn open_saved(path: &Path, expected: &str) -> std::result::Result<Self, Unusable> {
        let file = view_files::open(path, FORMAT, expected)?;
        let damaged = || Unusable::Damaged("stock sections");
        let slots = file.i64s(0).and_then(|slots| slots.first().copied()).ok_or_else(damaged)?;
        let product_slots =
            usize::try_from(slots).ok().filter(|slots| *slots < u32::MAX as usize).ok_or_else(damaged)?;
        let (ids, starts) = (file.i64s(1).ok_or_else(damaged)?, file.u32s(2).ok_or_else(damaged)?);
        let (products, quantities) = (file.u32s(3).ok_or_else(damaged)?, file.u32s(4).ok_or_else(damaged)?);
        let threshold_stores = file.i64s(5).ok_or_else(damaged)?;
        let (threshold_products, threshold_values) =
            (file.u32s(6).ok_or_else(damaged)?, file.i64s(7).ok_or_else(damaged)?);
        let (held_stores, held_products) = (file.i64s(8).ok_or_else(damaged)?, file.i64s(9).ok_or_else(damaged)?);
        let (held_values, held_on_hand) = (file.i64s(10).ok_or_else(damaged)?, file.i64s(11).ok_or_else(damaged)?);
        if file.section_count() != 12
            || held_stores.len() != held_products.len()
            || held_stores.len() != held_values.len()
            || held_stores.len() != held_on_hand.len()
            || threshold_stores.len() != threshold_products.len()
            || threshold_stores.len() != threshold_values.len()
            || starts.len() != ids.len() + 1
            || starts.first() != Some(&0)
            || !starts.windows(2).all(|pair| pair[0] <= pair[1])
            || starts.last().map(|last| *last as usize) != Some(products.len())
            || products.len() != quantities.len()
            || products.iter().any(|product| *product as usize >= product_slots)
        {
            return Err(damaged());
        }
        let mut tables = StockTables {
            product_slots,
            stores: HashMap::with_capacity(ids.len()),
            carried: HashMap::with_capacity(ids.len()),
            stores_in_stock: zeroed(product_slots, 0),
            holds: Holds::default(),
        };
        {
            let mut holds = crate::locking::write(&tables.holds);
            for (((store_id, product_id), held), on_hand) in
                held_stores.into_iter().zip(held_products).zip(held_values).zip(held_on_hand)
            {
                holds.insert((StoreId(store_id), ProductId(product_id)), Held { held, on_hand });
            }
        }
        for (position, id) in ids.iter().enumerate() {
            let rows = starts[position] as usize..starts[position + 1] as usize;
            let carried = &products[rows.clone()];
            if !carried.windows(2).all(|pair| pair[0] < pair[1]) {
                return Err(damaged());
            }
            let column = zeroed(product_slots, NOT_CARRIED);
            for (product, quantity) in carried.iter().zip(&quantities[rows]) {
                column[*product as usize].store(*quantity, Ordering::Relaxed);
                if *quantity != NOT_CARRIED && *quantity > 0 {
                    tables.stores_in_stock[*product as usize].fetch_add(1, Ordering::Relaxed);
                }
            }
            tables.stores.insert(StoreId(*id), column);
            tables.carried.insert(StoreId(*id), Arc::from(carried));
        }
        let mut thresholds = Thresholds::default();
        for ((store_id, product), threshold) in threshold_stores.iter().zip(threshold_products).zip(threshold_values) {
            thresholds.set(StoreId(*store_id), i64::from(product), threshold);
        }
        Ok(Self {
            tables: Arc::new(ArcSwap::from_pointee(tables)),
            thresholds: Arc::new(ArcSwap::from_pointee(thresholds)),
            update: Arc::new(Mutex::new(())),
            generation: Arc::new(AtomicU64::new(0)),
        })
    }
}

/// The slots of one column, for tests comparing two views.
#[cfg(test)]
fn column_values(column: &[std::sync::atomic::AtomicU32]) -> Vec<u32> {
    column.iter().map(|slot| slot.load(Ordering::Relaxed)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::records::{HeldChange, StockChange};
    use crate::db::store::listings::RowStock;
    use crate::domain::ProductId;

    #[test]
    fn a_saved_view_reads_back_with_the_same_quantities_carried_lists_thresholds_and_holds() {
        let conn = Connection::open_in_memory().expect("in-memory db");
        conn.execute_batch(
            "CREATE TABLE products (id INTEGER PRIMARY KEY); INSERT INTO products VALUES (1), (2), (3);
             CREATE TABLE inventory (store_id, product_id, quantity, low_stock_threshold, held);
             INSERT INTO inventory VALUES (1, 1, 3, 5, 0), (2, 1, 0, 12, 0), (2, 3, 7, 0, 4);",
        )
        .expect("rows");
        let view = StockView::load(&conn).expect("load");
        view.apply(&[StockChange { store_id: StoreId(1), product_id: ProductId(2), quantity: 5 }]);
        view.apply_held(&[HeldChange { store_id: StoreId(1), product_id: ProductId(1), held: 2 }]);
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(FILE_NAME);
        view.save(&path, "stamp").expect("save");
        let read = StockView::open_saved(&path, "stamp").expect("open");
        let (before, after) = (view.tables(), read.tables());
        assert_eq!(after.product_slots, before.product_slots);
        for store in [1, 2] {
            let id = StoreId(store);
            assert_eq!(column_values(&after.stores[&id]), column_values(&before.stores[&id]), "store {store}");
            assert_eq!(after.carried(id).map(|ids| ids.to_vec()), before.carried(id).map(|ids| ids.to_vec()));
        }
        assert_eq!(column_values(&after.stores_in_stock), column_values(&before.stores_in_stock));
        let thresholds = read.thresholds();
        assert_eq!(
            [
                thresholds.store(StoreId(1)).of(1),
                thresholds.store(StoreId(2)).of(1),
                thresholds.store(StoreId(2)).of(3)
            ],
            [5, 12, 0]
        );
        // The held pairs' on hand and held come back beside their (available) slots.
        assert_eq!(read.available(StoreId(1), ProductId(1)), Some(1));
        assert_eq!(read.available(StoreId(2), ProductId(3)), Some(3));
        for (store, product, quantity, held) in [(1, 1, 3, 2), (2, 3, 7, 4), (1, 2, 5, 0)] {
            assert_eq!(
                after.row_stock(StoreId(store), ProductId(product)),
                Some(RowStock { quantity, held }),
                "store {store}, product {product}"
            );
        }
        assert!(matches!(StockView::open_saved(&path, "other"), Err(Unusable::OtherStamp { .. })));
    }
}
