//! Reservations (contract, "Reservations (checkout holds)"): every status of the three routes,
//! holds in every reader of available stock, an order taking its reservation, racing holds,
//! expiry by a manual clock, and store scope.

use std::time::Duration;

use aforro::domain::{Clock, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_with_status, small_catalog, spawn_app};

fn hold(store_id: i64, lines: &[(i64, i64)]) -> Value {
    let items: Vec<Value> =
        lines.iter().map(|&(product, quantity)| json!({"product_id": product, "quantity": quantity})).collect();
    json!({"store_id": store_id, "items": items})
}

fn order(store_id: i64, lines: &[(i64, i64)], reservation_id: Option<i64>) -> Value {
    let items: Vec<Value> = lines
        .iter()
        .map(|&(product, quantity)| json!({"product_id": product, "quantity_requested": quantity}))
        .collect();
    json!({"store_id": store_id, "items": items, "reservation_id": reservation_id})
}

async fn catalog_app() -> TestApp {
    TestApp::builder().fixture(small_catalog).spawn().await
}

/// The inventory listing row of `product` in `store`.
async fn listing_row(app: &TestApp, store: i64, product: i64) -> Value {
    let page =
        json_with_status(app.get(&format!("/stores/{store}/inventory/?page_size=100")).await, StatusCode::OK).await;
    page["results"].as_array().expect("results").iter().find(|row| row["product_id"] == product).cloned().expect("row")
}

async fn granted(app: &TestApp, body: &Value) -> Value {
    json_with_status(app.post_reservation(body).await, StatusCode::CREATED).await
}

fn id_of(body: &Value) -> i64 {
    body["id"].as_i64().expect("an id")
}

#[tokio::test]
async fn a_hold_lowers_available_everywhere_and_leaves_on_hand_alone() {
    let app = catalog_app().await;
    let body = granted(&app, &hold(1, &[(1, 4)])).await;
    assert_eq!(body["status"], "ACTIVE");
    assert_eq!(body["store_id"], 1);
    assert_eq!(body["items"], json!([{"product_id": 1, "quantity": 4}]));
    let created = Timestamp::parse_rfc3339(body["created_at"].as_str().expect("created_at")).expect("a timestamp");
    let expires = Timestamp::parse_rfc3339(body["expires_at"].as_str().expect("expires_at")).expect("a timestamp");
    assert_eq!(expires.micros - created.micros, 900 * 1_000_000, "15 minutes by default");

    assert_eq!(app.stock(1, 1), 10, "on hand is unchanged");
    let row = listing_row(&app, 1, 1).await;
    assert_eq!(
        (row["quantity"].clone(), row["held"].clone(), row["available"].clone()),
        (json!(10), json!(4), json!(6))
    );
    let search = json_with_status(app.get("/api/search/products/?q=kettle&store_id=1").await, StatusCode::OK).await;
    assert_eq!(search["results"][0]["quantity"], 6, "search quantity is what is available");

    let too_many = app.post_order(&order(1, &[(1, 7)], None)).await;
    let rejected = json_with_status(too_many, StatusCode::CONFLICT).await;
    assert_eq!(rejected["errors"], json!([{"product_id": 1, "requested": 7, "available": 6}]));
    json_with_status(app.post_order(&order(1, &[(1, 6)], None)).await, StatusCode::CREATED).await;
    assert_eq!(listing_row(&app, 1, 1).await["available"], 0);
    app.shutdown().await;
}

#[tokio::test]
async fn a_hold_on_the_last_unit_takes_the_product_out_of_in_stock_searches_and_listings() {
    let app = catalog_app().await;
    // Product 5 has 1 unit in store 1 and none elsewhere.
    granted(&app, &hold(1, &[(5, 1)])).await;
    let in_store =
        json_with_status(app.get("/api/search/products/?store_id=1&in_stock=true").await, StatusCode::OK).await;
    let ids: Vec<i64> =
        in_store["results"].as_array().expect("results").iter().map(|r| r["id"].as_i64().expect("id")).collect();
    assert!(!ids.contains(&5), "held: not in stock in store 1: {ids:?}");
    let anywhere = json_with_status(app.get("/api/search/products/?in_stock=false").await, StatusCode::OK).await;
    let ids: Vec<i64> =
        anywhere["results"].as_array().expect("results").iter().map(|r| r["id"].as_i64().expect("id")).collect();
    assert!(ids.contains(&5), "held: out of stock everywhere: {ids:?}");
    let first =
        json_with_status(app.get("/api/search/products/?store_id=1&stock_first=true&sort=price").await, StatusCode::OK)
            .await;
    let results = first["results"].as_array().expect("results");
    assert_eq!(results.last().expect("a result")["id"], 3, "out-of-stock products last: {first}");
    assert!(
        results.iter().position(|r| r["id"] == 5) > results.iter().position(|r| r["id"] == 2),
        "product 5 sorts with the out-of-stock: {first}"
    );
    let listing = json_with_status(app.get("/stores/1/inventory/?in_stock=false").await, StatusCode::OK).await;
    let ids: Vec<i64> =
        listing["results"].as_array().expect("results").iter().map(|r| r["product_id"].as_i64().expect("id")).collect();
    assert_eq!(ids, [5, 3], "in_stock tests available (by title: Atlas Mug, Camping Tent)");
    app.shutdown().await;
}

#[tokio::test]
async fn a_short_hold_is_409_naming_each_line_and_holds_nothing() {
    let app = catalog_app().await;
    let response = app.post_reservation(&hold(1, &[(1, 2), (2, 4), (3, 1)])).await;
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let problem = json_with_status(response, StatusCode::CONFLICT).await;
    assert_eq!(
        problem["errors"],
        json!([
            {"field": "items[1].quantity", "message": "4 requested, 3 available", "product_id": 2, "requested": 4, "available": 3},
            {"field": "items[2].quantity", "message": "1 requested, 0 available", "product_id": 3, "requested": 1, "available": 0},
        ])
    );
    assert_eq!(app.count("reservations"), 0);
    assert_eq!(listing_row(&app, 1, 1).await["held"], 0, "the good line was not held either");
    app.shutdown().await;
}

#[tokio::test]
async fn invalid_holds_are_400_an_unknown_store_404_and_nothing_is_stored() {
    let app = catalog_app().await;
    let cases = [
        (json!({"store_id": 1, "items": [{"product_id": 1, "quantity": 0}]}), "items[0].quantity"),
        (json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 1}]}), "items[0].quantity"),
        (json!({"store_id": 1, "items": [{"product_id": 1, "quantity": 1}], "ttl_seconds": 59}), "ttl_seconds"),
        (json!({"store_id": 1, "items": [{"product_id": 1, "quantity": 1}], "ttl_seconds": 86_401}), "ttl_seconds"),
        (json!({"store_id": 1, "items": []}), "items"),
        (json!({"items": [{"product_id": 1, "quantity": 1}]}), "store_id"),
        (json!({"store_id": 1, "items": [{"product_id": 99, "quantity": 1}]}), "items[0].product_id"),
        (
            json!({"store_id": 1, "items": [{"product_id": 1, "quantity": 1}, {"product_id": 1, "quantity": 1}]}),
            "items[1].product_id",
        ),
    ];
    for (body, field) in cases {
        let problem = json_with_status(app.post_reservation(&body).await, StatusCode::BAD_REQUEST).await;
        let fields: Vec<&str> =
            problem["errors"].as_array().expect("errors").iter().map(|e| e["field"].as_str().expect("field")).collect();
        assert!(fields.contains(&field), "{body}: {problem}");
    }
    json_with_status(app.post_reservation(&hold(9, &[(1, 1)])).await, StatusCode::NOT_FOUND).await;
    assert_eq!(app.count("reservations"), 0);
    app.shutdown().await;
}

#[tokio::test]
async fn an_idempotent_retry_replays_the_first_hold_and_another_body_is_422() {
    let app = catalog_app().await;
    let send = async |body: &Value| {
        app.client
            .post(app.url("/reservations/"))
            .header("Idempotency-Key", "cart-7")
            .json(body)
            .send()
            .await
            .expect("request")
    };
    let first = json_with_status(send(&hold(1, &[(1, 2)])).await, StatusCode::CREATED).await;
    let again = json_with_status(
        send(&json!({"items": [{"quantity": 2, "product_id": 1}], "store_id": 1, "ttl_seconds": 900})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(first, again, "the same request replays the first response");
    assert_eq!(app.count("reservations"), 1);
    json_with_status(send(&hold(1, &[(1, 3)])).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    // The same key on an order is another request: refused, not replayed as a reservation.
    let as_order = app.post_order_with_key(&order(1, &[(1, 2)], None), "cart-7").await;
    json_with_status(as_order, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(listing_row(&app, 1, 1).await["held"], 2);
    app.shutdown().await;
}

#[tokio::test]
async fn get_answers_the_reservation_and_unknown_ids_are_404() {
    let app = catalog_app().await;
    let body = granted(&app, &hold(1, &[(4, 2), (1, 1)])).await;
    let read = json_with_status(app.get(&format!("/reservations/{}/", id_of(&body))).await, StatusCode::OK).await;
    assert_eq!(read, body);
    for path in ["/reservations/999/", "/reservations/abc/", "/reservations/0/"] {
        json_with_status(app.get(path).await, StatusCode::NOT_FOUND).await;
        json_with_status(app.delete(path).await, StatusCode::NOT_FOUND).await;
    }
    app.shutdown().await;
}

#[tokio::test]
async fn delete_releases_an_active_hold_once_and_refuses_a_used_one() {
    let app = catalog_app().await;
    let body = granted(&app, &hold(1, &[(2, 3)])).await;
    let path = format!("/reservations/{}/", id_of(&body));
    let released = json_with_status(app.delete(&path).await, StatusCode::OK).await;
    assert_eq!(released["status"], "RELEASED");
    assert_eq!(listing_row(&app, 1, 2).await["available"], 3, "available again in the very next request");
    let again = json_with_status(app.delete(&path).await, StatusCode::OK).await;
    assert_eq!(again, released, "a released reservation is answered unchanged");

    let used = granted(&app, &hold(1, &[(2, 1)])).await;
    json_with_status(app.post_order(&order(1, &[(2, 1)], Some(id_of(&used)))).await, StatusCode::CREATED).await;
    let refused = app.delete(&format!("/reservations/{}/", id_of(&used))).await;
    json_with_status(refused, StatusCode::CONFLICT).await;
    app.shutdown().await;
}

#[tokio::test]
async fn an_order_naming_its_reservation_takes_the_held_units_in_one_transaction() {
    let app = catalog_app().await;
    let body = granted(&app, &hold(1, &[(2, 2), (4, 1)])).await;
    let id = id_of(&body);
    // Only 1 of product 2 is available to anyone else.
    json_with_status(app.post_order(&order(1, &[(2, 2)], None)).await, StatusCode::CONFLICT).await;

    let placed = app.post_order(&order(1, &[(4, 1), (2, 2)], Some(id))).await;
    let placed = json_with_status(placed, StatusCode::CREATED).await;
    assert_eq!(placed["reservation_id"], id);
    assert_eq!((app.stock(1, 2), app.stock(1, 4)), (1, 4), "the held units were taken from on hand");
    let row = listing_row(&app, 1, 2).await;
    assert_eq!((row["held"].clone(), row["available"].clone()), (json!(0), json!(1)));
    let read = json_with_status(app.get(&format!("/reservations/{id}/")).await, StatusCode::OK).await;
    assert_eq!(read["status"], "USED");
    let order_id = placed["id"].as_i64().expect("order id");
    let stored = json_with_status(app.get(&format!("/orders/{order_id}/")).await, StatusCode::OK).await;
    assert_eq!(stored["reservation_id"], id);

    let orders_before = app.count("orders");
    let twice =
        json_with_status(app.post_order(&order(1, &[(2, 2), (4, 1)], Some(id))).await, StatusCode::CONFLICT).await;
    assert_eq!(twice["reservation_status"], "USED");
    assert_eq!(app.count("orders"), orders_before, "no order stored");
    let plain = json_with_status(app.post_order(&order(1, &[(1, 1)], None)).await, StatusCode::CREATED).await;
    assert_eq!(plain["reservation_id"], Value::Null, "an order without one says null");
    app.shutdown().await;
}

#[tokio::test]
async fn an_order_must_match_its_reservation_and_name_one_of_its_store() {
    let app = catalog_app().await;
    let ours = id_of(&granted(&app, &hold(1, &[(1, 2)])).await);
    let theirs = id_of(&granted(&app, &hold(2, &[(1, 2)])).await);
    let orders_before = app.count("orders");
    for (body, field) in [
        (order(1, &[(1, 3)], Some(ours)), "items"),
        (order(1, &[(1, 2), (4, 1)], Some(ours)), "items"),
        (order(1, &[(1, 2)], Some(theirs)), "reservation_id"),
        (order(1, &[(1, 2)], Some(999)), "reservation_id"),
        (
            json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": 2}], "reservation_id": "x"}),
            "reservation_id",
        ),
    ] {
        let problem = json_with_status(app.post_order(&body).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    assert_eq!(app.count("orders"), orders_before, "nothing stored");
    app.shutdown().await;
}

#[tokio::test]
async fn a_released_reservation_cannot_be_used_and_an_admin_cut_makes_a_short_order() {
    let app = catalog_app().await;
    let released = id_of(&granted(&app, &hold(1, &[(1, 2)])).await);
    json_with_status(app.delete(&format!("/reservations/{released}/")).await, StatusCode::OK).await;
    let refused =
        json_with_status(app.post_order(&order(1, &[(1, 2)], Some(released))).await, StatusCode::CONFLICT).await;
    assert_eq!(refused["reservation_status"], "RELEASED");
    assert_eq!(refused["status"], 409);

    let held = id_of(&granted(&app, &hold(1, &[(4, 3)])).await);
    app.state
        .writer
        .update_stock_as(
            crate::helpers::test_actor(),
            aforro::domain::StoreId(1),
            aforro::domain::ProductId(4),
            aforro::domain::catalog::StockUpdate::Set(2),
        )
        .await
        .expect("admin cut");
    let short = json_with_status(app.post_order(&order(1, &[(4, 3)], Some(held))).await, StatusCode::CONFLICT).await;
    assert_eq!(short["status"], "REJECTED");
    assert_eq!(short["errors"], json!([{"product_id": 4, "requested": 3, "available": 2}]));
    let read = json_with_status(app.get(&format!("/reservations/{held}/")).await, StatusCode::OK).await;
    assert_eq!(read["status"], "ACTIVE", "a short order leaves its reservation active");
    let row = listing_row(&app, 1, 4).await;
    assert_eq!(
        (row["quantity"].clone(), row["held"].clone(), row["available"].clone()),
        (json!(2), json!(3), json!(0))
    );
    app.shutdown().await;
}

#[tokio::test]
async fn racing_holds_grant_exactly_as_many_units_as_there_are() {
    let app = catalog_app().await;
    // Store 1 has 5 of product 4; 24 clients each want one at once.
    let attempts = (0..24).map(|_| {
        let (client, url) = (app.client.clone(), app.url("/reservations/"));
        tokio::spawn(async move { client.post(url).json(&hold(1, &[(4, 1)])).send().await.expect("request").status() })
    });
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.expect("task"));
    }
    let granted = statuses.iter().filter(|status| **status == StatusCode::CREATED).count();
    let refused = statuses.iter().filter(|status| **status == StatusCode::CONFLICT).count();
    assert_eq!((granted, refused), (5, 19), "{statuses:?}");
    let row = listing_row(&app, 1, 4).await;
    assert_eq!(
        (row["quantity"].clone(), row["held"].clone(), row["available"].clone()),
        (json!(5), json!(5), json!(0))
    );
    json_with_status(app.post_order(&order(1, &[(4, 1)], None)).await, StatusCode::CONFLICT).await;
    app.shutdown().await;
}

/// Polls `check` until it holds, at most `bound`: for what a background task applies (the
/// expiry timer), which a test cannot await directly.
async fn eventually(bound: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + bound;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    check().await
}

#[tokio::test]
async fn from_expires_at_on_a_reservation_is_expired_to_every_reader_and_writer() {
    let clock = Clock::manual(Timestamp::now());
    let app = TestApp::builder().fixture(small_catalog).clock(clock.clone()).spawn().await;
    let body =
        granted(&app, &json!({"store_id": 1, "items": [{"product_id": 2, "quantity": 3}], "ttl_seconds": 60})).await;
    let id = id_of(&body);
    clock.advance(59);
    let read = json_with_status(app.get(&format!("/reservations/{id}/")).await, StatusCode::OK).await;
    assert_eq!(read["status"], "ACTIVE", "a second before its expiry");
    json_with_status(app.post_order(&order(1, &[(2, 1)], None)).await, StatusCode::CONFLICT).await;

    clock.advance(1);
    let read = json_with_status(app.get(&format!("/reservations/{id}/")).await, StatusCode::OK).await;
    assert_eq!(read["status"], "EXPIRED", "at expires_at, whether or not it was swept");
    let refused = json_with_status(app.post_order(&order(1, &[(2, 3)], Some(id))).await, StatusCode::CONFLICT).await;
    assert_eq!(refused["reservation_status"], "EXPIRED");
    let released = json_with_status(app.delete(&format!("/reservations/{id}/")).await, StatusCode::OK).await;
    assert_eq!(released["status"], "EXPIRED", "an expired reservation is answered unchanged");

    // The timer applies the expiry like a commit: listings and search stop counting the hold.
    let freed = eventually(Duration::from_secs(10), async || listing_row(&app, 1, 2).await["held"] == 0).await;
    assert!(freed, "the listing still counts the hold: {}", listing_row(&app, 1, 2).await);
    let search = json_with_status(app.get("/api/search/products/?q=cutting&store_id=1").await, StatusCode::OK).await;
    assert_eq!(search["results"][0]["quantity"], 3);
    let stored: String = app
        .db()
        .query_row("SELECT status FROM reservations WHERE id = ?1", [id], |row| row.get(0))
        .expect("stored status");
    assert_eq!(stored, "EXPIRED");
    let events: i64 = app
        .db()
        .query_row("SELECT COUNT(*) FROM jobs WHERE kind = 'reservation.expired'", [], |row| row.get(0))
        .expect("events");
    assert_eq!(events, 1, "reservation.expired queued once");
    json_with_status(app.post_order(&order(1, &[(2, 3)], None)).await, StatusCode::CREATED).await;
    app.shutdown().await;
}

#[tokio::test]
async fn the_listing_s_memory_path_agrees_with_sql_under_holds() {
    let app = catalog_app().await;
    granted(&app, &hold(1, &[(1, 4), (5, 1)])).await;
    granted(&app, &hold(2, &[(1, 7)])).await;
    app.state
        .writer
        .update_stock_as(
            crate::helpers::test_actor(),
            aforro::domain::StoreId(1),
            aforro::domain::ProductId(1),
            aforro::domain::catalog::StockUpdate::Set(3),
        )
        .await
        .expect("admin cut below what is held");
    let search = app.state.search.clone();
    tokio::task::spawn_blocking(move || search.compute_title_order()).await.expect("task").expect("title order");
    let (search, reads) = (app.state.search.clone(), app.state.reads.clone());
    tokio::task::spawn_blocking(move || {
        reads.run_blocking(|conn| crate::inventory_listing::memory_and_sql_agree(conn, &search, "under holds"))
    })
    .await
    .expect("task")
    .expect("reads");
    let row = listing_row(&app, 1, 1).await;
    assert_eq!(
        (row["quantity"].clone(), row["held"].clone(), row["available"].clone()),
        (json!(3), json!(4), json!(0))
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_store_scoped_key_sees_no_other_store_s_reservation() {
    const MASTER: &str = "master-key-for-tests-0123456789";
    let app = TestApp::builder().fixture(small_catalog).master_key(MASTER).spawn().await;
    let send = async |method: Method, path: &str, key: &str, body: Option<Value>| {
        let mut request = app.client.request(method, app.url(path)).bearer_auth(key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request")
    };
    let key = json_with_status(
        send(
            Method::POST,
            "/api/keys/",
            MASTER,
            Some(json!({"name": "till", "actions": ["reservations.write"], "store_ids": [1]})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let till = key["key"].as_str().expect("secret").to_owned();
    let theirs = json_with_status(
        send(Method::POST, "/reservations/", MASTER, Some(hold(2, &[(1, 1)]))).await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/reservations/{}/", id_of(&theirs));
    json_with_status(send(Method::GET, &path, &till, None).await, StatusCode::NOT_FOUND).await;
    json_with_status(send(Method::DELETE, &path, &till, None).await, StatusCode::NOT_FOUND).await;
    json_with_status(
        send(Method::POST, "/reservations/", &till, Some(hold(2, &[(1, 1)]))).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let ours = json_with_status(
        send(Method::POST, "/reservations/", &till, Some(hold(1, &[(1, 1)]))).await,
        StatusCode::CREATED,
    )
    .await;
    let ours_path = format!("/reservations/{}/", id_of(&ours));
    json_with_status(send(Method::GET, &ours_path, &till, None).await, StatusCode::OK).await;
    json_with_status(send(Method::DELETE, &ours_path, &till, None).await, StatusCode::OK).await;
    let (_, search_only) = {
        let created = json_with_status(
            send(Method::POST, "/api/keys/", MASTER, Some(json!({"name": "s", "actions": ["search"]}))).await,
            StatusCode::CREATED,
        )
        .await;
        ((), created["key"].as_str().expect("secret").to_owned())
    };
    json_with_status(
        send(Method::POST, "/reservations/", &search_only, Some(hold(1, &[(1, 1)]))).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(
        send(Method::GET, &path, MASTER, None).await.status(),
        StatusCode::OK,
        "the master key sees every store"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn reservations_need_no_key_in_open_mode() {
    let app = spawn_app().await;
    // An empty database: the store does not exist, but the route answered (not 401).
    json_with_status(app.post_reservation(&hold(1, &[(1, 1)])).await, StatusCode::NOT_FOUND).await;
    app.shutdown().await;
}

#[tokio::test]
async fn the_admin_sees_a_row_s_holding_reservations_and_an_order_s_reservation() {
    let admin = crate::admin_support::spawn_admin_app().await;
    let app = &admin.app;
    let kept = id_of(&granted(app, &hold(1, &[(2, 1)])).await);
    let used = id_of(&granted(app, &hold(1, &[(2, 2)])).await);
    let placed = json_with_status(app.post_order(&order(1, &[(2, 2)], Some(used))).await, StatusCode::CREATED).await;
    let cookie = crate::admin_web::log_in(&admin).await;

    let inventory = crate::admin_web::page(&admin, &cookie, "/admin/stores/1/inventory/").await;
    assert!(
        inventory.contains("href=\"/admin/stores/1/inventory/2/reservations/\""),
        "held units link their reservations"
    );
    let holding = crate::admin_web::page(&admin, &cookie, "/admin/stores/1/inventory/2/reservations/").await;
    assert!(holding.contains(&format!("id=\"reservation-{kept}\"")), "the active reservation is listed");
    assert!(!holding.contains(&format!("id=\"reservation-{used}\"")), "a used one holds nothing");
    let order_page = crate::admin_web::page(&admin, &cookie, &format!("/admin/orders/{}/", placed["id"])).await;
    assert!(order_page.contains("id=\"reservation\""), "the order page names its reservation");
    assert!(order_page.contains(&format!("Reservation {used}")) && order_page.contains("USED"), "{order_page}");
    admin.app.shutdown().await;
}

#[tokio::test]
async fn low_stock_is_judged_on_hand_while_in_stock_is_judged_available() {
    let app = catalog_app().await;
    // 10 on hand at the default threshold 5: holding 6 leaves 4 available, still 10 on hand.
    granted(&app, &hold(1, &[(1, 6)])).await;
    let rows = |page: Value| -> Vec<i64> {
        page["results"].as_array().expect("results").iter().map(|row| row["product_id"].as_i64().expect("id")).collect()
    };
    let low =
        json_with_status(app.get("/stores/1/inventory/?low_stock=true&page_size=100").await, StatusCode::OK).await;
    assert!(!rows(low).contains(&1), "on hand is above the threshold");
    let not_low =
        json_with_status(app.get("/stores/1/inventory/?low_stock=false&page_size=100").await, StatusCode::OK).await;
    assert!(rows(not_low).contains(&1));
    let db = app.db();
    let events: i64 = db
        .query_row("SELECT COUNT(*) FROM jobs WHERE kind = 'inventory.low_stock'", [], |row| row.get(0))
        .expect("jobs");
    assert_eq!(events, 0, "a hold moves no stock, so it queues no low-stock event");
    let movements: i64 = db.query_row("SELECT COUNT(*) FROM stock_movements", [], |row| row.get(0)).expect("ledger");
    assert_eq!(movements, 0, "nor a movement");
    drop(db);
    // The title order (memory) agrees with SQL on every filter, low_stock and in_stock included.
    let search = app.state.search.clone();
    tokio::task::spawn_blocking(move || search.compute_title_order()).await.expect("task").expect("title order");
    let (search, reads) = (app.state.search.clone(), app.state.reads.clone());
    tokio::task::spawn_blocking(move || {
        reads.run_blocking(|conn| crate::inventory_listing::memory_and_sql_agree(conn, &search, "held below threshold"))
    })
    .await
    .expect("task")
    .expect("reads");
    let low =
        json_with_status(app.get("/stores/1/inventory/?low_stock=true&page_size=100").await, StatusCode::OK).await;
    assert!(!rows(low).contains(&1), "the memory path judges on hand too");
    app.shutdown().await;
}
