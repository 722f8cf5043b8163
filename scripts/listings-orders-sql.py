#!/usr/bin/env python3
"""Store orders listing at depth, old queries against new, on one store with 1M orders.

Builds (once) a database with the repository's migrations 0001 and 0005 and 1M orders of one
line in store 1 (every fifth REJECTED), then prints the median CPU time (time.process_time,
so other processes on the shared cores do not inflate it) of the count and of pages 1 and
10,000 (20 rows), with and without a status filter. Python's own SQLite runs the queries.

    python3 scripts/listings-orders-sql.py [/tmp/listings-orders.db]
"""
import os
import sqlite3
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/listings-orders.db"
fresh = not os.path.exists(path)
c = sqlite3.connect(path)
if fresh:
    c.executescript(open(os.path.join(ROOT, "migrations/0001_init.sql")).read())
    c.executescript("INSERT INTO categories VALUES (1, 'k'); INSERT INTO stores VALUES (1, 'a', ''), (2, 'b', '');")
    c.executemany("INSERT INTO products (id, title, price_cents, category_id, created_at) VALUES (?, ?, 100, 1, 0)",
                  [(i, f"p{i}") for i in range(1, 101)])
    c.executescript(open(os.path.join(ROOT, "migrations/0005_store_order_counts.sql")).read())
    c.executemany("INSERT INTO orders (id, store_id, status, created_at) VALUES (?, 1, ?, ?)",
                  ((i, "REJECTED" if i % 5 == 0 else "CONFIRMED", i * 1000) for i in range(1, 1_000_001)))
    c.executemany("INSERT INTO order_items (order_id, product_id, quantity_requested) VALUES (?, ?, ?)",
                  ((i, 1 + i % 100, 1 + i % 3) for i in range(1, 1_000_001)))
    c.commit()
    c.execute("ANALYZE")

TOTAL = "(SELECT COALESCE(SUM(oi.quantity_requested), 0) FROM order_items oi WHERE oi.order_id = o.id)"
OLD_COUNT = "SELECT COUNT(*) FROM orders WHERE store_id = ? AND (? IS NULL OR status = ?)"
NEW_COUNT = "SELECT COALESCE(SUM(orders), 0) FROM store_order_counts WHERE store_id = ? AND (? IS NULL OR status = ?)"
OLD_PAGE = f"""SELECT o.id, o.status, o.created_at, {TOTAL} FROM orders o
  WHERE o.store_id = ? AND (? IS NULL OR o.status = ?) ORDER BY o.created_at DESC, o.id DESC LIMIT ? OFFSET ?"""
NEW_PAGE = f"""SELECT o.id, o.status, o.created_at, {TOTAL} FROM orders o
  WHERE o.id IN (SELECT id FROM orders WHERE store_id = ? {{}} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?)
  ORDER BY o.created_at DESC, o.id DESC"""


def cpu_ms(sql, args, runs=20):
    times = []
    for _ in range(runs):
        start = time.process_time()
        c.execute(sql, args).fetchall()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


print("sqlite", sqlite3.sqlite_version)
for status in [None, "CONFIRMED"]:
    print(f"status={status}: count old {cpu_ms(OLD_COUNT, (1, status, status), 5):.2f} ms, "
          f"new {cpu_ms(NEW_COUNT, (1, status, status)):.3f} ms")
    for page in [1, 10_000]:
        offset = (page - 1) * 20
        old = cpu_ms(OLD_PAGE, (1, status, status, 20, offset), 5)
        new_sql = NEW_PAGE.format("AND status = ?" if status else "")
        new_args = (1, status, 20, offset) if status else (1, 20, offset)
        new = cpu_ms(new_sql, new_args)
        assert c.execute(OLD_PAGE, (1, status, status, 20, offset)).fetchall() == c.execute(new_sql, new_args).fetchall()
        print(f"status={status}: page {page} old {old:.2f} ms, new {new:.2f} ms")
