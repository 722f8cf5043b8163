-- Core schema: catalog, stores, per-store inventory, orders, idempotency keys and the job queue.
-- Never edit a migration that has been applied anywhere: add a new file instead.
-- Timestamps are INTEGER microseconds since the Unix epoch (UTC): they sort, index and compare
-- as numbers, and the HTTP layer formats them as RFC 3339.

CREATE TABLE categories (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(trim(name)) > 0),
    CONSTRAINT categories_name_unique UNIQUE (name COLLATE NOCASE)
);

CREATE TABLE products (
    id          INTEGER PRIMARY KEY,
    title       TEXT    NOT NULL CHECK (length(trim(title)) > 0),
    description TEXT    NOT NULL DEFAULT '',
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    category_id INTEGER NOT NULL REFERENCES categories (id),
    created_at  INTEGER NOT NULL
);
CREATE INDEX products_category ON products (category_id);
-- Store inventory listings sort by title case-insensitively, then id.
CREATE INDEX products_title_nocase ON products (title COLLATE NOCASE, id);

CREATE TABLE stores (
    id       INTEGER PRIMARY KEY,
    name     TEXT NOT NULL CHECK (length(trim(name)) > 0),
    location TEXT NOT NULL DEFAULT ''
);

CREATE TABLE inventory (
    id         INTEGER PRIMARY KEY,
    store_id   INTEGER NOT NULL REFERENCES stores (id),
    product_id INTEGER NOT NULL REFERENCES products (id),
    quantity   INTEGER NOT NULL CHECK (quantity >= 0),
    CONSTRAINT inventory_store_product_unique UNIQUE (store_id, product_id)
);
-- The unique constraint's index serves every (store, product) lookup; this one serves
-- "which stores carry product X" (search's in-any-store view, suggest popularity).
CREATE INDEX inventory_product ON inventory (product_id);

CREATE TABLE orders (
    id         INTEGER PRIMARY KEY,
    store_id   INTEGER NOT NULL REFERENCES stores (id),
    status     TEXT    NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'REJECTED')),
    created_at INTEGER NOT NULL
);
-- Store order listing: newest first, optionally filtered by status.
CREATE INDEX orders_store_newest ON orders (store_id, created_at DESC, id DESC);
CREATE INDEX orders_store_status_newest ON orders (store_id, status, created_at DESC, id DESC);

CREATE TABLE order_items (
    id                 INTEGER PRIMARY KEY,
    order_id           INTEGER NOT NULL REFERENCES orders (id),
    product_id         INTEGER NOT NULL REFERENCES products (id),
    quantity_requested INTEGER NOT NULL CHECK (quantity_requested > 0),
    CONSTRAINT order_items_order_product_unique UNIQUE (order_id, product_id)
);
CREATE INDEX order_items_product ON order_items (product_id);

-- An Idempotency-Key remembers the request it first came with and the response it got, so a
-- retry gets the same answer and stores nothing new.
CREATE TABLE idempotency_keys (
    key             TEXT    PRIMARY KEY,
    request_body    TEXT    NOT NULL,
    response_status INTEGER NOT NULL,
    response_body   TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
) WITHOUT ROWID;

-- The job queue. Rows are inserted in the same transaction as the work they follow from (an
-- order's confirmation), so a committed order always has its job.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    order_id     INTEGER REFERENCES orders (id),
    payload      TEXT    NOT NULL DEFAULT '{}',
    status       TEXT    NOT NULL DEFAULT 'queued'
                         CHECK (status IN ('queued', 'running', 'sent', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    run_after    INTEGER NOT NULL,
    locked_until INTEGER,
    last_error   TEXT,
    sent_at      INTEGER,
    created_at   INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs (status, run_after);
CREATE INDEX jobs_order ON jobs (order_id);

-- Catalog watermark: bumped by every change to products or categories, so derived data (the
-- search index, the autocomplete map) can tell at start whether it still matches the database.
CREATE TABLE catalog_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);

CREATE TRIGGER products_insert_bumps_catalog AFTER INSERT ON products
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER products_update_bumps_catalog AFTER UPDATE ON products
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER products_delete_bumps_catalog AFTER DELETE ON products
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER categories_insert_bumps_catalog AFTER INSERT ON categories
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER categories_update_bumps_catalog AFTER UPDATE ON categories
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER categories_delete_bumps_catalog AFTER DELETE ON categories
BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END;
