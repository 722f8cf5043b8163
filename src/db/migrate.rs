//! Schema migrations: plain SQL files in `migrations/`, embedded in the binary, applied in
//! order and recorded in `schema_migrations`. Never edit a migration that has been applied.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, Result};

/// Every migration (name, SQL), in the order it must be applied. Names are recorded in the
/// database. Public for the tests that build a database as an older release left it.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../../migrations/0001_init.sql")),
    ("0002_jobs", include_str!("../../migrations/0002_jobs.sql")),
    ("0003_admin", include_str!("../../migrations/0003_admin.sql")),
    ("0004_catalog_lineage", include_str!("../../migrations/0004_catalog_lineage.sql")),
    ("0005_store_order_counts", include_str!("../../migrations/0005_store_order_counts.sql")),
    ("0006_commit_log", include_str!("../../migrations/0006_commit_log.sql")),
    ("0007_order_lifecycle", include_str!("../../migrations/0007_order_lifecycle.sql")),
    ("0008_admin_history", include_str!("../../migrations/0008_admin_history.sql")),
    ("0009_jobs_done_index", include_str!("../../migrations/0009_jobs_done_index.sql")),
    ("0010_product_order_lines", include_str!("../../migrations/0010_product_order_lines.sql")),
    ("0011_store_orders_partial_index", include_str!("../../migrations/0011_store_orders_partial_index.sql")),
    ("0012_jobs_queued_failed_index", include_str!("../../migrations/0012_jobs_queued_failed_index.sql")),
    (
        "0013_orders_without_statement_journals",
        include_str!("../../migrations/0013_orders_without_statement_journals.sql"),
    ),
    ("0014_delivery_attempts", include_str!("../../migrations/0014_delivery_attempts.sql")),
    ("0015_api_keys", include_str!("../../migrations/0015_api_keys.sql")),
    ("0016_stock_movements", include_str!("../../migrations/0016_stock_movements.sql")),
    ("0017_reservations", include_str!("../../migrations/0017_reservations.sql")),
    ("0018_search_curation", include_str!("../../migrations/0018_search_curation.sql")),
    ("0019_search_analytics", include_str!("../../migrations/0019_search_analytics.sql")),
];

/// Applies the pending migrations in one transaction and returns their names; a second run
/// applies nothing and returns an empty list.
///
/// Foreign keys are off while they run, as SQLite's table-rebuild procedure requires (dropping
/// a referenced table would otherwise delete through it), and checked before the commit: a
/// migration that leaves a dangling reference is rolled back whole.
pub fn migrate(conn: &mut Connection) -> Result<Vec<&'static str>> {
    let enforced: bool = conn.query_row("PRAGMA foreign_keys", [], |row| row.get(0))?;
    conn.pragma_update(None, "foreign_keys", false)?;
    let applied = apply_pending(conn);
    conn.pragma_update(None, "foreign_keys", enforced)?;
    applied
}

fn apply_pending(conn: &mut Connection) -> Result<Vec<&'static str>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             name       TEXT PRIMARY KEY,
             applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
         )",
    )?;
    let mut applied = Vec::new();
    for (name, sql) in MIGRATIONS {
        if !is_applied(&tx, name)? {
            tx.execute_batch(sql)?;
            tx.execute("INSERT INTO schema_migrations (name) VALUES (?1)", [name])?;
            applied.push(*name);
        }
    }
    // Only after a migration ran: the check reads every row of every table with a foreign key
    // (18-21 s of a start at 1M products and 5M inventory rows on a loaded machine, 2026-12-08,
    // `scripts/start-timeline.sh`), and with none applied nothing has changed that the
    // enforced foreign keys did not check as it was written.
    if !applied.is_empty() {
        let dangling: i64 = tx.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |row| row.get(0))?;
        if dangling > 0 {
            return Err(Error::Invariant(format!("the migrations left {dangling} rows with dangling foreign keys")));
        }
    }
    tx.commit()?;
    Ok(applied)
}

/// Whether the database behind `conn` records the migration `name` as applied.
pub fn is_applied(conn: &Connection, name: &str) -> Result<bool> {
    Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = ?1)", [name], |row| row.get(0))?)
}

/// The migrations the database behind `conn` records, by name (an error when it has no
/// `schema_migrations` table: it is not an aforro database).
pub fn recorded_migrations(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM schema_migrations ORDER BY name")?;
    let names = stmt.query_map([], |row| row.get(0))?;
    Ok(names.collect::<rusqlite::Result<_>>()?)
}

/// Whether this binary has a migration of that name (a database recording others was
/// written by a newer version).
pub fn is_known(name: &str) -> bool {
    MIGRATIONS.iter().any(|(known, _)| *known == name)
}

/// The name of the newest migration this binary knows: derived data built by another schema
/// version is stale.
pub fn latest_migration() -> &'static str {
    MIGRATIONS.last().map(|(name, _)| *name).unwrap_or("none")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_applies_nothing_the_second_time() {
        let mut conn = Connection::open_in_memory().expect("in-memory db");
        assert_eq!(
            migrate(&mut conn).expect("first run"),
            [
                "0001_init",
                "0002_jobs",
                "0003_admin",
                "0004_catalog_lineage",
                "0005_store_order_counts",
                "0006_commit_log",
                "0007_order_lifecycle",
                "0008_admin_history",
                "0009_jobs_done_index",
                "0010_product_order_lines",
                "0011_store_orders_partial_index",
                "0012_jobs_queued_failed_index",
                "0013_orders_without_statement_journals",
                "0014_delivery_attempts",
                "0015_api_keys",
                "0016_stock_movements",
                "0017_reservations",
                "0018_search_curation",
                "0019_search_analytics"
            ]
        );
        assert!(migrate(&mut conn).expect("second run").is_empty());
    }
}
