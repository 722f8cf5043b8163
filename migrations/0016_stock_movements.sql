-- The stock ledger and low-stock thresholds (contract, "Stock movements, thresholds and bulk
-- updates").
-- Never edit a migration that has been applied anywhere: add a new file instead.
--
-- Every change of an inventory row's quantity writes one movement in the same transaction:
-- the change (`delta`), the quantity it left (`quantity_after`), why and who. Seeded stock has
-- no movement, so a chain starts from whatever the first kept movement says.
--
-- No foreign keys and no UNIQUE: an order writes one movement per line on the hottest path,
-- and with `INSERT OR FAIL` nothing here can abort half-way, so SQLite writes it without a
-- statement journal (see 0013). The writer deletes a product's movements with the product;
-- stores with movements cannot be deleted (they have inventory rows, or had orders).
CREATE TABLE stock_movements (
    id             INTEGER PRIMARY KEY,
    store_id       INTEGER NOT NULL,
    product_id     INTEGER NOT NULL,
    delta          INTEGER NOT NULL CHECK (delta <> 0),
    quantity_after INTEGER NOT NULL CHECK (quantity_after >= 0),
    reason         TEXT    NOT NULL CHECK (reason IN ('order', 'cancel', 'restock', 'adjust', 'set', 'bulk')),
    order_id       INTEGER,
    -- `admin:<username>`, `key:<key id>`, `master`, or NULL (open mode without an admin).
    actor          TEXT,
    -- Microseconds since the epoch. Ids grow with it (one writer), so retention deletes a
    -- prefix of ids and needs no index of its own.
    created_at     INTEGER NOT NULL,
    -- The same (store, product)'s movement before this one (NULL for its first, or once that
    -- one is pruned): each row's movements form a chain from `inventory.last_movement_id`.
    previous_id    INTEGER
);
-- No index: an index on (product, store, id) put every order line's movement on a random leaf
-- page, and the pages a batch dirtied cost 15-28% of the orders over HTTP (docs/inventory.md,
-- "What the ledger costs"). The chain reaches a row's movements newest first from its
-- inventory row instead, whose page the same write dirties anyway; `movement_count` keeps the
-- count a page needs.
ALTER TABLE inventory ADD COLUMN last_movement_id INTEGER;
ALTER TABLE inventory ADD COLUMN movement_count INTEGER NOT NULL DEFAULT 0;

-- Per inventory row: at or below this many units on hand, the row is low on stock
-- (`inventory.low_stock`, `low_stock=true`).
ALTER TABLE inventory ADD COLUMN low_stock_threshold INTEGER NOT NULL DEFAULT 5
    CHECK (low_stock_threshold BETWEEN 0 AND 1000000000);
