//! `aforro seed`: deterministic, realistic, and safe to run twice.

use aforro::db::migrate::migrate;
use aforro::seed::{SeedOptions, seed};
use rusqlite::Connection;

fn small() -> SeedOptions {
    SeedOptions { categories: 10, products: 300, stores: 4, inventory_per_store: 50, random_seed: 7 }
}

fn seeded(options: &SeedOptions) -> Connection {
    let mut conn = Connection::open_in_memory().expect("db");
    migrate(&mut conn).expect("migrate");
    seed(&mut conn, options).expect("seed");
    conn
}

fn column(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).expect("prepare");
    stmt.query_map([], |row| row.get::<_, String>(0)).expect("query").collect::<rusqlite::Result<_>>().expect("rows")
}

fn scalar(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |row| row.get(0)).expect("scalar")
}

#[test]
fn the_same_random_seed_gives_the_same_catalog() {
    let sql =
        "SELECT title || '|' || description || '|' || price_cents || '|' || category_id FROM products ORDER BY id";
    assert_eq!(column(&seeded(&small()), sql), column(&seeded(&small()), sql));
    let other = SeedOptions { random_seed: 8, ..small() };
    assert_ne!(column(&seeded(&small()), sql), column(&seeded(&other), sql));
}

#[test]
fn the_defaults_meet_the_contract_minimums_with_realistic_spread() {
    let conn = seeded(&SeedOptions::default());
    assert!(scalar(&conn, "SELECT COUNT(*) FROM categories") >= 10);
    assert!(scalar(&conn, "SELECT COUNT(*) FROM products") >= 1000);
    assert!(scalar(&conn, "SELECT COUNT(*) FROM stores") >= 20);
    assert!(scalar(&conn, "SELECT MIN(n) FROM (SELECT COUNT(*) AS n FROM inventory GROUP BY store_id)") >= 300);
    assert!(scalar(&conn, "SELECT COUNT(*) FROM inventory WHERE quantity = 0") > 0, "some stock is 0");
    assert!(scalar(&conn, "SELECT MIN(price_cents) FROM products") >= 50);
    assert!(scalar(&conn, "SELECT MAX(price_cents) FROM products") <= 99_999);
    let span_days = scalar(&conn, "SELECT (MAX(created_at) - MIN(created_at)) / 86400000000 FROM products");
    assert!((600..=730).contains(&span_days), "created_at spans about two years, got {span_days} days");
    let distinct_titles = scalar(&conn, "SELECT COUNT(DISTINCT title) FROM products");
    assert!(distinct_titles > 900, "titles are varied: {distinct_titles} distinct");
}

#[test]
fn seeding_twice_adds_rows_without_breaking_unique_constraints() {
    let mut conn = seeded(&small());

    seed(&mut conn, &small()).expect("second seed");

    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM categories"), 10, "categories are matched by name");
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM products"), 600);
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM stores"), 8);
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM inventory"), 400);
}

#[test]
fn inventory_per_store_is_capped_by_the_number_of_products() {
    let conn = seeded(&SeedOptions { products: 20, inventory_per_store: 500, ..small() });
    assert_eq!(scalar(&conn, "SELECT COUNT(*) FROM inventory"), 4 * 20);
}
