//! Aforro: a single-binary store backend (catalog, stores, per-store inventory, orders) with
//! fast product search, on one SQLite file and one index folder.
//!
//! # Layout
//! - [`cli`] parses the command line and runs a subcommand; [`config`] is the shared settings.
//! - [`app`] owns the lifecycle: open and migrate the store, start the writer, serve, shut down.
//! - [`domain`] holds the parsed request types (`NewOrder`, `PageRequest`, ids, `Money`).
//! - [`db`] is the store of record: the read pool, migrations, the single [`db::writer`] and
//!   small SQL functions per table.
//! - [`http`] is the axum router, one file per resource, plus extractors and pagination.
//! - [`search`] is product search: the tantivy index derived from the catalog, the in-memory
//!   stock view, and the writer observer that keeps both in step with every commit.
//! - [`jobs`] delivers events (`order.confirmed`, `order.cancelled`, stock crossing zero;
//!   written with their cause by `db::events`): workers that drain the `jobs` table through
//!   the writer, the senders (`log`, `webhook`) and the maintenance schedule.
//! - [`admin`] is administration: admin accounts and sessions, the `/api/admin/` API and the
//!   `/admin/` page; [`backup`] copies a live database and restores one onto a stopped server.
//! - [`seed`] generates the deterministic demo catalog.
//! - [`suggest`] is autocomplete: an fst map of title words, rebuilt in the background after
//!   catalog changes, with a moka answer cache.
//! - [`metrics`] is the Prometheus registry, request metrics and `/metrics`; [`telemetry`]
//!   sets up logging and the per-request span.
//! - [`error`] is the one error type and its problem+json rendering; [`locking`] the one
//!   mutex helper.
//!
//! Start reading at [`app::Application::build`], then [`db::writer`]: every write goes there.

pub mod admin;
pub mod app;
pub mod backup;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod jobs;
pub mod locking;
pub mod metrics;
pub mod search;
pub mod seed;
pub mod suggest;
pub mod telemetry;
