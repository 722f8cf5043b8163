-- API keys (contract, Access): a key's secret is kept only as its SHA-256; the server holds
-- every key in memory and reloads them when `api_key_generation` moves (a change through the
-- server also applies before its answer; one by `aforro keys` beside a running server within a
-- second). Also widens the admin history to the objects the access, search-administration and
-- stock features record.
-- Never edit a migration that has been applied anywhere: add a new file instead.

CREATE TABLE api_keys (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description     TEXT    NOT NULL DEFAULT '',
    -- The secret's first 12 characters, to tell keys apart in listings.
    prefix          TEXT    NOT NULL,
    secret_sha256   BLOB    NOT NULL UNIQUE CHECK (length(secret_sha256) = 32),
    -- JSON array of action names (`["search", "orders.create"]`).
    actions         TEXT    NOT NULL,
    -- JSON array of store ids; NULL: every store.
    store_ids       TEXT,
    -- Microseconds since the epoch; NULL never expires.
    expires_at      INTEGER,
    rate_per_second INTEGER CHECK (rate_per_second BETWEEN 1 AND 100000),
    rate_burst      INTEGER CHECK (rate_burst BETWEEN 1 AND 1000000),
    created_at      INTEGER NOT NULL,
    -- Written at most once a minute per key, batched (contract: may lag by up to 60 s).
    last_used_at    INTEGER,
    CHECK ((rate_per_second IS NULL) = (rate_burst IS NULL))
);

-- Moves with every change a server must apply (not with `last_used_at`): a server polls this
-- one row instead of reading every key.
CREATE TABLE api_key_generation (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT INTO api_key_generation (id, generation) VALUES (1, 0);

CREATE TRIGGER api_keys_inserted AFTER INSERT ON api_keys
BEGIN
    UPDATE api_key_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER api_keys_updated AFTER UPDATE OF name, description, expires_at, rate_per_second, rate_burst ON api_keys
BEGIN
    UPDATE api_key_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys
BEGIN
    UPDATE api_key_generation SET generation = generation + 1 WHERE id = 1;
END;

-- The history's object types, widened (SQLite changes a CHECK only by rebuilding the table).
CREATE TABLE admin_log_new (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    username    TEXT    NOT NULL,
    object_type TEXT    NOT NULL CHECK (object_type IN ('category', 'product', 'store', 'job', 'order', 'admin',
                                                        'api_key', 'synonym_set', 'search_rule', 'inventory',
                                                        'reservation')),
    object_id   INTEGER NOT NULL,
    action      TEXT    NOT NULL CHECK (action IN ('create', 'change', 'delete')),
    changes     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
INSERT INTO admin_log_new SELECT id, user_id, username, object_type, object_id, action, changes, created_at FROM admin_log;
DROP TABLE admin_log;
ALTER TABLE admin_log_new RENAME TO admin_log;
CREATE INDEX admin_log_object ON admin_log (object_type, object_id, id DESC);
