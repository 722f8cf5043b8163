-- Order lifecycle and events (issue 16): the CANCELLED status, an event id on every job, and
-- deliveries recorded per event instead of per order.
-- Never edit a migration that has been applied anywhere: add a new file instead.
--
-- SQLite cannot change a CHECK constraint in place: build the new table, copy, swap. `migrate`
-- runs every migration with foreign keys off (the swap would otherwise delete the rows that
-- order_items, jobs and notifications point at) and checks them all before it commits.

CREATE TABLE orders_v2 (
    id         INTEGER PRIMARY KEY,
    store_id   INTEGER NOT NULL REFERENCES stores (id),
    status     TEXT    NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED')),
    created_at INTEGER NOT NULL
);
INSERT INTO orders_v2 (id, store_id, status, created_at) SELECT id, store_id, status, created_at FROM orders;
DROP TABLE orders;
ALTER TABLE orders_v2 RENAME TO orders;
-- Store order listing: newest first, optionally filtered by status.
CREATE INDEX orders_store_newest ON orders (store_id, created_at DESC, id DESC);
CREATE INDEX orders_store_status_newest ON orders (store_id, status, created_at DESC, id DESC);
-- The triggers of 0005_store_order_counts went with the old table; the counts they kept are
-- unchanged by the copy (it inserted into orders_v2, which had none). The same three again, so
-- a cancel moves its order from the CONFIRMED count to the CANCELLED one.
CREATE TRIGGER orders_insert_counts AFTER INSERT ON orders
BEGIN
    INSERT INTO store_order_counts (store_id, status, orders) VALUES (new.store_id, new.status, 1)
        ON CONFLICT (store_id, status) DO UPDATE SET orders = orders + 1;
END;

CREATE TRIGGER orders_delete_counts AFTER DELETE ON orders
BEGIN
    UPDATE store_order_counts SET orders = orders - 1 WHERE store_id = old.store_id AND status = old.status;
END;

CREATE TRIGGER orders_move_counts AFTER UPDATE OF store_id, status ON orders
BEGIN
    UPDATE store_order_counts SET orders = orders - 1 WHERE store_id = old.store_id AND status = old.status;
    INSERT INTO store_order_counts (store_id, status, orders) VALUES (new.store_id, new.status, 1)
        ON CONFLICT (store_id, status) DO UPDATE SET orders = orders + 1;
END;

-- Every job is now an event: its kind is the event's name (`order.confirmed`,
-- `order.cancelled`, `inventory.out_of_stock`, `inventory.back_in_stock`) and `event_id` is the
-- id receivers dedupe on. Random rather than the row id: SQLite may reuse a rowid once the
-- purge has deleted the newest rows, and a reused id would make a receiver drop a new event.
ALTER TABLE jobs ADD COLUMN event_id TEXT;
UPDATE jobs SET event_id = lower(hex(randomblob(16)));
UPDATE jobs SET kind = 'order.confirmed' WHERE kind = 'order_confirmation';
-- No index on kind: every order writes a job row, and the admin page lists the newest jobs
-- by id; an index nobody reads would cost every order an extra B-tree insert.

-- One row per delivered event (it was one per confirmed order). The UNIQUE event id is the
-- senders' dedupe: a job run twice (an expired lease) records once.
CREATE TABLE notifications_v2 (
    id         INTEGER PRIMARY KEY,
    event_id   TEXT    NOT NULL,
    event      TEXT    NOT NULL,
    order_id   INTEGER REFERENCES orders (id),
    channel    TEXT    NOT NULL CHECK (channel IN ('log', 'webhook')),
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    CONSTRAINT notifications_event_unique UNIQUE (event_id)
);
INSERT INTO notifications_v2 (id, event_id, event, order_id, channel, body, created_at)
SELECT n.id,
       COALESCE((SELECT j.event_id FROM jobs j WHERE j.order_id = n.order_id AND j.kind = 'order.confirmed'
                  ORDER BY j.id LIMIT 1),
                'order-' || n.order_id || '-confirmed'),
       'order.confirmed', n.order_id, n.channel, n.body, n.created_at
  FROM notifications n;
DROP TABLE notifications;
ALTER TABLE notifications_v2 RENAME TO notifications;
CREATE INDEX notifications_order ON notifications (order_id);
