-- wrk script: POST /orders/ with a random two-line order each time (loopback load only).
-- Every request stores an order: CONFIRMED (201) while stock lasts, REJECTED (409) after;
-- count them afterwards with `SELECT status, COUNT(*) FROM orders GROUP BY status`.
-- Usage: wrk -t2 -c64 -d10s --latency -s scripts/orders.lua http://127.0.0.1:8000
-- Environment: STORES (default 24) and PRODUCTS (default 1200) match `aforro serve --demo`.
local stores = tonumber(os.getenv("STORES") or "24")
local products = tonumber(os.getenv("PRODUCTS") or "1200")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  local a = math.random(1, products)
  local b = a % products + 1
  local body = string.format(
    '{"store_id": %d, "items": [{"product_id": %d, "quantity_requested": 1}, {"product_id": %d, "quantity_requested": 1}]}',
    math.random(1, stores), a, b)
  return wrk.format(nil, "/orders/", nil, body)
end
