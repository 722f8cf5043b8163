//! Aforro: a single-binary store backend (catalog, stores, per-store inventory, orders) with
//! fast product search, on one SQLite file and one index folder.
//!
//! # Layout
//! Layers, top to bottom; a module imports only from layers below its own ([`LAYERS`] is the
//! same list as a table; `tests/architecture.rs` fails on any import that points up it, and on
//! any import circle between files anywhere under `src/`):
//! - [`cli`] parses the command line and runs a subcommand, including the offline ones
//!   (`cli::backup`, `cli::jobs`). `main` only calls it.
//! - [`http`] is every route: the public API (one file per resource), the admin API and page
//!   (`http::admin`), `/metrics`, health and OpenAPI, the tower layers, and `http::problem`,
//!   the one place an error becomes a status and a problem+json body (with `HttpError`, the
//!   faults only a request's bytes can have: unreadable body, too large, not JSON).
//! - [`app`] owns the state and the lifecycle: open the store, start the writer, the derived
//!   views and the workers, serve, shut down. [`config`] is the settings every subcommand
//!   shares (each setting type lives with the layer that uses it).
//! - [`access`] (the master key and every API key in memory, their rate limits and last uses;
//!   which route needs what is `http::access`'s table), [`analytics`] (the search analytics
//!   counted in memory and flushed through the writer), [`search`] (tantivy index and
//!   in-memory stock view), [`suggest`] (autocomplete) and
//!   [`jobs`] (event workers, senders, maintenance, the reservation expiry timer, and the
//!   hand-off of jobs an order leases straight to the workers; the events are written with their cause by `db::outbox::events`)
//!   are the derived views and workers, kept in step by the writer's commit observers; [`seed`]
//!   generates the demo catalog (`db::store::seed` stores it). Above them,
//!   [`replica`]: `serve --read-replica` following the database Litestream keeps current,
//!   handing each logged commit to those views' observers.
//! - [`db`] is the store of record: opening it, migrations, the read pool, every SQL
//!   statement (the derived views' reads too: [`db::store::view_rows`]), and the single
//!   [`db::writer`]. Inside, rooms bottom to top, each importing only those below it:
//!   [`db::records`] (the plain types every room hands around: `OrderBody`, `Event`,
//!   `ClaimedJob`, `CommitEffects`, …) → the tables, small named SQL functions grouped by
//!   concern ([`db::outbox`] → [`db::store`] → [`db::admin`]) → [`db::writer`], the writer
//!   thread with every named write in `db::writer::writes`. No table imports the writer.
//! - [`domain`] holds the parsed types (`NewOrder`, `PageRequest`, ids, `Money`, the catalog
//!   inputs, the admin `SessionToken`, API key actions and secrets) and their one parser each.
//! - Leaves: [`error`] (the core error type, no HTTP), [`telemetry`] (logging), [`metrics`]
//!   (the recorder), [`progress`] (the CLI progress bar), [`memory`] (handing freed heap back
//!   after rebuilds, mapping files); under them [`locking`] (the mutex helper). Beside
//!   [`domain`], above the leaves: [`view_files`], derived views saved beside the index,
//!   stamped and checksummed, so a restart maps them instead of rebuilding.
//!
//! Start reading at [`app::Application::build`], then [`db::writer`]: every write goes there.
//!
//! Inside every folder the same rule holds file by file: no file imports one that imports it
//! back, directly or through others (shared types go in a leaf below both).

pub mod access;
pub mod analytics;
pub mod app;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod jobs;
pub mod locking;
pub mod memory;
pub mod metrics;
pub mod progress;
pub mod replica;
pub mod search;
pub mod seed;
pub mod suggest;
pub mod telemetry;
pub mod view_files;

/// The Layout above as a table: top-level modules in bands, top to bottom. A module may
/// import from any band below its own, never from its own band or above (`tests/architecture.rs`
/// checks every reference in every file under `src/`).
pub const LAYERS: &[&[&str]] = &[
    &["main"],
    &["cli"],
    &["http"],
    &["app"],
    &["config"],
    &["replica"],
    &["access", "analytics", "search", "suggest", "jobs", "seed"],
    &["db"],
    &["domain", "view_files"],
    &["error", "telemetry", "metrics", "progress", "memory"],
    &["locking"],
];
