//! The outbox: what the store owes the world after a commit, kept in the same transaction as
//! its cause. The lowest tables of `db`; they import only the records and each other.
//!
//! - [`jobs`]: the job queue's table, its state machine, and its listings.
//! - [`events`]: inserting an event's job row (and handing it to this process's workers).
//! - [`notifications`]: the record that an event went out.
//! - [`commit_log`]: what each committed batch changed, for read replicas.
//!
//! Order within: `events` → `jobs` → `notifications`; `commit_log` stands alone.

pub mod commit_log;
pub mod delivery_attempts;
pub mod events;
pub mod jobs;
pub mod notifications;
