//! Read replicas: `aforro serve --read-replica --primary-url URL` serves the GET routes from a
//! database that Litestream keeps current (`litestream restore -f` following the primary's
//! replica), with its own search index, stock view and autocomplete map.
//!
//! - `options`: [`ReplicationOptions`], the `serve` flags (`--read-replica`, `--primary-url`,
//!   and the primary's `--litestream`), with [`PrimaryUrl`] and [`MAX_LAG`];
//! - [`follow`]: opening the followed database and the loop that applies each new
//!   `commit_log` row to the views, incrementally, and measures how far they trail.
//!
//! It sits beside search/suggest/jobs: it drives the views' observers, reads through `db`, and
//! knows nothing of HTTP (the `307` to the primary and `readyz` live in `http`).
//! `docs/scaling.md` describes the whole arrangement.

pub mod follow;
mod options;

pub use self::follow::{Follower, ReplicaStatus, ReplicaViews, open_views};
pub use self::options::{MAX_LAG, PrimaryUrl, ReplicationOptions};
