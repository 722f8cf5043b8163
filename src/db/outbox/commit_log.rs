//! The `commit_log` table: what each committed batch changed in the derived views, written
//! by the writer inside the batch's own transaction.
//!
//! The primary's views learn of a commit from the writer directly ([`CommitEffects`] passed
//! to each observer). A read replica only receives the database file (Litestream applies the
//! primary's pages to it), so the same effects travel in the file: a replica reads the rows
//! after the last one it applied and hands them to the same observers. Because the row is
//! in the transaction it describes, a replica never sees a change without its row, nor a row
//! without its change.

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::db::records::{CommitEffects, HeldChange, InventoryRemoval, StockChange, ThresholdChange};
use crate::domain::{ProductId, StoreId, Timestamp};
use crate::error::{Error, Result};

/// One logged batch.
#[derive(Debug, Clone)]
pub struct LoggedCommit {
    /// Increases with every logged batch (never reused: `AUTOINCREMENT`).
    pub seq: i64,
    /// When the primary committed it, by the primary's clock.
    pub committed_at: Timestamp,
    /// What the batch changed, for a replica's views to apply.
    pub effects: CommitEffects,
}

/// The stored form: short keys and tuples, since a busy primary writes one row per batch.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    #[serde(default, rename = "s", skip_serializing_if = "Vec::is_empty")]
    stock: Vec<(StoreId, ProductId, i64)>,
    #[serde(default, rename = "t", skip_serializing_if = "Vec::is_empty")]
    thresholds: Vec<(StoreId, ProductId, i64)>,
    #[serde(default, rename = "r", skip_serializing_if = "Vec::is_empty")]
    removed: Vec<(StoreId, ProductId)>,
    #[serde(default, rename = "h", skip_serializing_if = "Vec::is_empty")]
    held: Vec<(StoreId, ProductId, i64)>,
    #[serde(default, rename = "p", skip_serializing_if = "Vec::is_empty")]
    products: Vec<ProductId>,
    #[serde(default, rename = "c", skip_serializing_if = "std::ops::Not::not")]
    categories: bool,
}

impl Stored {
    fn from_effects(effects: &CommitEffects) -> Self {
        Self {
            stock: effects.stock_changes.iter().map(|c| (c.store_id, c.product_id, c.quantity)).collect(),
            thresholds: effects.threshold_changes.iter().map(|c| (c.store_id, c.product_id, c.threshold)).collect(),
            removed: effects.removed_inventory.iter().map(|r| (r.store_id, r.product_id)).collect(),
            held: effects.held_changes.iter().map(|h| (h.store_id, h.product_id, h.held)).collect(),
            products: effects.changed_products.clone(),
            categories: effects.categories_changed,
        }
    }

    fn into_effects(self) -> CommitEffects {
        CommitEffects {
            stock_changes: self
                .stock
                .into_iter()
                .map(|(store_id, product_id, quantity)| StockChange { store_id, product_id, quantity })
                .collect(),
            threshold_changes: self
                .thresholds
                .into_iter()
                .map(|(store_id, product_id, threshold)| ThresholdChange { store_id, product_id, threshold })
                .collect(),
            removed_inventory: self
                .removed
                .into_iter()
                .map(|(store_id, product_id)| InventoryRemoval { store_id, product_id })
                .collect(),
            held_changes: self
                .held
                .into_iter()
                .map(|(store_id, product_id, held)| HeldChange { store_id, product_id, held })
                .collect(),
            changed_products: self.products,
            categories_changed: self.categories,
            // Jobs are the primary's alone: a replica runs no workers.
            enqueued_jobs: 0,
            handed_jobs: Vec::new(),
        }
    }
}

/// Whether `effects` holds anything a replica's views must apply (queued jobs do not count).
pub fn concerns_views(effects: &CommitEffects) -> bool {
    !(effects.stock_changes.is_empty()
        && effects.threshold_changes.is_empty()
        && effects.removed_inventory.is_empty()
        && effects.held_changes.is_empty()
        && effects.changed_products.is_empty()
        && !effects.categories_changed)
}

/// Logs `effects` inside the caller's open transaction.
pub fn append(conn: &Connection, effects: &CommitEffects, now: Timestamp) -> rusqlite::Result<()> {
    let json = serde_json::to_string(&Stored::from_effects(effects))
        .map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))?;
    let mut stmt = conn.prepare_cached("INSERT INTO commit_log (committed_at, effects) VALUES (?1, ?2)")?;
    stmt.execute(rusqlite::params![now.micros, json])?;
    Ok(())
}

/// The newest logged sequence number (0 when nothing was ever logged or all was purged and
/// nothing since).
pub fn latest_seq(conn: &Connection) -> Result<i64> {
    // `sqlite_sequence` remembers the highest seq even after the rows are purged.
    let logged: Option<i64> = conn.query_row("SELECT MAX(seq) FROM commit_log", [], |row| row.get(0))?;
    let remembered: Option<i64> =
        crate::db::optional(
            conn.query_row("SELECT seq FROM sqlite_sequence WHERE name = 'commit_log'", [], |row| row.get(0)),
        )?;
    Ok(logged.unwrap_or(0).max(remembered.unwrap_or(0)))
}

/// The first logged batches after `seq`, oldest first, at most `limit`.
pub fn read_after(conn: &Connection, seq: i64, limit: usize) -> Result<Vec<LoggedCommit>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt =
        conn.prepare_cached("SELECT seq, committed_at, effects FROM commit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
    let rows = stmt
        .query_map([seq, limit], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, String>(2)?)))?;
    let mut commits = Vec::new();
    for row in rows {
        let (seq, committed_at, json) = row?;
        let stored: Stored = serde_json::from_str(&json)
            .map_err(|error| Error::Invariant(format!("commit_log row {seq} is not readable: {error}")))?;
        commits.push(LoggedCommit {
            seq,
            committed_at: Timestamp::from_micros(committed_at),
            effects: stored.into_effects(),
        });
    }
    Ok(commits)
}

/// Deletes the rows committed before `cutoff`; returns how many.
pub fn purge_before(conn: &Connection, cutoff: Timestamp) -> Result<usize> {
    let mut stmt = conn.prepare_cached("DELETE FROM commit_log WHERE committed_at < ?1")?;
    Ok(stmt.execute([cutoff.micros])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migrated() -> Connection {
        let mut conn = Connection::open_in_memory().expect("in-memory db");
        crate::db::migrate::migrate(&mut conn).expect("migrate");
        conn
    }

    #[test]
    fn a_logged_batch_reads_back_as_the_effects_it_was_given_without_its_jobs() {
        let conn = migrated();
        let effects = CommitEffects {
            stock_changes: vec![StockChange { store_id: StoreId(1), product_id: ProductId(7), quantity: 41 }],
            threshold_changes: vec![ThresholdChange { store_id: StoreId(1), product_id: ProductId(8), threshold: 12 }],
            removed_inventory: vec![InventoryRemoval { store_id: StoreId(2), product_id: ProductId(9) }],
            held_changes: vec![HeldChange { store_id: StoreId(1), product_id: ProductId(7), held: 2 }],
            changed_products: vec![ProductId(9), ProductId(11)],
            categories_changed: true,
            enqueued_jobs: 3,
            handed_jobs: Vec::new(),
        };
        append(&conn, &effects, Timestamp::from_micros(1_000)).expect("append");
        append(
            &conn,
            &CommitEffects { changed_products: vec![ProductId(5)], ..CommitEffects::default() },
            Timestamp::from_micros(2_000),
        )
        .expect("append");
        let read = read_after(&conn, 0, 10).expect("read");
        assert_eq!(read.len(), 2);
        assert_eq!((read[0].seq, read[0].committed_at.micros), (1, 1_000));
        assert_eq!(read[0].effects.stock_changes, effects.stock_changes);
        assert_eq!(read[0].effects.threshold_changes, effects.threshold_changes);
        assert_eq!(read[0].effects.removed_inventory, effects.removed_inventory);
        assert_eq!(read[0].effects.held_changes, effects.held_changes);
        assert_eq!(read[0].effects.changed_products, effects.changed_products);
        assert!(read[0].effects.categories_changed);
        assert_eq!(read[0].effects.enqueued_jobs, 0);
        assert_eq!(read[1].effects.changed_products, vec![ProductId(5)]);
        assert!(!read[1].effects.categories_changed);
        assert_eq!(read_after(&conn, 1, 10).expect("read").len(), 1);
        assert_eq!(read_after(&conn, 0, 1).expect("read").len(), 1);
    }

    #[test]
    fn the_latest_seq_survives_a_purge_of_every_row() {
        let conn = migrated();
        assert_eq!(latest_seq(&conn).expect("empty"), 0);
        for at in [10, 20] {
            append(
                &conn,
                &CommitEffects { categories_changed: true, ..CommitEffects::default() },
                Timestamp::from_micros(at),
            )
            .expect("append");
        }
        assert_eq!(purge_before(&conn, Timestamp::from_micros(15)).expect("purge"), 1);
        assert_eq!(latest_seq(&conn).expect("one left"), 2);
        assert_eq!(purge_before(&conn, Timestamp::from_micros(100)).expect("purge"), 1);
        assert_eq!(latest_seq(&conn).expect("none left"), 2);
    }

    #[test]
    fn queued_jobs_alone_do_not_concern_the_views() {
        assert!(!concerns_views(&CommitEffects { enqueued_jobs: 1, ..CommitEffects::default() }));
        assert!(concerns_views(&CommitEffects { categories_changed: true, ..CommitEffects::default() }));
    }
}
