-- A store's order count per status, kept by triggers in the same transaction as the order, so
-- `GET /stores/<id>/orders/` answers its exact `count` from at most three rows instead of
-- counting a million index entries (about 20 ms at 1M orders in one store).
CREATE TABLE store_order_counts (
    store_id INTEGER NOT NULL,
    status   TEXT    NOT NULL,
    orders   INTEGER NOT NULL CHECK (orders >= 0),
    PRIMARY KEY (store_id, status)
) WITHOUT ROWID;

INSERT INTO store_order_counts (store_id, status, orders)
    SELECT store_id, status, COUNT(*) FROM orders GROUP BY store_id, status;

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
