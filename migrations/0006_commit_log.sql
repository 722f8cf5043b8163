-- What each committed batch changed in the views derived from the database (stock, catalog),
-- written by the writer in the same transaction as the change. A read replica, which receives
-- the database file from Litestream and never the writer's in-memory notices, reads it to keep
-- its own search index, stock view and autocomplete map in step without rebuilding them.
-- Rows older than an hour are purged by maintenance (docs/scaling.md).
CREATE TABLE commit_log (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    committed_at INTEGER NOT NULL, -- microseconds since the Unix epoch, the primary's clock
    effects      TEXT    NOT NULL  -- JSON, see src/db/commit_log.rs
);
CREATE INDEX commit_log_committed_at ON commit_log (committed_at);
