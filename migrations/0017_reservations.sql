-- Reservations (checkout holds): stock set aside for a shopper while they pay (issue 30).
-- Never edit a migration that has been applied anywhere: add a new file instead.
--
-- `inventory.held` is what the ACTIVE reservations hold of a row, kept by the writer in the
-- same transaction as every hold, release, use and expiry, so a listing computes
-- `available = max(0, quantity - held)` from the row alone (one page, one query). Between a
-- reservation's `expires_at` and the expiry write (a timer at the earliest expiry, within a
-- second) the column still counts it; the writer's own availability checks subtract such
-- holds exactly (`reservations_active_expiry` finds them).
ALTER TABLE inventory ADD COLUMN held INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0);
-- The stock view loads the rows that hold something at start without reading every row.
CREATE INDEX inventory_held ON inventory (store_id, product_id) WHERE held > 0;

CREATE TABLE reservations (
    id         INTEGER PRIMARY KEY,
    store_id   INTEGER NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    status     TEXT    NOT NULL CHECK (status IN ('ACTIVE', 'USED', 'RELEASED', 'EXPIRED')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    -- The order that took it (status USED).
    order_id   INTEGER
);
-- The ACTIVE reservations by expiry: the sweep's and the timer's next due, and the writer's
-- "expired but not yet swept" check. Only ACTIVE rows are in it, so it stays small.
CREATE INDEX reservations_active_expiry ON reservations (expires_at) WHERE status = 'ACTIVE';
CREATE INDEX reservations_order ON reservations (order_id) WHERE order_id IS NOT NULL;

CREATE TABLE reservation_items (
    id             INTEGER PRIMARY KEY,
    reservation_id INTEGER NOT NULL REFERENCES reservations (id) ON DELETE CASCADE,
    product_id     INTEGER NOT NULL,
    quantity       INTEGER NOT NULL CHECK (quantity > 0),
    CONSTRAINT reservation_items_unique UNIQUE (reservation_id, product_id)
);
-- The admin inventory row lists the reservations holding its product.
CREATE INDEX reservation_items_product ON reservation_items (product_id, reservation_id);

-- The order body names the reservation it took (`reservation_id`, null without one).
ALTER TABLE orders ADD COLUMN reservation_id INTEGER;
