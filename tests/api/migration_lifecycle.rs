//! Migration `0007_order_lifecycle` on a database written before it: orders, their items and
//! the confirmation queue survive the table rebuilds, old jobs become `order.confirmed` events
//! with ids, old deliveries keep pointing at their event, and `CANCELLED` is accepted.

use aforro::db::migrate::migrate;
use rusqlite::Connection;

#[test]
fn migrating_an_old_database_keeps_orders_and_deliveries_and_accepts_cancelled() {
    let mut conn = Connection::open_in_memory().expect("in-memory db");
    conn.pragma_update(None, "foreign_keys", true).expect("foreign keys on, as the app opens it");
    for (name, sql) in [
        ("0001_init", include_str!("../../migrations/0001_init.sql")),
        ("0002_jobs", include_str!("../../migrations/0002_jobs.sql")),
        ("0003_admin", include_str!("../../migrations/0003_admin.sql")),
        ("0004_catalog_lineage", include_str!("../../migrations/0004_catalog_lineage.sql")),
        ("0005_store_order_counts", include_str!("../../migrations/0005_store_order_counts.sql")),
        ("0006_commit_log", include_str!("../../migrations/0006_commit_log.sql")),
    ] {
        conn.execute_batch(sql).expect(name);
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT '');
             INSERT INTO schema_migrations (name) VALUES ('{name}');"
        ))
        .expect("record");
    }
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

    assert_eq!(
        migrate(&mut conn).expect("0007 onwards"),
        ["0007_order_lifecycle", "0008_admin_history", "0009_jobs_done_index"]
    );

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
