//! The store of record: SQLite in WAL mode.
//!
//! Reads go through [`ReadPool`], a pool of read-only connections used on tokio's blocking
//! pool. Every write goes through the [`writer`]: one thread, one connection, one
//! `BEGIN IMMEDIATE` transaction per batch.
//!
//! # Rooms, bottom to top
//! Each room imports only from the rooms below it (and, for plumbing, this file):
//! 1. [`records`]: the plain types every other room hands around (`OrderBody`, `Event`,
//!    `ClaimedJob`, `CommitEffects`, `Written`, `AdminId`, …). No SQL; imports only `domain`.
//! 2. The tables: small named SQL functions on a `&Connection`, grouped by concern, each
//!    folder importing only the records and the folders before it:
//!    - [`outbox`]: the job queue, events, notifications, the commit log;
//!    - [`store`]: the catalog, orders, idempotency keys and the reads over them;
//!    - [`admin`]: admin accounts, sessions, the change history and the admin's listings.
//! 3. [`writer`]: the single writer thread, and on it every named write
//!    (`writer/writes/`: `place_order`, `save_product_as`, …), each running the tables'
//!    statement functions in the writer's transaction. No table imports the writer.
//!
//! Plumbing beside them: this file (opening the store, the read pool), [`migrate`],
//! [`health`] (the storage fault state and probes) and [`exclusive`] (the data folder's lock).
//!
//! To add a table: its record types (if other rooms share them) in `records/`, its SQL in the
//! folder of its concern, its named writes in `writer/writes/`.

pub mod admin;
pub mod exclusive;
pub mod health;
pub mod migrate;
pub mod outbox;
pub mod records;
pub mod store;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};

/// How long a connection waits for another process's lock (e.g. `aforro seed` running beside
/// `serve`) before giving up with SQLITE_BUSY.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// WAL pages between automatic checkpoints (see `open_write_connection`).
const WAL_AUTOCHECKPOINT_PAGES: i64 = 65_536;

/// Read connections in the pool. Reads are short; more than twice the cores buys nothing.
const READ_POOL_SIZE: u32 = 8;

/// SQLite's `PRAGMA synchronous` levels that make sense with WAL (`--synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Synchronous {
    /// Every commit reaches the disk before it is acknowledged (orders survive a power cut).
    Full,
    /// WAL's usual level: a power cut may lose the last commits, never corrupt the file.
    Normal,
    /// No fsync at all: for benches and throwaway catalogs only.
    Off,
}

impl Synchronous {
    /// The value `PRAGMA synchronous` takes for this level.
    pub(crate) fn pragma_value(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::Normal => "NORMAL",
            Self::Off => "OFF",
        }
    }
}

/// The store of record opened and migrated: the one read-write connection and the read pool.
pub struct OpenedStore {
    /// The only read-write connection: handed to the writer thread, or used alone by the offline commands.
    pub write_conn: Connection,
    /// Read-only connections for every request's reads.
    pub reads: ReadPool,
    /// Migrations this open applied (empty when the schema was current).
    pub applied_migrations: Vec<&'static str>,
}

/// Creates the database's folder if needed, opens the database at `path` and applies pending
/// migrations.
pub fn open_store(path: &Path, synchronous: Synchronous) -> anyhow::Result<OpenedStore> {
    use anyhow::Context as _;

    use crate::telemetry::start_step;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the folder {}", dir.display()))?;
    }
    let mut write_conn = start_step("open the database", || open_write_connection(path, synchronous))
        .with_context(|| format!("cannot open the database {}", path.display()))?;
    let applied_migrations =
        start_step("migrations", || migrate::migrate(&mut write_conn)).context("cannot apply migrations")?;
    let reads = start_step("open the read pool", || ReadPool::open(path)).context("cannot open the read pool")?;
    Ok(OpenedStore { write_conn, reads, applied_migrations })
}

/// Opens the read-write connection with the PRAGMAs every writer needs.
pub fn open_write_connection(path: &Path, synchronous: Synchronous) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL lets readers proceed while the writer commits; it is a property of the file, so
    // setting it once here covers the read connections too.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", synchronous.pragma_value())?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Checkpoint every 65,536 pages (256 MiB) instead of SQLite's 1,000: each checkpoint copies
    // pages back and syncs the main file on the writer's time, while every order waits. 16,384
    // took `cargo bench --bench orders` to 10.3k durable orders/s (2026-11-25, `9d362fd`); 65,536
    // halved the orders' p99 over HTTP (19.5 / 20.2 ms to 10.9 / 9.3 ms in two alternated pairs,
    // 2026-11-30, `34f65af`; docs/performance.md, "The writer connection's settings"): under that
    // load the WAL filled 16,384 pages about five times a second. The maintenance schedule's
    // TRUNCATE checkpoint still empties the file every 5 minutes.
    conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
    // Every write runs in a savepoint, and SQLite journals the pages a savepoint touches to a
    // temp file (a `pwrite` per page). In memory instead: the profile of the orders path
    // (docs/performance.md) had a quarter of the writer's time in those writes.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // The query planner's stability guarantee: plans never depend on the values bound. Without
    // it, SQLite checks a bound timestamp against the partial indexes on `jobs` and recompiles
    // the workers' claim whenever the value changes, which is at every claim: 3 % of the writer's
    // time under the orders load (the writer's dwarf profile, 2026-11-30, `753cdaf`;
    // docs/performance.md, "The writer connection's settings"). Every
    // partial index here is chosen by a literal in the query, never by a bound value.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(conn)
}

/// A pool of read-only connections.
#[derive(Clone)]
pub struct ReadPool {
    source: Source,
}

#[derive(Clone)]
enum Source {
    Pooled(r2d2::Pool<SqliteConnectionManager>),
    /// A database another process rewrites underneath: see [`ReadPool::open_follower`].
    Follower(Arc<Follower>),
}

struct Follower {
    path: PathBuf,
    /// Used only while the file's header says rollback mode (no connection in it is WAL-mode).
    pool: r2d2::Pool<SqliteConnectionManager>,
}

impl Follower {
    /// Whether the file's header (bytes 18 and 19) says rollback journal rather than WAL.
    fn in_rollback_mode(&self) -> Result<bool> {
        use std::io::Read as _;
        let mut header = [0_u8; 20];
        std::fs::File::open(&self.path)
            .and_then(|mut file| file.read_exact(&mut header))
            .map_err(|error| Error::Invariant(format!("cannot read the database header: {error}")))?;
        Ok(header[18] == 1 && header[19] == 1)
    }
}

const READ_ONLY_FLAGS: OpenFlags =
    OpenFlags::SQLITE_OPEN_READ_ONLY.union(OpenFlags::SQLITE_OPEN_NO_MUTEX).union(OpenFlags::SQLITE_OPEN_URI);

fn init_read_connection(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", "ON")
}

impl ReadPool {
    /// Opens the pool. The database must exist and be migrated.
    pub fn open(path: &Path) -> Result<Self> {
        let manager = SqliteConnectionManager::file(path)
            .with_flags(READ_ONLY_FLAGS)
            .with_init(|conn| init_read_connection(conn));
        let pool = r2d2::Pool::builder().max_size(READ_POOL_SIZE).min_idle(Some(1)).build(manager)?;
        Ok(Self { source: Source::Pooled(pool) })
    }

    /// Reads of a database that another process rewrites page by page underneath (a read
    /// replica's file, which `litestream restore -f` keeps current). Two hazards of kept
    /// connections: (a) while the file's header says WAL (as restored), an open connection
    /// holds SQLite's shared lock for as long as it stays open, which stops Litestream from
    /// applying anything; (b) pages cached across Litestream's writes are only noticed as
    /// stale when page 1 changes. So: while the header says WAL, each read opens its own
    /// connection and closes it after; once Litestream has rewritten it to rollback mode (on
    /// the first commit touching page 1), pooled connections are used, each emptying its page
    /// cache before every read (`sqlite3_db_release_memory`), so every page comes from the file
    /// under the read's own lock. docs/scaling.md has the costs.
    pub fn open_follower(path: &Path) -> Result<Self> {
        let manager = SqliteConnectionManager::file(path)
            .with_flags(READ_ONLY_FLAGS)
            .with_init(|conn| init_read_connection(conn));
        // No connection opened up front: the first may only be opened in rollback mode.
        let pool = r2d2::Pool::builder().max_size(READ_POOL_SIZE).min_idle(Some(0)).build(manager)?;
        let reads = Self { source: Source::Follower(Arc::new(Follower { path: path.to_path_buf(), pool })) };
        reads.run_blocking(|_| Ok(()))?;
        Ok(reads)
    }

    /// Runs `read` with a pooled connection on the blocking pool, so the async runtime never
    /// waits on SQLite.
    pub async fn run<T, F>(&self, read: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let pool = self.clone();
        tokio::task::spawn_blocking(move || pool.run_blocking(read)).await?
    }

    /// Runs `read` on the calling thread: for CLI code and start-up, never from async code.
    pub fn run_blocking<T>(&self, read: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        match &self.source {
            Source::Pooled(pool) => read(&*pool.get()?),
            Source::Follower(follower) if follower.in_rollback_mode()? => {
                let conn = follower.pool.get()?;
                conn.release_memory()?;
                read(&conn)
            }
            Source::Follower(follower) => {
                let conn = Connection::open_with_flags(&follower.path, READ_ONLY_FLAGS)?;
                init_read_connection(&conn)?;
                read(&conn)
            }
        }
    }
}

/// Maps "no row" to `None`, keeping real errors errors.
pub(crate) fn optional<T>(result: rusqlite::Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(error) => Err(Error::from(error)),
    }
}

/// The plan of `sql`, one detail line per step (the listing tests check it).
#[cfg(test)]
pub(crate) fn query_plan(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).expect("explain");
    let nulls = rusqlite::params_from_iter(std::iter::repeat_n(rusqlite::types::Null, stmt.parameter_count()));
    stmt.query_map(nulls, |row| row.get::<_, String>(3)).expect("plan").collect::<rusqlite::Result<_>>().expect("rows")
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    /// `.cargo/config.toml` passes these to the bundled SQLite's build; a build without them
    /// (another config, an unset environment) would still work, only slower, so nothing else
    /// would notice.
    #[test]
    fn the_bundled_sqlite_is_built_with_the_repository_flags() {
        let conn = Connection::open_in_memory().expect("in-memory db");
        let mut stmt = conn.prepare("PRAGMA compile_options").expect("pragma");
        let options: Vec<String> =
            stmt.query_map([], |row| row.get(0)).expect("query").collect::<Result<_, _>>().expect("rows");
        for wanted in ["DEFAULT_MEMSTATUS=0", "OMIT_SHARED_CACHE", "USE_ALLOCA"] {
            assert!(options.iter().any(|option| option == wanted), "{wanted} missing from {options:?}");
        }
        assert!(!options.iter().any(|option| option == "ENABLE_STAT4"), "STAT4 is on: {options:?}");
    }
}
