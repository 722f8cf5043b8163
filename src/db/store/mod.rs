//! The shop's own tables: the catalog (categories, products, stores, inventory), orders and
//! their idempotency keys, and the reads over them. Stands on the records and the outbox (an
//! order or a stock change queues its events in its own transaction).
//!
//! - [`catalog`]: lookups and the catalog's statement functions (the admin's edits, stock).
//! - [`orders`]: placing, cancelling and reading an order; the event a claimed job delivers.
//! - [`bulk`]: a bulk stock update's rows under its error policy.
//! - [`movements`]: the stock ledger, written with every change of on-hand stock.
//! - [`idempotency`]: the keys that make an order or reservation request safe to retry.
//! - [`reservations`]: checkout holds: granting, releasing, an order taking one, expiry.
//! - [`listings`]: a store's orders and inventory, one page per query ([`listings::PageOf`]).
//! - [`view_rows`]: what the derived views (search, stock view) read to build themselves.
//! - [`popularity`]: products with their order counts, for autocomplete.
//! - [`seed`]: bulk inserts of a generated demo catalog (`aforro seed`).
//!
//! Order within: `orders` → `reservations` → `catalog`, `idempotency`; `orders`, `bulk` → `catalog`, `idempotency`;
//! `orders`, `catalog` → `movements` → `listings` (its page type); the others import no sibling.

pub mod bulk;
pub mod catalog;
pub mod idempotency;
pub mod listings;
pub mod movements;
pub mod orders;
pub mod popularity;
pub mod reservations;
pub mod seed;
pub mod view_rows;
