-- The job queue reshaped for the workers (issue 5), and the record of sent confirmations.
-- Never edit a migration that has been applied anywhere: add a new file instead.
--
-- States: `queued` (waiting for `run_at`) → `running` (claimed; the lease runs until
-- `lease_expires_at`, after which another worker may claim it again) → `done`, or back to
-- `queued` with a later `run_at` after a failure, or `failed` (dead letter, kept for
-- inspection and `aforro jobs retry`) once `attempts` reaches `max_attempts`.
-- SQLite cannot change a CHECK constraint in place: build the new table, copy, swap.

CREATE TABLE jobs_v2 (
    id               INTEGER PRIMARY KEY,
    kind             TEXT    NOT NULL,
    order_id         INTEGER REFERENCES orders (id),
    payload          TEXT    NOT NULL DEFAULT '{}',
    state            TEXT    NOT NULL DEFAULT 'queued'
                             CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts     INTEGER NOT NULL DEFAULT 8 CHECK (max_attempts > 0),
    run_at           INTEGER NOT NULL,
    lease_expires_at INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    done_at          INTEGER
);

INSERT INTO jobs_v2 (id, kind, order_id, payload, state, attempts, run_at, lease_expires_at, last_error,
                     created_at, updated_at, done_at)
SELECT id, kind, order_id, payload, CASE status WHEN 'sent' THEN 'done' ELSE status END, attempts, run_after,
       locked_until, last_error, created_at, COALESCE(sent_at, created_at), sent_at
  FROM jobs;

DROP TABLE jobs;
ALTER TABLE jobs_v2 RENAME TO jobs;

-- The claim reads due queued jobs and expired leases; partial indexes keep both scans to the
-- rows that can match, however many `done` rows the table holds.
CREATE INDEX jobs_due ON jobs (run_at) WHERE state = 'queued';
CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_order ON jobs (order_id);
-- Purging old finished jobs and listing by state.
CREATE INDEX jobs_state_updated ON jobs (state, updated_at);

-- One row per confirmed order whose confirmation went out. The UNIQUE order id is the dedupe:
-- a job run twice (an expired lease, a crash before the job was marked done) records once.
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    order_id   INTEGER NOT NULL REFERENCES orders (id),
    channel    TEXT    NOT NULL CHECK (channel IN ('log', 'webhook')),
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    CONSTRAINT notifications_order_unique UNIQUE (order_id)
);
