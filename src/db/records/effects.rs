//! What a write changed, in one place: each named write returns its [`CommitEffects`] with its
//! value ([`Written`]); the writer merges a batch's effects and, after the commit is durable,
//! hands them to every [`CommitObserver`] (the search index with its stock view, autocomplete,
//! the job queue) before any reply goes out.

use super::job::HandedJob;
use crate::domain::{ProductId, StoreId};

/// A store's stock of one product after a commit changed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockChange {
    /// The store whose stock changed.
    pub store_id: StoreId,
    /// The product whose stock changed.
    pub product_id: ProductId,
    /// The new quantity (absolute, not a delta, so applying it twice is harmless).
    pub quantity: i64,
}

/// What the active reservations hold of a store's product after a commit changed it (a hold,
/// a release, an order taking its reservation, an expiry). On hand is unchanged by it; the
/// views lower what is *available* by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldChange {
    /// The store whose stock is held.
    pub store_id: StoreId,
    /// The product held.
    pub product_id: ProductId,
    /// Units now held (absolute, as `inventory.held` stores it, so applying it twice is harmless).
    pub held: i64,
}

/// A low-stock threshold a commit set (no quantity changed with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThresholdChange {
    /// The store whose row changed.
    pub store_id: StoreId,
    /// The product whose row changed.
    pub product_id: ProductId,
    /// The new threshold.
    pub threshold: i64,
}

/// An inventory row that a commit deleted: the store no longer carries the product at all
/// (which a quantity of 0 cannot say).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InventoryRemoval {
    /// The store that stopped carrying the product.
    pub store_id: StoreId,
    /// The product no longer carried there.
    pub product_id: ProductId,
}

/// What a write (and then a whole committed batch) changed, for the views derived from the
/// database.
#[derive(Debug, Default, Clone)]
pub struct CommitEffects {
    /// New stock levels (orders, cancels, admin stock edits): the stock view applies them.
    pub stock_changes: Vec<StockChange>,
    /// Low-stock thresholds set: the stock view keeps them for the listing's `low_stock`.
    pub threshold_changes: Vec<ThresholdChange>,
    /// Inventory rows deleted (with their product, by the admin API).
    pub removed_inventory: Vec<InventoryRemoval>,
    /// New held quantities (reservations granted, released, used or expired): the stock view
    /// lowers what is available by them.
    pub held_changes: Vec<HeldChange>,
    /// Products created, edited or deleted: search and suggest re-read them.
    pub changed_products: Vec<ProductId>,
    /// A category was created, renamed or deleted: search results name categories, so cached
    /// results must go even when no product changed.
    pub categories_changed: bool,
    /// Jobs queued by the batch: the workers wake up for them instead of waiting for a poll.
    pub enqueued_jobs: usize,
    /// Jobs the batch inserted already leased to this process's workers, each with its lease's
    /// end and its event: the job queue hands them over (`jobs::handoff`). Never logged for
    /// replicas.
    pub handed_jobs: Vec<HandedJob>,
}

impl CommitEffects {
    /// Whether the observers have nothing to do for it (the writer then skips telling them).
    pub fn is_empty(&self) -> bool {
        self.stock_changes.is_empty()
            && self.threshold_changes.is_empty()
            && self.removed_inventory.is_empty()
            && self.held_changes.is_empty()
            && self.changed_products.is_empty()
            && !self.categories_changed
            && self.enqueued_jobs == 0
            && self.handed_jobs.is_empty()
    }

    /// Adds `other` to these effects (one batch's, or a replica's run of logged batches).
    pub fn absorb(&mut self, other: &CommitEffects) {
        self.stock_changes.extend_from_slice(&other.stock_changes);
        self.threshold_changes.extend_from_slice(&other.threshold_changes);
        self.removed_inventory.extend_from_slice(&other.removed_inventory);
        self.held_changes.extend_from_slice(&other.held_changes);
        self.changed_products.extend_from_slice(&other.changed_products);
        self.categories_changed |= other.categories_changed;
        self.enqueued_jobs += other.enqueued_jobs;
        self.handed_jobs.extend_from_slice(&other.handed_jobs);
    }
}

/// A view derived from the database that must see every commit before its response goes out.
pub trait CommitObserver: Send + Sync {
    /// Called on the writer thread after `COMMIT` succeeded, only for batches with effects.
    /// Must be quick and must not fail: the data is already durable.
    fn committed(&self, effects: &CommitEffects);
}

/// The value a write returns and what it changed.
pub struct Written<T> {
    /// What the write's caller gets back.
    pub value: T,
    /// What the write changed, for the derived views.
    pub effects: CommitEffects,
}

impl<T> Written<T> {
    /// A write that changed nothing the derived views hold (a job's bookkeeping, say).
    pub fn quietly(value: T) -> Self {
        Self { value, effects: CommitEffects::default() }
    }
}
