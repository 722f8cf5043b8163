-- The admin's change history (Django's LogEntry): every change made through the admin API or
-- page, written in the same transaction as the change itself, so a change without its entry
-- (or an entry without its change) cannot exist.
-- Never edit a migration that has been applied anywhere: add a new file instead.

CREATE TABLE admin_log (
    id          INTEGER PRIMARY KEY,
    -- No foreign key: the history outlives the account that made it (the name is kept).
    user_id     INTEGER NOT NULL,
    username    TEXT    NOT NULL,
    object_type TEXT    NOT NULL CHECK (object_type IN ('category', 'product', 'store', 'job', 'order', 'admin')),
    object_id   INTEGER NOT NULL,
    action      TEXT    NOT NULL CHECK (action IN ('create', 'change', 'delete')),
    -- JSON object: field -> [before, after] for every field the change touched.
    changes     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
-- An object's page shows its history newest first.
CREATE INDEX admin_log_object ON admin_log (object_type, object_id, id DESC);

-- The admin product list sorts by price without a temporary B-tree at 1M products (title has
-- products_title_nocase, id is the rowid).
CREATE INDEX products_price ON products (price_cents, id);
-- The cross-store order list (newest first, optionally by status) without sorting every order.
CREATE INDEX orders_newest ON orders (created_at DESC, id DESC);
-- The job list by state, newest first.
CREATE INDEX jobs_state_newest ON jobs (state, id DESC);
-- A store's inventory sorted by quantity (lowest stock first) without sorting the store's rows.
CREATE INDEX inventory_store_quantity ON inventory (store_id, quantity, product_id);
