//! The in-memory stock view: per store, one dense array of *available* quantities indexed by
//! product id (on hand minus what active reservations hold, never below 0), plus per product
//! the number of stores with some available, and the low-stock thresholds that differ from the
//! default (few: only an admin sets one). Loaded from SQLite at start, updated by the writer
//! after every commit (before the client gets its response).
//!
//! The arrays hold what is available because that is what every search reads (`quantity`,
//! `in_stock`, `stock_first`) in its hot loop: a hold changes one slot, and no reader pays a
//! lookup for it. What is on hand and held is kept beside, only for the few (store, product)
//! pairs that hold something ([`Held`]); elsewhere on hand is the slot itself. Low stock is
//! judged on hand (`row_stock`), not on the slot.
//!
//! Stock is deliberately not in tantivy: it changes with every order, and re-indexing a
//! document per order would lag behind the commit and churn segments. Here an update is one
//! atomic store, and a search reads the same atomics inside its collector.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use arc_swap::ArcSwap;
use rusqlite::Connection;

use crate::db::records::{HeldChange, InventoryRemoval, StockChange, ThresholdChange};
use crate::db::store::listings::RowStock;
use crate::db::store::movements::DEFAULT_LOW_STOCK_THRESHOLD;
use crate::db::store::view_rows;
use crate::domain::{ProductId, StoreId};
use crate::error::Result;
use crate::locking::{lock, read, write};

pub mod saved;

/// A slot for a product the store has no inventory row for ("does not carry").
const NOT_CARRIED: u32 = u32::MAX;
/// Quantities are kept as `u32`; anything larger (no real shelf) is shown as this.
const MAX_QUANTITY: u32 = u32::MAX - 1;

/// One store's quantities, indexed by product id.
pub type StoreColumn = Arc<[AtomicU32]>;
/// The product ids one store carries, ascending.
pub type CarriedProducts = Arc<[u32]>;

/// A (store, product) pair that active reservations hold something of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    /// Units held (> 0).
    pub held: i64,
    /// Units on hand (the slot holds `max(0, on_hand - held)`).
    pub on_hand: i64,
}

type Holds = Arc<RwLock<HashMap<(StoreId, ProductId), Held>>>;

/// The arrays themselves. Replaced as a whole only when they must grow (a product id or a
/// store beyond what was loaded); otherwise updated in place, atomically.
pub struct StockTables {
    /// Length of every array: product ids below this have a slot.
    product_slots: usize,
    stores: HashMap<StoreId, StoreColumn>,
    /// Per store, the product ids it carries, ascending: a store browse walks this instead of
    /// every slot. Replaced (with the tables) only when a store starts carrying a product.
    carried: HashMap<StoreId, CarriedProducts>,
    /// Per product, how many stores have more than zero of it available.
    stores_in_stock: Arc<[AtomicU32]>,
    /// The pairs something is held of (shared by every copy of the tables, like the atomics).
    holds: Holds,
}

/// Per store, the low-stock thresholds that differ from [`DEFAULT_LOW_STOCK_THRESHOLD`], by
/// product id. Replaced whole on a change (thresholds change by hand, one at a time), so a
/// reader holds one consistent map.
#[derive(Default)]
pub struct Thresholds {
    stores: HashMap<StoreId, Arc<HashMap<u32, i64>>>,
}

impl Thresholds {
    /// One store's overrides, to look thresholds up while walking its products.
    pub fn store(&self, store_id: StoreId) -> StoreThresholds<'_> {
        StoreThresholds(self.stores.get(&store_id).map(|map| &**map))
    }

    fn set(&mut self, store_id: StoreId, product_id: i64, threshold: i64) {
        let Ok(product) = u32::try_from(product_id) else { return };
        let store = self.stores.entry(store_id).or_default();
        let map = Arc::make_mut(store);
        if threshold == DEFAULT_LOW_STOCK_THRESHOLD {
            map.remove(&product);
        } else {
            map.insert(product, threshold);
        }
    }
}

/// A store's thresholds (see [`Thresholds::store`]).
#[derive(Clone, Copy)]
pub struct StoreThresholds<'a>(Option<&'a HashMap<u32, i64>>);

impl StoreThresholds<'_> {
    /// The low-stock threshold of the store's row for `product_id`.
    #[inline]
    pub fn of(&self, product_id: u32) -> i64 {
        self.0.and_then(|map| map.get(&product_id).copied()).unwrap_or(DEFAULT_LOW_STOCK_THRESHOLD)
    }
}

/// A cheap clonable handle on the stock view.
#[derive(Clone)]
pub struct StockView {
    tables: Arc<ArcSwap<StockTables>>,
    thresholds: Arc<ArcSwap<Thresholds>>,
    /// Serialises writers (only the writer thread in practice); readers never take it.
    update: Arc<Mutex<()>>,
    /// Bumped after every applied batch of changes: a result computed from the view is
    /// only reusable while this has not moved (see `search::cache`).
    generation: Arc<AtomicU64>,
}

impl StockTables {
    fn empty(product_slots: usize) -> Self {
        Self {
            product_slots,
            stores: HashMap::new(),
            carried: HashMap::new(),
            stores_in_stock: zeroed(product_slots, 0),
            holds: Holds::default(),
        }
    }

    /// What the store has on hand and held of a product (`None`: it does not carry it).
    pub fn row_stock(&self, store_id: StoreId, product_id: ProductId) -> Option<RowStock> {
        let available = Self::quantity_in(self.store(store_id)?, u64::try_from(product_id.0).ok()?)?;
        Some(match read(&self.holds).get(&(store_id, product_id)) {
            Some(held) => RowStock { quantity: held.on_hand, held: held.held },
            None => RowStock { quantity: i64::from(available), held: 0 },
        })
    }

    /// What a store has on hand of each product active reservations hold something of (its
    /// slot holds less: what is available); every other carried product has its slot on hand.
    pub fn on_hand_of_held(&self, store_id: StoreId) -> HashMap<u32, i64> {
        read(&self.holds)
            .iter()
            .filter(|((store, _), _)| *store == store_id)
            .filter_map(|((_, product), held)| Some((u32::try_from(product.0).ok()?, held.on_hand)))
            .collect()
    }

    /// The slot's value for `on_hand` units of which the pair's holds take their share.
    fn slot_value(&self, store_id: StoreId, product_id: ProductId, on_hand: i64) -> i64 {
        let mut holds = write(&self.holds);
        match holds.get_mut(&(store_id, product_id)) {
            Some(held) => {
                held.on_hand = on_hand;
                (on_hand - held.held).max(0)
            }
            None => on_hand,
        }
    }

    /// Records what is held of a carried pair and sets its slot; a pair the store does not
    /// carry (a row deleted under a hold) only has its holds forgotten.
    fn set_held(&self, change: &HeldChange) {
        let pair = (change.store_id, change.product_id);
        let slot = self.store(change.store_id).zip(index_of(change.product_id.0)).and_then(|(column, index)| {
            let value = column.get(index)?.load(Ordering::Relaxed);
            (value != NOT_CARRIED).then_some((column, index, value))
        });
        let mut holds = write(&self.holds);
        let Some((column, index, value)) = slot else {
            holds.remove(&pair);
            return;
        };
        let on_hand = holds.get(&pair).map_or(i64::from(value), |held| held.on_hand);
        if change.held > 0 {
            holds.insert(pair, Held { held: change.held, on_hand });
        } else {
            holds.remove(&pair);
        }
        drop(holds);
        self.store_slot(column, index, quantity_slot((on_hand - change.held.max(0)).max(0)));
    }

    /// A store's column, if it has any inventory row.
    pub fn store(&self, store_id: StoreId) -> Option<&StoreColumn> {
        self.stores.get(&store_id)
    }

    /// Whether the product is in stock in at least one store.
    pub fn in_stock_anywhere(&self, product_id: u64) -> bool {
        slot(&self.stores_in_stock, product_id).is_some_and(|count| count.load(Ordering::Relaxed) > 0)
    }

    /// The store's quantity of a product; `None` when it does not carry it.
    pub fn quantity_in(column: &[AtomicU32], product_id: u64) -> Option<u32> {
        slot(column, product_id).map(|value| value.load(Ordering::Relaxed)).filter(|value| *value != NOT_CARRIED)
    }

    /// The product ids a store carries, ascending (`None`: it carries nothing).
    pub fn carried(&self, store_id: StoreId) -> Option<&CarriedProducts> {
        self.carried.get(&store_id)
    }

    /// Recomputes one store's carried list from its column.
    fn refresh_carried(&mut self, store_id: StoreId) {
        let Some(column) = self.stores.get(&store_id) else {
            return;
        };
        let carried: CarriedProducts = column
            .iter()
            .enumerate()
            .filter(|(_, value)| value.load(Ordering::Relaxed) != NOT_CARRIED)
            .map(|(index, _)| u32::try_from(index).expect("index_of keeps slots below u32::MAX"))
            .collect();
        self.carried.insert(store_id, carried);
    }

    /// The same arrays (shared: they are live atomics) with copies of the maps, to replace
    /// the carried lists.
    fn shallow_copy(&self) -> Self {
        Self {
            product_slots: self.product_slots,
            stores: self.stores.clone(),
            carried: self.carried.clone(),
            stores_in_stock: self.stores_in_stock.clone(),
            holds: Arc::clone(&self.holds),
        }
    }

    /// Whether applying `change` would make its store carry a product it did not.
    fn starts_carrying(&self, change: &StockChange) -> bool {
        let Some(column) = self.stores.get(&change.store_id) else {
            return true;
        };
        let slot = index_of(change.product_id.0).and_then(|index| column.get(index));
        slot.is_none_or(|value| value.load(Ordering::Relaxed) == NOT_CARRIED)
    }

    fn fits(&self, change: &StockChange) -> bool {
        index_of(change.product_id.0).is_some_and(|index| index < self.product_slots)
            && self.stores.contains_key(&change.store_id)
    }

    /// Tables with room for `change`. A new store only adds a column (the others are shared:
    /// they are live atomics either way); more product slots copy every array.
    fn grown_for(&self, change: &StockChange) -> Self {
        let needed = index_of(change.product_id.0).map_or(0, |index| index + 1);
        if needed <= self.product_slots {
            let mut stores = self.stores.clone();
            stores.entry(change.store_id).or_insert_with(|| zeroed(self.product_slots, NOT_CARRIED));
            return Self {
                product_slots: self.product_slots,
                stores,
                carried: self.carried.clone(),
                stores_in_stock: self.stores_in_stock.clone(),
                holds: Arc::clone(&self.holds),
            };
        }
        let product_slots = with_headroom(needed);
        let copy = |column: &[AtomicU32], fill: u32| -> Arc<[AtomicU32]> {
            (0..product_slots)
                .map(|i| AtomicU32::new(column.get(i).map_or(fill, |value| value.load(Ordering::Relaxed))))
                .collect()
        };
        let mut stores: HashMap<StoreId, StoreColumn> =
            self.stores.iter().map(|(id, column)| (*id, copy(column, NOT_CARRIED))).collect();
        stores.entry(change.store_id).or_insert_with(|| zeroed(product_slots, NOT_CARRIED));
        Self {
            product_slots,
            stores,
            carried: self.carried.clone(),
            stores_in_stock: copy(&self.stores_in_stock, 0),
            holds: Arc::clone(&self.holds),
        }
    }

    /// Sets one on-hand quantity (its slot: what of it is available) and keeps the
    /// in-any-store count in step.
    fn set(&self, change: &StockChange) {
        let column = self.stores.get(&change.store_id).expect("callers grow the tables first");
        let index = index_of(change.product_id.0).expect("callers grow the tables first");
        let available = self.slot_value(change.store_id, change.product_id, change.quantity);
        self.store_slot(column, index, quantity_slot(available));
    }

    /// Marks a product as not carried by a store; false when the store did not carry it.
    fn uncarry(&self, removal: &InventoryRemoval) -> bool {
        let Some(column) = self.stores.get(&removal.store_id) else {
            return false;
        };
        let Some(index) = index_of(removal.product_id.0).filter(|index| *index < column.len()) else {
            return false;
        };
        self.store_slot(column, index, NOT_CARRIED)
    }

    /// Stores `new` in a slot, keeping the in-any-store count in step; returns whether the
    /// slot held a carried quantity before.
    fn store_slot(&self, column: &[AtomicU32], index: usize, new: u32) -> bool {
        let old = column[index].swap(new, Ordering::Relaxed);
        let was_in_stock = old != NOT_CARRIED && old > 0;
        let is_in_stock = new != NOT_CARRIED && new > 0;
        match (was_in_stock, is_in_stock) {
            (false, true) => {
                self.stores_in_stock[index].fetch_add(1, Ordering::Relaxed);
            }
            (true, false) => {
                self.stores_in_stock[index].fetch_sub(1, Ordering::Relaxed);
            }
            _ => {}
        }
        old != NOT_CARRIED
    }
}

impl StockView {
    /// Loads every inventory row. Memory is 4 bytes per (store with inventory, product id).
    pub fn load(conn: &Connection) -> Result<Self> {
        let max_product_id = view_rows::max_product_id(conn)?;
        let mut tables = StockTables::empty(with_headroom(index_of(max_product_id).map_or(0, |i| i + 1)));
        view_rows::for_each_inventory_row(conn, |change| {
            if !tables.fits(&change) {
                tables = tables.grown_for(&change);
            }
            tables.set(&change);
            Ok(())
        })?;
        let store_ids: Vec<StoreId> = tables.stores.keys().copied().collect();
        for store_id in store_ids {
            tables.refresh_carried(store_id);
        }
        view_rows::for_each_held_row(conn, |change| {
            tables.set_held(&change);
            Ok(())
        })?;
        let mut thresholds = Thresholds::default();
        view_rows::for_each_low_stock_override(conn, DEFAULT_LOW_STOCK_THRESHOLD, |change| {
            thresholds.set(change.store_id, change.product_id.0, change.threshold);
            Ok(())
        })?;
        Ok(Self {
            tables: Arc::new(ArcSwap::from_pointee(tables)),
            thresholds: Arc::new(ArcSwap::from_pointee(thresholds)),
            update: Arc::new(Mutex::new(())),
            generation: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The current tables. Values read through them are live; the snapshot only fixes which
    /// arrays exist.
    pub fn tables(&self) -> Arc<StockTables> {
        self.tables.load_full()
    }

    /// Applies committed stock changes (absolute quantities, so replays are harmless).
    pub fn apply(&self, changes: &[StockChange]) {
        let _writer = lock(&self.update);
        for change in changes {
            let current = self.tables.load();
            if current.fits(change) && !current.starts_carrying(change) {
                current.set(change);
            } else if index_of(change.product_id.0).is_some() {
                // Rare (a new inventory row): new tables, so the carried list can change too.
                let mut grown = current.grown_for(change);
                grown.set(change);
                grown.refresh_carried(change.store_id);
                self.tables.store(Arc::new(grown));
            }
        }
        if !changes.is_empty() {
            // Release: whoever sees the new generation also sees the quantities stored above.
            self.generation.fetch_add(1, Ordering::Release);
        }
    }

    /// The low-stock thresholds (those not at the default).
    pub fn thresholds(&self) -> Arc<Thresholds> {
        self.thresholds.load_full()
    }

    /// Applies committed changes of what reservations hold (absolute, so replays are
    /// harmless): each pair's slot becomes what is available of its on hand.
    pub fn apply_held(&self, changes: &[HeldChange]) {
        if changes.is_empty() {
            return;
        }
        let _writer = lock(&self.update);
        let current = self.tables.load();
        for change in changes {
            current.set_held(change);
        }
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Applies committed threshold changes.
    pub fn apply_thresholds(&self, changes: &[ThresholdChange]) {
        if changes.is_empty() {
            return;
        }
        let _writer = lock(&self.update);
        let current = self.thresholds.load_full();
        let mut next = Thresholds { stores: current.stores.clone() };
        for change in changes {
            next.set(change.store_id, change.product_id.0, change.threshold);
        }
        self.thresholds.store(Arc::new(next));
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Forgets deleted inventory rows: the store no longer carries those products, so a
    /// store browse must not list them (and a product id SQLite reuses starts uncarried, at
    /// the default threshold).
    pub fn remove(&self, removals: &[InventoryRemoval]) {
        if removals.is_empty() {
            return;
        }
        let _writer = lock(&self.update);
        let thresholds = self.thresholds.load_full();
        if removals.iter().any(|r| thresholds.store(r.store_id).of(removal_slot(r)) != DEFAULT_LOW_STOCK_THRESHOLD) {
            let mut next = Thresholds { stores: thresholds.stores.clone() };
            for removal in removals {
                next.set(removal.store_id, removal.product_id.0, DEFAULT_LOW_STOCK_THRESHOLD);
            }
            self.thresholds.store(Arc::new(next));
        }
        let current = self.tables.load_full();
        {
            let mut holds = write(&current.holds);
            for removal in removals {
                holds.remove(&(removal.store_id, removal.product_id));
            }
        }
        let mut touched: Vec<StoreId> = removals.iter().filter(|r| current.uncarry(r)).map(|r| r.store_id).collect();
        touched.sort_unstable();
        touched.dedup();
        if !touched.is_empty() {
            let mut tables = current.shallow_copy();
            for store_id in touched {
                tables.refresh_carried(store_id);
            }
            self.tables.store(Arc::new(tables));
        }
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Changes with every applied batch of stock changes.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The quantity a store has on hand of a product (`None`: not carried). For tests and tools.
    pub fn quantity(&self, store_id: StoreId, product_id: ProductId) -> Option<u32> {
        let stock = self.tables().row_stock(store_id, product_id)?;
        Some(quantity_slot(stock.quantity))
    }

    /// The quantity a store has available of a product (`None`: not carried). For tests and tools.
    pub fn available(&self, store_id: StoreId, product_id: ProductId) -> Option<u32> {
        let tables = self.tables();
        let column = tables.store(store_id)?;
        StockTables::quantity_in(column, u64::try_from(product_id.0).ok()?)
    }
}

/// A removal's product as a threshold key (an id no map can hold is at the default anyway).
fn removal_slot(removal: &InventoryRemoval) -> u32 {
    u32::try_from(removal.product_id.0).unwrap_or(u32::MAX)
}

fn zeroed(len: usize, fill: u32) -> Arc<[AtomicU32]> {
    (0..len).map(|_| AtomicU32::new(fill)).collect()
}

fn slot(column: &[AtomicU32], product_id: u64) -> Option<&AtomicU32> {
    column.get(usize::try_from(product_id).ok()?)
}

/// Array index of a product id; `None` for ids no array can hold (negative or absurd).
fn index_of(product_id: i64) -> Option<usize> {
    usize::try_from(product_id).ok().filter(|index| *index < u32::MAX as usize)
}

/// Room for a few thousand new products before the arrays must be copied again.
fn with_headroom(slots: usize) -> usize {
    slots + slots / 16 + 1024
}

fn quantity_slot(quantity: i64) -> u32 {
    u32::try_from(quantity.max(0)).unwrap_or(MAX_QUANTITY).min(MAX_QUANTITY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(store: i64, product: i64, quantity: i64) -> StockChange {
        StockChange { store_id: StoreId(store), product_id: ProductId(product), quantity }
    }

    fn view() -> StockView {
        let conn = Connection::open_in_memory().expect("in-memory db");
        conn.execute_batch("CREATE TABLE products (id INTEGER PRIMARY KEY); INSERT INTO products VALUES (1), (2);")
            .expect("products");
        conn.execute_batch("CREATE TABLE inventory (store_id, product_id, quantity, held DEFAULT 0, low_stock_threshold DEFAULT 5); INSERT INTO inventory (store_id, product_id, quantity, low_stock_threshold) VALUES (1, 1, 3, 5), (2, 1, 0, 9);")
            .expect("inventory");
        StockView::load(&conn).expect("load")
    }

    #[test]
    fn loads_quantities_and_tells_carried_from_not_carried() {
        let view = view();
        assert_eq!(view.quantity(StoreId(1), ProductId(1)), Some(3));
        assert_eq!(view.quantity(StoreId(2), ProductId(1)), Some(0));
        assert_eq!(view.quantity(StoreId(1), ProductId(2)), None);
        assert_eq!(view.quantity(StoreId(9), ProductId(1)), None);
        assert!(view.tables().in_stock_anywhere(1));
        assert!(!view.tables().in_stock_anywhere(2));
    }

    #[test]
    fn the_in_any_store_count_follows_every_change() {
        let view = view();
        view.apply(&[change(1, 1, 0)]);
        assert!(!view.tables().in_stock_anywhere(1));
        view.apply(&[change(2, 1, 5), change(2, 1, 5)]);
        assert!(view.tables().in_stock_anywhere(1));
        view.apply(&[change(2, 1, 0)]);
        assert!(!view.tables().in_stock_anywhere(1), "a replayed change counts once");
    }

    #[test]
    fn new_stores_and_products_beyond_the_arrays_grow_them() {
        let view = view();
        view.apply(&[change(7, 5000, 2)]);
        assert_eq!(view.quantity(StoreId(7), ProductId(5000)), Some(2));
        assert_eq!(view.quantity(StoreId(1), ProductId(1)), Some(3), "existing values are copied");
        assert!(view.tables().in_stock_anywhere(5000));
    }

    #[test]
    fn removed_inventory_is_no_longer_carried_nor_counted() {
        let view = view();
        view.remove(&[InventoryRemoval { store_id: StoreId(1), product_id: ProductId(1) }]);
        assert_eq!(view.quantity(StoreId(1), ProductId(1)), None);
        assert!(!view.tables().in_stock_anywhere(1), "store 1 held the only units");
        assert_eq!(view.tables().carried(StoreId(1)).map(|ids| ids.to_vec()), Some(vec![]));
        view.apply(&[change(1, 1, 2)]);
        assert_eq!(view.tables().carried(StoreId(1)).map(|ids| ids.to_vec()), Some(vec![1]), "carried again");
    }

    fn held(store: i64, product: i64, held: i64) -> HeldChange {
        HeldChange { store_id: StoreId(store), product_id: ProductId(product), held }
    }

    #[test]
    fn holds_lower_what_is_available_and_leave_on_hand_alone() {
        let view = view();
        view.apply_held(&[held(1, 1, 2)]);
        assert_eq!(
            (view.quantity(StoreId(1), ProductId(1)), view.available(StoreId(1), ProductId(1))),
            (Some(3), Some(1))
        );
        view.apply(&[change(1, 1, 1)]);
        assert_eq!(view.available(StoreId(1), ProductId(1)), Some(0), "on hand below held: nothing available");
        assert!(!view.tables().in_stock_anywhere(1), "in stock anywhere counts what is available");
        assert_eq!(view.tables().row_stock(StoreId(1), ProductId(1)), Some(RowStock { quantity: 1, held: 2 }));
        view.apply_held(&[held(1, 1, 0)]);
        assert_eq!(view.available(StoreId(1), ProductId(1)), Some(1), "released: all on hand is available");
        assert!(view.tables().in_stock_anywhere(1));
        assert_eq!(view.tables().row_stock(StoreId(1), ProductId(1)), Some(RowStock { quantity: 1, held: 0 }));
    }

    #[test]
    fn a_hold_and_a_stock_change_in_one_batch_agree_in_either_order() {
        let (first, second) = (view(), view());
        first.apply(&[change(1, 1, 2)]);
        first.apply_held(&[held(1, 1, 1)]);
        second.apply_held(&[held(1, 1, 1)]);
        second.apply(&[change(1, 1, 2)]);
        for view in [first, second] {
            assert_eq!(view.tables().row_stock(StoreId(1), ProductId(1)), Some(RowStock { quantity: 2, held: 1 }));
            assert_eq!(view.available(StoreId(1), ProductId(1)), Some(1));
        }
    }

    #[test]
    fn thresholds_load_follow_changes_and_go_with_their_rows() {
        let view = view();
        assert_eq!(view.thresholds().store(StoreId(2)).of(1), 9, "loaded");
        assert_eq!(view.thresholds().store(StoreId(1)).of(1), 5, "the default");
        let set = |store, product, threshold| ThresholdChange {
            store_id: StoreId(store),
            product_id: ProductId(product),
            threshold,
        };
        view.apply_thresholds(&[set(1, 1, 0), set(2, 1, 5)]);
        assert_eq!((view.thresholds().store(StoreId(1)).of(1), view.thresholds().store(StoreId(2)).of(1)), (0, 5));
        view.remove(&[InventoryRemoval { store_id: StoreId(1), product_id: ProductId(1) }]);
        assert_eq!(view.thresholds().store(StoreId(1)).of(1), 5, "a deleted row's threshold goes with it");
    }

    #[test]
    fn carried_lists_follow_new_inventory_rows() {
        let view = view();
        assert_eq!(view.tables().carried(StoreId(1)).map(|ids| ids.to_vec()), Some(vec![1]));
        view.apply(&[change(1, 2, 4), change(1, 1, 0)]);
        assert_eq!(view.tables().carried(StoreId(1)).map(|ids| ids.to_vec()), Some(vec![1, 2]));
        assert_eq!(view.tables().carried(StoreId(9)), None);
    }
}
