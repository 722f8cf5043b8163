//! The store inventory listing's fast path (title order + stock view) against the plain SQL
//! listing, on random catalogs, after random orders and after catalog edits.

use aforro::db::admin::accounts::create_superuser;
use aforro::db::admin::listing::{self, ProductRow};
use aforro::db::store::listings::{InventoryFilter, InventoryRow, PageOf, store_inventory};
use aforro::domain::admin_list::{InventoryList, InventorySort, ProductList, ProductSort, Sort, SortKey};
use aforro::domain::{CategoryId, PageRequest, StoreId};
use aforro::search::SearchIndex;
use proptest::prelude::{Strategy, prop};
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use reqwest::{Method, StatusCode};
use rusqlite::Connection;
use serde_json::{Value, json};

use crate::admin_support::{AdminApp, PASSWORD, USERNAME, login};
use crate::helpers::{TestApp, json_with_status};

const STORES: i64 = 3;
/// Title pieces chosen to collide: case variants (NOCASE ties fall back to id), a shared
/// prefix, a non-ASCII letter `lower` does not fold, punctuation.
const PIECES: [&str; 9] = ["Kettle", "kettle", "KETTLE", "Mug", "mugs", "Äpfel", "äpfel", "a-b", "Zed"];
/// `q` values: substrings of the pieces in other cases, one across pieces, one matching none,
/// and some that only a run across two neighbouring titles would hold (an end and a start:
/// "mug" then "kettle", "zed" then "a-b"), which must match nothing.
const QUERIES: [&str; 10] = ["ket", "MUG", "e", "Ä", "ä", "le m", "nothing", "gk", "zeda", "gsk"];

#[derive(Debug, Clone)]
struct World {
    /// Per product (ids from 1): two title pieces and a category (1 or 2).
    products: Vec<(usize, usize, i64)>,
    /// (store, product index, quantity, low-stock threshold).
    inventory: Vec<(i64, usize, i64, i64)>,
    /// Orders placed after start: (store, product index, quantity).
    orders: Vec<(i64, usize, i64)>,
    /// Catalog edits after the orders: (product index, new title pieces).
    renames: Vec<(usize, usize, usize)>,
    /// A new inventory row after the edits: (store, product index, quantity, low-stock
    /// threshold).
    restock: (i64, usize, i64, i64),
}

fn any_world() -> impl Strategy<Value = World> {
    let piece = 0..PIECES.len();
    prop::collection::vec((piece.clone(), piece.clone(), 1..=2i64), 1..40).prop_flat_map(move |products| {
        let product = 0..products.len();
        let store = 1..=STORES;
        (
            prop::collection::vec((store.clone(), product.clone(), 0..4i64, 0..=6i64), 0..80),
            prop::collection::vec((store.clone(), product.clone(), 1..3i64), 0..12),
            prop::collection::vec((product.clone(), piece.clone(), piece.clone()), 0..4),
            (store, product, 0..3i64, 0..=3i64),
        )
            .prop_map(move |(inventory, orders, renames, restock)| World {
                products: products.clone(),
                inventory,
                orders,
                renames,
                restock,
            })
    })
}

fn title(first: usize, second: usize) -> String {
    format!("{} {}", PIECES[first], PIECES[second])
}

fn fixture(world: World) -> impl FnOnce(&Connection) {
    move |conn| {
        conn.execute_batch(
            "INSERT INTO categories (id, name) VALUES (1, 'Kitchen'), (2, 'Outdoor');
             INSERT INTO stores (id, name) VALUES (1, 'One'), (2, 'Two'), (3, 'Three');",
        )
        .expect("categories and stores");
        for (index, (first, second, category)) in world.products.iter().enumerate() {
            conn.execute(
                "INSERT INTO products (id, title, price_cents, category_id, created_at) VALUES (?1, ?2, ?3, ?4, 0)",
                rusqlite::params![index as i64 + 1, title(*first, *second), 100 + index as i64, category],
            )
            .expect("product");
        }
        for (store, product, quantity, threshold) in &world.inventory {
            conn.execute(
                "INSERT OR REPLACE INTO inventory (store_id, product_id, quantity, low_stock_threshold)
                 VALUES (?1, ?2, ?3, ?4)",
                [*store, *product as i64 + 1, *quantity, *threshold],
            )
            .expect("inventory");
        }
        create_superuser(conn, USERNAME, PASSWORD, false).expect("admin");
    }
}

fn filters() -> Vec<InventoryFilter> {
    let mut filters = Vec::new();
    for title_contains in std::iter::once(None).chain(QUERIES.iter().map(|q| Some((*q).to_owned()))) {
        for in_stock in [None, Some(true), Some(false)] {
            for low_stock in [None, Some(true), Some(false)] {
                filters.push(InventoryFilter { title_contains: title_contains.clone(), in_stock, low_stock });
            }
        }
    }
    filters
}

fn as_json(page: &PageOf<InventoryRow>) -> Value {
    json!({"count": page.count, "rows": page.rows})
}

/// Every store, filter and page (of 4 rows, one past the end included): the fast path answers,
/// and answers exactly what the SQL listing answers.
async fn fast_path_matches_sql(app: &TestApp, moment: &str) {
    let search = app.state.search.clone();
    tokio::task::spawn_blocking(move || search.compute_title_order()).await.expect("task").expect("title order");
    let search = app.state.search.clone();
    let reads = app.state.reads.clone();
    let moment = moment.to_owned();
    tokio::task::spawn_blocking(move || {
        reads
            .run_blocking(|conn| {
                for store in 1..=STORES {
                    for filter in filters() {
                        for page in 1..=4 {
                            let page = PageRequest { page, page_size: 4 };
                            let fast = search
                                .inventory_page(conn, StoreId(store), &filter, page)?
                                .expect("the title order of this generation is ready");
                            let sql = store_inventory(conn, StoreId(store), &filter, page)?;
                            assert_eq!(as_json(&fast), as_json(&sql), "{moment}: store {store} {filter:?} {page:?}");
                        }
                    }
                }
                Ok(())
            })
            .expect("reads");
    })
    .await
    .expect("checks");
}

async fn check(world: World) {
    let app = TestApp::builder().fixture(fixture(world.clone())).spawn().await;
    fast_path_matches_sql(&app, "at start").await;

    for (store, product, quantity) in &world.orders {
        let order =
            json!({"store_id": store, "items": [{"product_id": *product as i64 + 1, "quantity_requested": quantity}]});
        let status = app.post_order(&order).await.status();
        assert!(matches!(status, StatusCode::CREATED | StatusCode::CONFLICT), "{status}");
    }
    fast_path_matches_sql(&app, "after orders").await;

    let token = login(&app, USERNAME, PASSWORD).await;
    let admin = AdminApp { app, token };
    for (product, first, second) in &world.renames {
        let (_, _, category) = world.products[*product];
        let body =
            json!({"title": title(*first, *second), "description": "", "price": "1.00", "category_id": category});
        admin.call(Method::PUT, &format!("/api/admin/products/{}/", product + 1), Some(body), StatusCode::OK).await;
    }
    let (store, product, quantity, threshold) = world.restock;
    let path = format!("/api/admin/stores/{store}/inventory/{}/", product + 1);
    admin.call(Method::PUT, &path, Some(json!({"quantity": quantity})), StatusCode::OK).await;
    admin.call(Method::PUT, &path, Some(json!({"low_stock_threshold": threshold})), StatusCode::OK).await;
    fast_path_matches_sql(&admin.app, "after catalog edits and a new inventory row").await;
    admin.shutdown().await;
}

#[test]
fn the_title_order_answers_what_the_sql_listing_answers() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut runner = TestRunner::new(ProptestConfig { cases: 24, ..ProptestConfig::default() });
    let outcome = runner.run(&any_world(), |world| {
        runtime.block_on(check(world));
        Ok(())
    });
    outcome.expect("the fast path and SQL agree");
}

/// The HTTP listing right after an order shows the order's deduction, from the fast path.
#[tokio::test]
async fn a_listing_after_an_order_shows_its_deduction() {
    let world = World {
        products: vec![(1, 3, 1), (4, 8, 2), (0, 3, 1)],
        inventory: vec![(1, 0, 3, 5), (1, 1, 1, 5), (1, 2, 2, 5)],
        orders: Vec::new(),
        renames: Vec::new(),
        restock: (1, 0, 3, 5),
    };
    let app = TestApp::builder().fixture(fixture(world)).spawn().await;
    let search = app.state.search.clone();
    tokio::task::spawn_blocking(move || search.compute_title_order()).await.expect("task").expect("title order");
    let order = json!({"store_id": 1, "items": [{"product_id": 2, "quantity_requested": 1}]});
    json_with_status(app.post_order(&order).await, StatusCode::CREATED).await;

    let body = json_with_status(app.get("/stores/1/inventory/?in_stock=true").await, StatusCode::OK).await;

    let titles: Vec<&str> =
        body["results"].as_array().expect("rows").iter().map(|r| r["title"].as_str().expect("title")).collect();
    assert_eq!(titles, ["kettle Mug", "Kettle Mug"], "equal without case: by id; the emptied product is gone");
    assert_eq!(body["count"], 2);
    app.shutdown().await;
}

/// Every value of every inventory filter field. Built without `..`, so a field added to
/// `InventoryFilter` stops this compiling until it has values here, and then the fast paths
/// must agree with SQL on them.
fn every_inventory_filter() -> Vec<InventoryFilter> {
    let mut filters = Vec::new();
    for title_contains in std::iter::once(None).chain(QUERIES.iter().map(|q| Some((*q).to_owned()))) {
        for in_stock in [None, Some(true), Some(false)] {
            for low_stock in [None, Some(true), Some(false)] {
                filters.push(InventoryFilter { title_contains: title_contains.clone(), in_stock, low_stock });
            }
        }
    }
    filters
}

/// Every admin product list a title search can ask (every field, every sort), as above.
fn every_product_list() -> Vec<ProductList> {
    let mut lists = Vec::new();
    for q in QUERIES {
        for category in [None, Some(CategoryId(1)), Some(CategoryId(2)), Some(CategoryId(9))] {
            for &key in ProductSort::ALL {
                for descending in [false, true] {
                    for page in 1..=3 {
                        let sort = Sort { key, descending };
                        let page = PageRequest { page, page_size: 3 };
                        lists.push(ProductList { q: Some(q.to_owned()), category, sort, page });
                    }
                }
            }
        }
    }
    lists
}

/// Every admin inventory list a title search can ask (every field, every sort), as above.
fn every_inventory_list() -> Vec<InventoryList> {
    let mut lists = Vec::new();
    for q in QUERIES {
        for in_stock in [None, Some(true), Some(false)] {
            for &key in InventorySort::ALL {
                for descending in [false, true] {
                    for page in 1..=3 {
                        let sort = Sort { key, descending };
                        let page = PageRequest { page, page_size: 3 };
                        lists.push(InventoryList { q: Some(q.to_owned()), in_stock, sort, page });
                    }
                }
            }
        }
    }
    lists
}

fn product_page_json((page, counted): &(PageOf<ProductRow>, bool)) -> Value {
    json!({"count": page.count, "counted": counted, "rows": page.rows})
}

/// For every filter field, each listing's in-memory path (asserted to answer, not to fall
/// back) gives what its SQL path gives, and so does the one call a handler makes: a fast path
/// that ignored a filter fails here.
pub(crate) fn memory_and_sql_agree(conn: &Connection, search: &SearchIndex, moment: &str) -> aforro::error::Result<()> {
    for store in (1..=STORES).map(StoreId) {
        for filter in every_inventory_filter() {
            for page in (1..=3).map(|page| PageRequest { page, page_size: 3 }) {
                let sql = as_json(&store_inventory(conn, store, &filter, page)?);
                let memory = search.inventory_page(conn, store, &filter, page)?.expect("the title order is ready");
                assert_eq!(as_json(&memory), sql, "{moment}: memory, store {store} {filter:?} {page:?}");
                let one_call = as_json(&search.store_inventory(conn, store, &filter, page)?);
                assert_eq!(one_call, sql, "{moment}: the listing, store {store} {filter:?} {page:?}");
            }
        }
        for list in every_inventory_list() {
            let sql = listing::inventory_list(conn, store, &list, None)?;
            let found = search.admin_inventory_search(store, &list, 1000).expect("the title order answers");
            let memory = listing::inventory_list(conn, store, &list, Some(found))?;
            assert_eq!(as_json(&memory), as_json(&sql), "{moment}: memory, store {store} {list:?}");
            let one_call = search.admin_inventory(conn, store, &list)?;
            assert_eq!(as_json(&one_call), as_json(&sql), "{moment}: the listing, store {store} {list:?}");
        }
    }
    for list in every_product_list() {
        let sql = product_page_json(&listing::product_list(conn, &list, None)?);
        let found = search.admin_product_search(&list, 1000).expect("the title order answers");
        let memory = product_page_json(&listing::product_list(conn, &list, Some(&found))?);
        assert_eq!(memory, sql, "{moment}: memory, {list:?}");
        let one_call = product_page_json(&search.admin_products(conn, &list)?);
        assert_eq!(one_call, sql, "{moment}: the listing, {list:?}");
    }
    Ok(())
}

#[tokio::test]
async fn every_filter_field_reaches_each_listings_memory_path() {
    let world = World {
        products: (0..PIECES.len()).map(|first| (first, (first + 3) % PIECES.len(), 1 + first as i64 % 2)).collect(),
        inventory: (0..PIECES.len())
            .map(|product| (1 + product as i64 % STORES, product, product as i64 % 3, product as i64 % 2))
            .collect(),
        orders: Vec::new(),
        renames: Vec::new(),
        restock: (1, 0, 3, 5),
    };
    let app = TestApp::builder().fixture(fixture(world)).spawn().await;
    let search = app.state.search.clone();
    tokio::task::spawn_blocking(move || search.compute_title_order()).await.expect("task").expect("title order");
    let search = app.state.search.clone();
    let reads = app.state.reads.clone();
    tokio::task::spawn_blocking(move || reads.run_blocking(|conn| memory_and_sql_agree(conn, &search, "at start")))
        .await
        .expect("task")
        .expect("reads");
    app.shutdown().await;
}
