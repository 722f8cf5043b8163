//! Every named write, in one place: the methods of [`WriterHandle`] that the rest of the
//! application calls (`writer.place_order(…)`, `writer.save_product_as(actor, …)`). Each runs
//! statement functions of the tables (`db::store`, `db::outbox`, `db::admin`) inside one
//! savepoint of the writer's batch (or, for an order, none: `WriterHandle::write_unguarded`)
//! and returns its value with what it changed ([`Written`]). No table imports the writer; the
//! writes stand on both.
//!
//! - `store`: placing and cancelling an order.
//! - `outbox`: the job workers' claims and outcomes, the retention purges.
//! - `admin`: the admin's edits, each recorded in the change history, and the admin's own
//!   password and sessions.
//! - `keys`: creating, editing and revoking API keys, and their last uses.
//! - `analytics`: the search analytics' flush of what was counted in memory, and its pruning.
//! - `curation`: synonym sets and search rules, each change in the history.
//!
//! The writer's maintenance (checkpoints, `PRAGMA optimize`, the storage probe) stays beside
//! the writer itself (`writer/mod.rs`): it runs between batches, outside any transaction.
//!
//! [`WriterHandle`]: super::WriterHandle
//! [`Written`]: crate::db::records::Written

mod admin;
mod analytics;
mod curation;
mod keys;
mod outbox;
mod store;
