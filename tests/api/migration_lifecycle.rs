//! Migration `0007_order_lifecycle` on a database written before it: orders, their items and
//! the confirmation queue survive the table rebuilds, old jobs become `order.confirmed` events
//! with ids, old deliveries keep pointing at their event, and `CANCELLED` is accepted. And
//! `0010_product_order_lines`: the per-product line count that replaced a foreign key. And
//! `0013_orders_without_statement_journals`: deferred foreign keys and counts kept for every
//! store and product. And `0014_delivery_attempts`: existing jobs can record attempts.

use aforro::db::migrate::{MIGRATIONS, migrate};
use rusqlite::Connection;

/// Applies the migrations up to and including `last` by hand, recording each, as a release
/// that knew no later one left its database.
fn migrated_by_hand_through(conn: &Connection, last: &str) {
    for (name, sql) in MIGRATIONS {
        conn.execute_batch(sql).expect(name);
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT '');
             INSERT INTO schema_migrations (name) VALUES ('{name}');"
        ))
        .expect("record");
        if *name == last {
            return;
        }
    }
    panic!("no migration is named {last}");
}

/// An in-memory database, foreign keys on as the app opens it, as a release that knew no
/// migration after `last` left it.
fn database_left_by(last: &str) -> Connection {
    let conn = Connection::open_in_memory().expect("in-memory db");
    conn.pragma_update(None, "foreign_keys", true).expect("foreign keys on, as the app opens it");
    migrated_by_hand_through(&conn, last);
    conn
}

#[test]
fn migrating_an_old_database_keeps_orders_and_deliveries_and_accepts_cancelled() {
    let mut conn = database_left_by("0006_commit_log");
    conn.execute_batch(
        "INSERT INTO categories (id, name) VALUES (1, 'C');
         INSERT INTO products (id, title, price_cents, category_id, created_at) VALUES (1, 'P', 100, 1, 1);
         INSERT INTO stores (id, name) VALUES (1, 'S');
         INSERT INTO orders (id, store_id, status, created_at) VALUES (1, 1, 'CONFIRMED', 10), (2, 1, 'REJECTED', 20);
         INSERT INTO order_items (order_id, product_id, quantity_requested) VALUES (1, 1, 2), (2, 1, 9);
         INSERT INTO jobs (id, kind, order_id, payload, state, run_at, created_at, updated_at, done_at)
           VALUES (5, 'order_confirmation', 1, '{\"order_id\":1}', 'done', 10, 10, 15, 15);
         INSERT INTO notifications (order_id, channel, body, created_at) VALUES (1, 'log', '{}', 15);",
    )
    .expect("old rows");

    let later: Vec<&str> =
        MIGRATIONS.iter().map(|(name, _)| *name).skip_while(|name| *name <= "0006_commit_log").collect();
    assert_eq!(migrate(&mut conn).expect("0007 onwards"), later);
    assert_eq!(later.first(), Some(&"0007_order_lifecycle"));

    let count = |sql: &str| conn.query_row(sql, [], |row| row.get::<_, i64>(0)).expect(sql);
    assert_eq!(count("SELECT COUNT(*) FROM orders"), 2);
    assert_eq!(count("SELECT COUNT(*) FROM order_items"), 2);
    assert_eq!(count("SELECT COUNT(*) FROM pragma_foreign_key_check"), 0);
    let (kind, event_id): (String, String) = conn
        .query_row("SELECT kind, event_id FROM jobs WHERE id = 5", [], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("job");
    assert_eq!((kind.as_str(), event_id.len()), ("order.confirmed", 32));
    let delivered: String = conn
        .query_row("SELECT event_id FROM notifications WHERE order_id = 1", [], |row| row.get(0))
        .expect("delivery");
    assert_eq!(delivered, event_id, "the old delivery records the job's event");
    conn.execute("UPDATE orders SET status = 'CANCELLED' WHERE id = 1", []).expect("CANCELLED is a status now");
    let counts = |status: &str| {
        conn.query_row("SELECT orders FROM store_order_counts WHERE store_id = 1 AND status = ?1", [status], |row| {
            row.get::<_, i64>(0)
        })
        .expect(status)
    };
    assert_eq!(
        (counts("CONFIRMED"), counts("CANCELLED"), counts("REJECTED")),
        (0, 1, 1),
        "the count triggers came back"
    );
    assert!(conn.execute("UPDATE orders SET status = 'LOST' WHERE id = 1", []).is_err(), "the CHECK still holds");
    let enforced: bool = conn.query_row("PRAGMA foreign_keys", [], |row| row.get(0)).expect("pragma");
    assert!(enforced, "foreign keys are back on after migrating");
}

/// Migration `0010_product_order_lines` on a database with orders: the per-product line count
/// starts from the lines already there, follows every new line, and keeps what the foreign key
/// from `order_items` to `products` guaranteed.
#[test]
fn the_per_product_line_count_keeps_the_guarantees_of_the_foreign_key_it_replaced() {
    let mut conn = Connection::open_in_memory().expect("in-memory db");
    conn.pragma_update(None, "foreign_keys", true).expect("foreign keys on, as the app opens it");
    let applied: Vec<&str> = migrate(&mut conn).expect("migrate");
    assert!(applied.contains(&"0010_product_order_lines"));
    conn.execute_batch(
        "INSERT INTO categories (id, name) VALUES (1, 'C');
         INSERT INTO products (id, title, price_cents, category_id, created_at)
           VALUES (1, 'Ordered twice', 100, 1, 1), (2, 'Ordered once', 100, 1, 1), (3, 'Never ordered', 100, 1, 1);
         INSERT INTO stores (id, name) VALUES (1, 'S');
         INSERT INTO orders (id, store_id, status, created_at) VALUES (1, 1, 'CONFIRMED', 10), (2, 1, 'REJECTED', 20);
         INSERT INTO order_items (order_id, product_id, quantity_requested) VALUES (1, 1, 2), (1, 2, 1), (2, 1, 9);",
    )
    .expect("orders");
    let lines = |product: i64| -> Option<i64> {
        conn.query_row("SELECT lines FROM product_order_lines WHERE product_id = ?1", [product], |row| row.get(0)).ok()
    };
    assert_eq!((lines(1), lines(2), lines(3)), (Some(2), Some(1), Some(0)), "every product has a count (0013)");

    let unknown =
        conn.execute("INSERT INTO order_items (order_id, product_id, quantity_requested) VALUES (2, 99, 1)", []);
    assert!(unknown.is_err(), "a line must name an existing product");
    let ordered = conn.execute("DELETE FROM products WHERE id = 2", []);
    assert!(ordered.is_err(), "a product an order names cannot be deleted");
    conn.execute("DELETE FROM products WHERE id = 3", []).expect("a product no order names can be");
    assert_eq!(lines(3), None, "its count goes with it");
    conn.execute("DELETE FROM order_items WHERE product_id = 2", []).expect("by hand");
    assert_eq!(lines(2), Some(0), "a count that falls to zero stays, at zero");
    conn.execute("DELETE FROM products WHERE id = 2", []).expect("and the product may go with it");
    assert_eq!(lines(2), None);
    let counted: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM (SELECT product_id, COUNT(*) AS n FROM order_items GROUP BY product_id
                                    EXCEPT SELECT product_id, lines FROM product_order_lines)",
            [],
            |row| row.get(0),
        )
        .expect("compare");
    assert_eq!(counted, 0, "every product's count is its number of lines");
    let extra: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM product_order_lines p
              WHERE p.lines <> (SELECT COUNT(*) FROM order_items i WHERE i.product_id = p.product_id)
                 OR NOT EXISTS (SELECT 1 FROM products WHERE id = p.product_id)",
            [],
            |row| row.get(0),
        )
        .expect("compare");
    assert_eq!(extra, 0, "and no count is kept for a product that is gone");
}

/// The migration counts the lines a database already holds.
#[test]
fn migrating_counts_the_lines_already_written() {
    let mut conn = database_left_by("0009_jobs_done_index");
    conn.execute_batch(
        "INSERT INTO categories (id, name) VALUES (1, 'C');
         INSERT INTO products (id, title, price_cents, category_id, created_at) VALUES (1, 'P', 100, 1, 1), (2, 'Q', 1, 1, 1);
         INSERT INTO stores (id, name) VALUES (1, 'S');
         INSERT INTO orders (id, store_id, status, created_at) VALUES (1, 1, 'CONFIRMED', 10), (2, 1, 'CONFIRMED', 20);
         INSERT INTO order_items (id, order_id, product_id, quantity_requested) VALUES (7, 1, 1, 2), (8, 2, 1, 1), (9, 2, 2, 4);",
    )
    .expect("old rows");

    let later: Vec<&str> =
        MIGRATIONS.iter().map(|(name, _)| *name).skip_while(|name| *name <= "0009_jobs_done_index").collect();
    assert_eq!(migrate(&mut conn).expect("0010 onwards"), later);

    let rows: Vec<(i64, i64)> = conn
        .prepare("SELECT product_id, lines FROM product_order_lines ORDER BY product_id")
        .and_then(|mut stmt| stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?.collect())
        .expect("counts");
    assert_eq!(rows, [(1, 2), (2, 1)]);
    let ids: Vec<i64> = conn
        .prepare("SELECT id FROM order_items ORDER BY id")
        .and_then(|mut stmt| stmt.query_map([], |row| row.get(0))?.collect())
        .expect("ids");
    assert_eq!(ids, [7, 8, 9], "the lines keep their ids (and so their order)");
}

/// Migration `0013_orders_without_statement_journals` on a database with orders: rows and
/// counts survive the rebuilds, every store and product gets its count rows, the count
/// triggers follow new orders, cancels and new or deleted stores and products, and the
/// foreign keys, now deferred, still refuse a dangling order when its transaction commits.
#[test]
fn deferred_foreign_keys_still_hold_at_the_commit_and_every_store_and_product_has_its_counts() {
    let mut conn = database_left_by("0012_jobs_queued_failed_index");
    conn.execute_batch(
        "INSERT INTO categories (id, name) VALUES (1, 'C');
         INSERT INTO products (id, title, price_cents, category_id, created_at)
           VALUES (1, 'P', 100, 1, 1), (2, 'Q', 1, 1, 1), (3, 'Never ordered', 1, 1, 1);
         INSERT INTO stores (id, name) VALUES (1, 'S'), (2, 'Quiet');
         INSERT INTO orders (id, store_id, status, created_at)
           VALUES (1, 1, 'CONFIRMED', 10), (2, 1, 'CONFIRMED', 20), (3, 1, 'REJECTED', 30);
         INSERT INTO order_items (id, order_id, product_id, quantity_requested)
           VALUES (7, 1, 1, 2), (8, 2, 1, 1), (9, 2, 2, 4), (10, 3, 2, 9);",
    )
    .expect("old rows");
    let applied = migrate(&mut conn).expect("0013 and what came after it");
    assert_eq!(applied.first(), Some(&"0013_orders_without_statement_journals"));

    let count = |sql: &str| conn.query_row(sql, [], |row| row.get::<_, i64>(0)).expect(sql);
    let store_counts = |store: i64| -> Vec<(String, i64)> {
        conn.prepare("SELECT status, orders FROM store_order_counts WHERE store_id = ?1 ORDER BY status")
            .and_then(|mut stmt| stmt.query_map([store], |row| Ok((row.get(0)?, row.get(1)?)))?.collect())
            .expect("counts")
    };
    let expect = |pairs: [(&str, i64); 4]| pairs.map(|(status, n)| (status.to_owned(), n)).to_vec();
    assert_eq!(store_counts(1), expect([("CANCELLED", 0), ("CONFIRMED", 2), ("PENDING", 0), ("REJECTED", 1)]));
    assert_eq!(store_counts(2), expect([("CANCELLED", 0), ("CONFIRMED", 0), ("PENDING", 0), ("REJECTED", 0)]));
    let lines: Vec<(i64, i64)> = conn
        .prepare("SELECT product_id, lines FROM product_order_lines ORDER BY product_id")
        .and_then(|mut stmt| stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?.collect())
        .expect("lines");
    assert_eq!(lines, [(1, 2), (2, 2), (3, 0)]);
    assert_eq!(count("SELECT COUNT(*) FROM orders"), 3);
    assert_eq!(count("SELECT SUM(id) FROM order_items"), 7 + 8 + 9 + 10, "the lines keep their ids");
    assert_eq!(count("SELECT COUNT(*) FROM pragma_foreign_key_check"), 0);

    conn.execute_batch(
        "INSERT INTO orders (id, store_id, status, created_at) VALUES (4, 2, 'CONFIRMED', 40);
         INSERT INTO order_items (order_id, product_id, quantity_requested) VALUES (4, 3, 1);
         UPDATE orders SET status = 'CANCELLED' WHERE id = 1;
         INSERT INTO stores (id, name) VALUES (3, 'New');
         INSERT INTO products (id, title, price_cents, category_id, created_at) VALUES (4, 'New', 1, 1, 1);",
    )
    .expect("an order, a cancel, a new store and product");
    assert_eq!(store_counts(1), expect([("CANCELLED", 1), ("CONFIRMED", 1), ("PENDING", 0), ("REJECTED", 1)]));
    assert_eq!(store_counts(2), expect([("CANCELLED", 0), ("CONFIRMED", 1), ("PENDING", 0), ("REJECTED", 0)]));
    assert_eq!(store_counts(3).len(), 4, "a new store starts with its four counts");
    assert_eq!(count("SELECT lines FROM product_order_lines WHERE product_id = 3"), 1);
    assert_eq!(count("SELECT lines FROM product_order_lines WHERE product_id = 4"), 0);
    conn.execute("DELETE FROM stores WHERE id = 3", []).expect("a store without orders");
    assert!(store_counts(3).is_empty(), "its counts go with it");

    let dangling = conn.execute("INSERT INTO orders (store_id, status, created_at) VALUES (99, 'CONFIRMED', 1)", []);
    assert!(dangling.is_err(), "on its own, the insert commits and the foreign key refuses it");
    conn.execute_batch("BEGIN; INSERT INTO orders (store_id, status, created_at) VALUES (99, 'CONFIRMED', 1);")
        .expect("deferred: the statement runs");
    assert!(conn.execute_batch("COMMIT").is_err(), "and the commit refuses it");
    conn.execute_batch("ROLLBACK").expect("rolled back");
    let orphan =
        conn.execute("INSERT INTO order_items (order_id, product_id, quantity_requested) VALUES (99, 1, 1)", []);
    assert!(orphan.is_err(), "a line must name an order");
    let unknown =
        conn.execute("INSERT INTO order_items (order_id, product_id, quantity_requested) VALUES (4, 99, 1)", []);
    assert!(unknown.is_err(), "and an existing product");
    assert_eq!(count("SELECT COUNT(*) FROM orders"), 4);
    assert_eq!(count("SELECT COUNT(*) FROM order_items"), 5);
}

/// Migration `0014_delivery_attempts` on a database with jobs: they keep their rows and can
/// record attempts; an attempt of no job is refused.
#[test]
fn existing_jobs_record_delivery_attempts_after_0014() {
    let mut conn = database_left_by("0013_orders_without_statement_journals");
    conn.execute_batch(
        "INSERT INTO jobs (id, kind, event_id, state, attempts, run_at, created_at, updated_at, last_error)
           VALUES (5, 'inventory.out_of_stock', 'e5', 'failed', 8, 1, 1, 1, 'receiver down')",
    )
    .expect("an old job");
    let applied = migrate(&mut conn).expect("0014 and what came after it");
    assert_eq!(applied.first(), Some(&"0014_delivery_attempts"));

    let insert = |job: i64| {
        conn.execute(
            "INSERT INTO delivery_attempts (job_id, attempt, started_at, duration_micros, http_status)
             VALUES (?1, 1, 1, 0, 200)",
            [job],
        )
    };
    insert(5).expect("an attempt of the old job");
    assert!(insert(6).is_err(), "an attempt of no job");
    let state: String = conn.query_row("SELECT state FROM jobs WHERE id = 5", [], |row| row.get(0)).expect("job");
    assert_eq!(state, "failed");
}
