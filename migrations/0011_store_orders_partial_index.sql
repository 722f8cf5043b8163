-- The store order listing's indexes, written once per order instead of twice (issue 14).
-- Never edit a migration that has been applied anywhere: add a new file instead.
--
-- Every order put an entry in both `orders_store_newest` and `orders_store_status_newest`, on
-- its store's leaf of each: with ~20 stores in a commit of orders, a third of the pages each
-- commit wrote (docs/performance.md, "Why an order writes few index pages"). Almost every order is CONFIRMED, so:
-- - `orders_store_newest` carries the status after the key, and serves the unfiltered listing
--   and the CONFIRMED one (skipping the few other entries without reading a row);
-- - `orders_store_status_newest` keeps only the other statuses (REJECTED, CANCELLED, PENDING),
--   whose listings would otherwise skip every confirmed order to fill a page.
DROP INDEX orders_store_newest;
CREATE INDEX orders_store_newest ON orders (store_id, created_at DESC, id DESC, status);
DROP INDEX orders_store_status_newest;
CREATE INDEX orders_store_status_newest ON orders (store_id, status, created_at DESC, id DESC)
    WHERE status <> 'CONFIRMED';
