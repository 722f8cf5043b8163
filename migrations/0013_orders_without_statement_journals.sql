-- Orders and their lines written without a statement journal (issue 14).
-- Never edit a migration that has been applied anywhere: add a new file instead.
--
-- Inside a transaction SQLite journals a statement of its own (a copy of every page it is
-- about to change, dropped when it ends) when the statement may write several B-trees and
-- may also abort half-way. An order's row and each of its lines were such statements: their
-- triggers (the counts) make them write several B-trees, and three things could abort them:
-- - an immediate foreign key (`orders.store_id`, `order_items.order_id`);
-- - the counts' upserts (`ON CONFLICT DO UPDATE` checks its update with ABORT);
-- - `RAISE(ABORT)` in `order_items_product_exists`.
-- Those journals were a fifth of the writer's time per order (docs/performance.md,
-- "Why orders skip statement journals"). So:
-- - both foreign keys are DEFERRABLE INITIALLY DEFERRED: still enforced, at the commit. The
--   writer checks a store exists before it writes an order, and a line's order is the one it
--   just inserted, so neither is ever violated there;
-- - every store has its four count rows and every product its line count row from the start
--   (triggers on `stores` and `products` add and remove them), so the count triggers are
--   plain `UPDATE`s;
-- - the product check raises FAIL: the line is refused before anything is written.
-- The writer inserts orders and lines with `INSERT OR FAIL` (a CHECK then aborts nothing
-- either); a failed order fails its whole batch, as before.
--
-- SQLite cannot change a foreign key in place: build the new tables, copy, swap (as in 0007
-- and 0010). `migrate` runs with foreign keys off and checks them all before it commits.

-- Count rows for every store and status, and every product, before the triggers need them.
INSERT INTO store_order_counts (store_id, status, orders)
    SELECT s.id, st.status, 0
      FROM stores s
     CROSS JOIN (SELECT 'PENDING' AS status UNION ALL SELECT 'CONFIRMED'
                 UNION ALL SELECT 'REJECTED' UNION ALL SELECT 'CANCELLED') st
     WHERE true
        ON CONFLICT (store_id, status) DO NOTHING;
INSERT INTO product_order_lines (product_id, lines)
    SELECT id, 0 FROM products WHERE true
        ON CONFLICT (product_id) DO NOTHING;

CREATE TABLE orders_v2 (
    id         INTEGER PRIMARY KEY,
    store_id   INTEGER NOT NULL REFERENCES stores (id) DEFERRABLE INITIALLY DEFERRED,
    status     TEXT    NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED')),
    created_at INTEGER NOT NULL
);
INSERT INTO orders_v2 (id, store_id, status, created_at) SELECT id, store_id, status, created_at FROM orders;
DROP TABLE orders;
ALTER TABLE orders_v2 RENAME TO orders;
CREATE INDEX orders_newest ON orders (created_at DESC, id DESC);
CREATE INDEX orders_store_newest ON orders (store_id, created_at DESC, id DESC, status);
CREATE INDEX orders_store_status_newest ON orders (store_id, status, created_at DESC, id DESC)
    WHERE status <> 'CONFIRMED';

CREATE TABLE order_items_v2 (
    id                 INTEGER PRIMARY KEY,
    order_id           INTEGER NOT NULL REFERENCES orders (id) DEFERRABLE INITIALLY DEFERRED,
    product_id         INTEGER NOT NULL,
    quantity_requested INTEGER NOT NULL CHECK (quantity_requested > 0),
    CONSTRAINT order_items_order_product_unique UNIQUE (order_id, product_id)
);
INSERT INTO order_items_v2 (id, order_id, product_id, quantity_requested)
    SELECT id, order_id, product_id, quantity_requested FROM order_items;
DROP TABLE order_items;
ALTER TABLE order_items_v2 RENAME TO order_items;

-- The triggers went with the old tables; the counts are unchanged by the copies (the new
-- tables had no triggers yet).
CREATE TRIGGER orders_insert_counts AFTER INSERT ON orders
BEGIN
    UPDATE store_order_counts SET orders = orders + 1 WHERE store_id = new.store_id AND status = new.status;
END;

CREATE TRIGGER orders_delete_counts AFTER DELETE ON orders
BEGIN
    UPDATE store_order_counts SET orders = orders - 1 WHERE store_id = old.store_id AND status = old.status;
END;

CREATE TRIGGER orders_move_counts AFTER UPDATE OF store_id, status ON orders
BEGIN
    UPDATE store_order_counts SET orders = orders - 1 WHERE store_id = old.store_id AND status = old.status;
    UPDATE store_order_counts SET orders = orders + 1 WHERE store_id = new.store_id AND status = new.status;
END;

CREATE TRIGGER stores_add_counts AFTER INSERT ON stores
BEGIN
    INSERT INTO store_order_counts (store_id, status, orders)
        VALUES (new.id, 'PENDING', 0), (new.id, 'CONFIRMED', 0), (new.id, 'REJECTED', 0), (new.id, 'CANCELLED', 0);
END;

-- A store is deleted only without orders (`delete_store`), so its counts are all zero.
CREATE TRIGGER stores_drop_counts AFTER DELETE ON stores
BEGIN
    DELETE FROM store_order_counts WHERE store_id = old.id;
END;

CREATE TRIGGER order_items_product_exists BEFORE INSERT ON order_items
WHEN NOT EXISTS (SELECT 1 FROM products WHERE id = new.product_id)
BEGIN
    SELECT RAISE(FAIL, 'FOREIGN KEY constraint failed: order_items.product_id names no product');
END;

CREATE TRIGGER order_items_product_moves BEFORE UPDATE OF product_id ON order_items
BEGIN
    SELECT RAISE(ABORT, 'an order line''s product cannot change');
END;

CREATE TRIGGER order_items_count_product AFTER INSERT ON order_items
BEGIN
    UPDATE product_order_lines SET lines = lines + 1 WHERE product_id = new.product_id;
END;

CREATE TRIGGER order_items_uncount_product AFTER DELETE ON order_items
BEGIN
    UPDATE product_order_lines SET lines = lines - 1 WHERE product_id = old.product_id;
END;

CREATE TRIGGER products_add_line_count AFTER INSERT ON products
BEGIN
    INSERT INTO product_order_lines (product_id, lines) VALUES (new.id, 0);
END;

DROP TRIGGER products_keep_ordered;
CREATE TRIGGER products_keep_ordered BEFORE DELETE ON products
WHEN (SELECT lines FROM product_order_lines WHERE product_id = old.id) > 0
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: orders name this product');
END;

CREATE TRIGGER products_drop_line_count AFTER DELETE ON products
BEGIN
    DELETE FROM product_order_lines WHERE product_id = old.id;
END;
