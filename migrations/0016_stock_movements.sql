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
    created_at     INTEGER NOT NULL
);
-- One index serves both the row's movements newest first (product, store, id DESC) and
-- deleting a product's movements (product).
CREATE INDEX stock_movements_product_store ON stock_movements (product_id, store_id, id);

-- Per inventory row: at or below this many units on hand, the row is low on stock
-- (`inventory.low_stock`, `low_stock=true`).
ALTER TABLE inventory ADD COLUMN low_stock_threshold INTEGER NOT NULL DEFAULT 5
    CHECK (low_stock_threshold BETWEEN 0 AND 1000000000);
