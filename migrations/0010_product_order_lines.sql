-- Which products orders name, counted per product, instead of an index entry per order line
-- (issue 14). Never edit a migration that has been applied anywhere: add a new file instead.
--
-- `order_items_product (product_id)` existed for two readers: deleting a product (refused
-- while an order names it) and the foreign key `order_items.product_id → products`, whose
-- check on a product's deletion looks up the product's lines. Yet every order line put an
-- entry on that product's own leaf page: a quarter of the pages each commit of orders wrote
-- (docs/performance.md, "Why an order writes few index pages"). A count per product answers both questions from one
-- row, and its rows sit on a few pages that a batch of orders shares.
--
-- The foreign key goes with the index (without the index SQLite would check it by reading
-- every order line at each product deletion). Triggers keep the same guarantees:
-- - a line must name an existing product (`order_items_product_exists`);
-- - a product named by a line cannot be deleted (`products_keep_ordered`).
-- SQLite cannot drop a foreign key in place: build the new table, copy, swap (as in 0007).

CREATE TABLE product_order_lines (
    product_id INTEGER PRIMARY KEY,
    lines      INTEGER NOT NULL CHECK (lines >= 0)
);
INSERT INTO product_order_lines (product_id, lines)
    SELECT product_id, COUNT(*) FROM order_items GROUP BY product_id;

CREATE TABLE order_items_v2 (
    id                 INTEGER PRIMARY KEY,
    order_id           INTEGER NOT NULL REFERENCES orders (id),
    product_id         INTEGER NOT NULL,
    quantity_requested INTEGER NOT NULL CHECK (quantity_requested > 0),
    CONSTRAINT order_items_order_product_unique UNIQUE (order_id, product_id)
);
INSERT INTO order_items_v2 (id, order_id, product_id, quantity_requested)
    SELECT id, order_id, product_id, quantity_requested FROM order_items;
DROP TABLE order_items;
ALTER TABLE order_items_v2 RENAME TO order_items;

CREATE TRIGGER order_items_product_exists BEFORE INSERT ON order_items
WHEN NOT EXISTS (SELECT 1 FROM products WHERE id = new.product_id)
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: order_items.product_id names no product');
END;

CREATE TRIGGER order_items_product_moves BEFORE UPDATE OF product_id ON order_items
BEGIN
    SELECT RAISE(ABORT, 'an order line''s product cannot change');
END;

CREATE TRIGGER order_items_count_product AFTER INSERT ON order_items
BEGIN
    INSERT INTO product_order_lines (product_id, lines) VALUES (new.product_id, 1)
        ON CONFLICT (product_id) DO UPDATE SET lines = lines + 1;
END;

CREATE TRIGGER order_items_uncount_product AFTER DELETE ON order_items
BEGIN
    UPDATE product_order_lines SET lines = lines - 1 WHERE product_id = old.product_id;
    DELETE FROM product_order_lines WHERE product_id = old.product_id AND lines = 0;
END;

CREATE TRIGGER products_keep_ordered BEFORE DELETE ON products
WHEN EXISTS (SELECT 1 FROM product_order_lines WHERE product_id = old.id)
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: orders name this product');
END;
