//! The records the store of record hands around: plain types, no SQL, importing only
//! `domain`. Everything else in `db` stands on them: the tables return them, the named writes
//! return [`Written`] values with their [`CommitEffects`], and the writer passes those effects to
//! its [`CommitObserver`]s.
//!
//! - `order`: [`OrderBody`] and its lines, as the contract answers an order.
//! - `event`: [`Event`], [`EventKind`], [`EventData`]: what a delivery says.
//! - `job`: [`ClaimedJob`], [`HandedJob`] and the [`JobHandoff`] the writer leases jobs to.
//! - `effects`: [`CommitEffects`] (what a write changed), [`Written`], [`CommitObserver`].
//! - `reservation`: [`ReservationBody`], a checkout hold as the contract answers it.
//! - `movement`: [`Movement`], [`MovementReason`], [`StockCause`]: the stock ledger's rows.
//! - `admin`: [`AdminId`]; `api_key`: [`ApiKeyRecord`], an API key as listed.
//!
//! Within the folder, `effects` → `job` → `event` → `order`, and `movement` alone; each file imports only those
//! after it (`reservation` imports none of them).

mod admin;
mod api_key;
mod effects;
mod event;
mod job;
mod movement;
mod order;
mod reservation;

pub use admin::AdminId;
pub use api_key::{ApiKeyId, ApiKeyRecord, HashedKey};
pub use effects::{CommitEffects, CommitObserver, HeldChange, InventoryRemoval, StockChange, ThresholdChange, Written};
pub use event::{Event, EventData, EventKind};
pub use job::{ClaimedJob, HandedJob, HandoffLink, JobHandoff};
pub use movement::{Movement, MovementReason, StockCause};
pub use order::{Confirmation, OrderBody, OrderItemBody, ShortLine};
pub use reservation::{ReservationBody, ReservationItem};
