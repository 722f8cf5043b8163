#!/usr/bin/env python3
"""Store orders at depth before and after migration 0011 (docs/performance.md, "Listings at depth").

Builds (once) a database with migration 0001's indexes and 1M orders in store 1 (every fifth
REJECTED), and a copy with migration 0011 applied, then prints the median CPU time
(time.process_time) of pages 1 and 10,000 (20 rows): unfiltered, CONFIRMED and REJECTED, each
through the index the app names for it, alternating the two databases twice.

    python3 scripts/store-orders-depth.py [/tmp/depth-old.db] [/tmp/depth-new.db]
"""
import os
import shutil
import sqlite3
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/depth-old.db"
if not os.path.exists(path):
    c = sqlite3.connect(path)
    c.executescript(open(os.path.join(ROOT, "migrations/0001_init.sql")).read())
    c.executescript("INSERT INTO categories VALUES (1, 'k'); INSERT INTO stores VALUES (1, 'a', ''), (2, 'b', '');")
    c.executemany("INSERT INTO products (id, title, price_cents, category_id, created_at) VALUES (?, ?, 100, 1, 0)", [(i, f"p{i}") for i in range(1, 101)])
    c.executemany("INSERT INTO orders (id, store_id, status, created_at) VALUES (?, 1, ?, ?)",
                  ((i, "REJECTED" if i % 5 == 0 else "CONFIRMED", i * 1000) for i in range(1, 1_000_001)))
    c.executemany("INSERT INTO order_items (order_id, product_id, quantity_requested) VALUES (?, ?, ?)",
                  ((i, 1 + i % 100, 1 + i % 3) for i in range(1, 1_000_001)))
    c.commit(); c.execute("ANALYZE"); c.close()
new = sys.argv[2] if len(sys.argv) > 2 else "/tmp/depth-new.db"
if not os.path.exists(new):
    shutil.copy(path, new)
    c = sqlite3.connect(new)
    c.executescript(open(os.path.join(ROOT, "migrations/0011_store_orders_partial_index.sql")).read())
    c.execute("ANALYZE"); c.commit(); c.close()
TOTAL = "(SELECT COALESCE(SUM(oi.quantity_requested), 0) FROM order_items oi WHERE oi.order_id = o.id)"
def page(index, filt):
    return f"""SELECT o.id, o.status, o.created_at, {TOTAL} FROM orders o
  WHERE o.id IN (SELECT id FROM orders INDEXED BY {index} WHERE store_id = ? {filt} ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET ?)
  ORDER BY o.created_at DESC, o.id DESC"""
cases = {
 'old': [('all', page('orders_store_newest',''), ()), ('CONFIRMED', page('orders_store_status_newest',"AND status = ?"), ('CONFIRMED',)), ('REJECTED', page('orders_store_status_newest',"AND status = ?"), ('REJECTED',))],
 'new': [('all', page('orders_store_newest',''), ()), ('CONFIRMED', page('orders_store_newest',"AND status = 'CONFIRMED'"), ()), ('REJECTED', page('orders_store_status_newest',"AND status = ? AND status <> 'CONFIRMED'"), ('REJECTED',))],
}
for label, db in [('old', path), ('new', new), ('old', path), ('new', new)]:
    c = sqlite3.connect(db)
    out=[]
    for name, sql, extra in cases[label]:
        for pg in (1, 10000):
            args = (1,) + extra + ((pg - 1) * 20,)
            ts=[]
            for _ in range(15):
                t=time.process_time(); rows=c.execute(sql, args).fetchall(); ts.append(time.process_time()-t)
            out.append(f"{name} p{pg} {statistics.median(ts)*1000:.2f}ms")
    print(label, ' | '.join(out))
