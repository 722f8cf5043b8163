//! A property test of the order lifecycle against a model: random interleavings of orders,
//! cancels, admin restocks, admin sets and threshold changes on three hot products in two
//! stores, run through the single writer's named writes, must leave exactly the model's stock
//! (never negative), decide every order as the model does, queue one out-of-stock event per
//! crossing of zero, one back-in-stock event per crossing back and one low-stock event per
//! fall to the row's threshold, with the model's data, and write exactly the model's
//! movements: the stock ledger's chain holds for every (store, product) (each
//! `quantity_after` is the previous one plus `delta`, the first starts from the seeded stock,
//! the newest is the current quantity).

use std::collections::BTreeMap;

use aforro::app::open_store;
use aforro::config::{Config, Synchronous};
use aforro::db::writer::{self, WriterHandle};
use aforro::domain::catalog::{StockEdit, StockUpdate};
use aforro::domain::{NewOrder, OrderId, OrderLine, OrderStatus, ProductId, QuantityRequested, StoreId};
use proptest::prelude::*;
use serde_json::Value;

use crate::helpers::test_actor;

const STORES: i64 = 2;
const PRODUCTS: i64 = 3;
const INITIAL: i64 = 4;

#[derive(Debug, Clone)]
enum Op {
    /// Lines of (product, quantity) in a store; products distinct.
    Order {
        store: i64,
        lines: Vec<(i64, i64)>,
    },
    /// Cancels the n-th order placed so far (modulo their count), whatever its status.
    Cancel {
        nth: usize,
    },
    Restock {
        store: i64,
        product: i64,
        quantity: i64,
    },
    /// An admin `PUT` of the quantity (0..=8: often the same as before, which moves nothing).
    Set {
        store: i64,
        product: i64,
        quantity: i64,
    },
    /// An admin `PUT` of the low-stock threshold alone.
    Threshold {
        store: i64,
        product: i64,
        threshold: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let lines = proptest::sample::subsequence((1..=PRODUCTS).collect::<Vec<_>>(), 1..=2)
        .prop_flat_map(|products| {
            let count = products.len();
            (Just(products), proptest::collection::vec(1..=3i64, count))
        })
        .prop_map(|(products, quantities)| products.into_iter().zip(quantities).collect::<Vec<_>>());
    prop_oneof![
        4 => (1..=STORES, lines).prop_map(|(store, lines)| Op::Order { store, lines }),
        2 => any::<usize>().prop_map(|nth| Op::Cancel { nth }),
        1 => (1..=STORES, 1..=PRODUCTS, 1..=3i64).prop_map(|(store, product, quantity)| Op::Restock { store, product, quantity }),
        1 => (1..=STORES, 1..=PRODUCTS, 0..=8i64).prop_map(|(store, product, quantity)| Op::Set { store, product, quantity }),
        1 => (1..=STORES, 1..=PRODUCTS, 0..=6i64).prop_map(|(store, product, threshold)| Op::Threshold { store, product, threshold }),
    ]
}

/// An order as the model placed it: (store, lines of (product, quantity), status).
type ModelOrder = (i64, Vec<(i64, i64)>, OrderStatus);

/// A movement as the model expects it: (store, product, delta, quantity_after, reason).
type ModelMovement = (i64, i64, i64, i64, String);

/// What the model expects of the database.
#[derive(Default)]
struct Model {
    stock: BTreeMap<(i64, i64), i64>,
    thresholds: BTreeMap<(i64, i64), i64>,
    /// Every order placed, in order.
    orders: Vec<ModelOrder>,
    /// Expected stock events, in order: (kind, store, product, quantity).
    events: Vec<(String, i64, i64, i64)>,
    /// Expected movements, in order.
    movements: Vec<ModelMovement>,
}

impl Model {
    fn new() -> Self {
        let stock = (1..=STORES).flat_map(|s| (1..=PRODUCTS).map(move |p| ((s, p), INITIAL))).collect();
        let thresholds = (1..=STORES).flat_map(|s| (1..=PRODUCTS).map(move |p| ((s, p), 5))).collect();
        Self { stock, thresholds, ..Self::default() }
    }

    fn change(&mut self, store: i64, product: i64, delta: i64, reason: &str) {
        let before = self.stock[&(store, product)];
        let after = before + delta;
        assert!(after >= 0, "the model never goes negative");
        if delta == 0 {
            return;
        }
        self.stock.insert((store, product), after);
        self.movements.push((store, product, delta, after, reason.to_owned()));
        if before > 0 && after == 0 {
            self.events.push(("inventory.out_of_stock".into(), store, product, after));
        } else if before == 0 && after > 0 {
            self.events.push(("inventory.back_in_stock".into(), store, product, after));
        }
        let threshold = self.thresholds[&(store, product)];
        if before > threshold && after <= threshold {
            self.events.push(("inventory.low_stock".into(), store, product, after));
        }
    }
}

fn new_order(store: i64, lines: &[(i64, i64)]) -> NewOrder {
    NewOrder {
        store_id: StoreId(store),
        items: lines
            .iter()
            .map(|&(product, quantity)| OrderLine {
                product_id: ProductId(product),
                quantity_requested: QuantityRequested::parse(quantity).expect("1..=3"),
            })
            .collect(),
        reservation_id: None,
    }
}

async fn run_ops(writer: &WriterHandle, ops: &[Op], model: &mut Model) -> Vec<OrderId> {
    let mut ids = Vec::new();
    for op in ops {
        match op {
            Op::Order { store, lines } => {
                let placed = writer.place_order(new_order(*store, lines), None).await.expect("order");
                let fits = lines.iter().all(|(product, quantity)| model.stock[&(*store, *product)] >= *quantity);
                let expected = if fits { OrderStatus::Confirmed } else { OrderStatus::Rejected };
                assert_eq!(placed.status, expected, "order {lines:?} in store {store} against {:?}", model.stock);
                if fits {
                    for (product, quantity) in lines {
                        model.change(*store, *product, -quantity, "order");
                    }
                }
                let body: Value = serde_json::from_str(&placed.into_json().expect("serialised")).expect("body");
                ids.push(OrderId(body["id"].as_i64().expect("id")));
                model.orders.push((*store, lines.clone(), expected));
            }
            Op::Cancel { nth } if !ids.is_empty() => {
                let index = nth % ids.len();
                let result = writer.cancel_order(ids[index]).await;
                let (store, lines, status) = model.orders[index].clone();
                match status {
                    OrderStatus::Confirmed => {
                        assert_eq!(result.expect("cancel").status, OrderStatus::Cancelled);
                        for (product, quantity) in &lines {
                            model.change(store, *product, *quantity, "cancel");
                        }
                        model.orders[index].2 = OrderStatus::Cancelled;
                    }
                    OrderStatus::Cancelled => assert_eq!(result.expect("repeat").status, OrderStatus::Cancelled),
                    _ => assert!(result.is_err(), "a rejected order cannot be cancelled"),
                }
            }
            Op::Cancel { .. } => {}
            Op::Restock { store, product, quantity } => {
                let now = writer
                    .update_stock_as(
                        test_actor(),
                        StoreId(*store),
                        ProductId(*product),
                        StockUpdate::Restock(*quantity),
                    )
                    .await
                    .expect("restock");
                model.change(*store, *product, *quantity, "restock");
                assert_eq!(now, model.stock[&(*store, *product)]);
            }
            Op::Set { store, product, quantity } => {
                let edit = StockEdit { quantity: Some(*quantity), low_stock_threshold: None };
                let (now, _) =
                    writer.edit_stock_as(test_actor(), StoreId(*store), ProductId(*product), edit).await.expect("set");
                let before = model.stock[&(*store, *product)];
                model.change(*store, *product, quantity - before, "set");
                assert_eq!(now, *quantity);
            }
            Op::Threshold { store, product, threshold } => {
                let edit = StockEdit { quantity: None, low_stock_threshold: Some(*threshold) };
                let (_, now) = writer
                    .edit_stock_as(test_actor(), StoreId(*store), ProductId(*product), edit)
                    .await
                    .expect("threshold");
                model.thresholds.insert((*store, *product), *threshold);
                assert_eq!(now, *threshold);
            }
        }
    }
    ids
}

fn check_against_model(config: &Config, ops: &[Op]) {
    let store = open_store(config).expect("open store");
    let mut sql = String::from("INSERT INTO categories (id, name) VALUES (1, 'Hot');");
    for store_id in 1..=STORES {
        sql += &format!("INSERT INTO stores (id, name) VALUES ({store_id}, 'Store {store_id}');");
    }
    for product in 1..=PRODUCTS {
        sql += &format!(
            "INSERT INTO products (id, title, price_cents, category_id, created_at) VALUES ({product}, 'Hot {product}', 100, 1, 1);"
        );
        for store_id in 1..=STORES {
            sql += &format!(
                "INSERT INTO inventory (store_id, product_id, quantity) VALUES ({store_id}, {product}, {INITIAL});"
            );
        }
    }
    store.write_conn.execute_batch(&sql).expect("seed");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let (writer, thread) = {
        let _guard = runtime.enter();
        writer::spawn(store.write_conn, Vec::new(), writer::DEFAULT_MAX_BATCH, Default::default()).expect("writer")
    };
    let mut model = Model::new();
    runtime.block_on(run_ops(&writer, ops, &mut model));
    drop(writer);
    thread.join();

    let db = store.reads;
    let (stock, events, movements) = db
        .run_blocking(|conn| {
            let mut stmt = conn.prepare("SELECT store_id, product_id, quantity FROM inventory")?;
            let stock: BTreeMap<(i64, i64), i64> = stmt
                .query_map([], |row| Ok(((row.get(0)?, row.get(1)?), row.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut stmt = conn.prepare("SELECT kind, payload FROM jobs WHERE kind LIKE 'inventory.%' ORDER BY id")?;
            let events: Vec<(String, String)> =
                stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
            let mut stmt = conn.prepare(
                "SELECT store_id, product_id, delta, quantity_after, reason FROM stock_movements ORDER BY id",
            )?;
            let movements: Vec<ModelMovement> = stmt
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok((stock, events, movements))
        })
        .expect("read back");
    assert_eq!(movements, model.movements, "one movement per change of on-hand stock, in order");
    let seeded: BTreeMap<(i64, i64), i64> = Model::new().stock;
    assert_chain(&movements, &seeded, &stock);
    assert_eq!(stock, model.stock, "final stock per (store, product)");
    let events: Vec<(String, i64, i64, i64)> = events
        .into_iter()
        .map(|(kind, payload)| {
            let data: Value = serde_json::from_str(&payload).expect("JSON");
            let field = |name: &str| data[name].as_i64().expect("integer");
            (kind, field("store_id"), field("product_id"), field("quantity"))
        })
        .collect();
    assert_eq!(events, model.events, "one event per crossing of zero, in order, with its data");
}

/// The ledger's chain for every (store, product): each movement starts where the previous one
/// (or the seeded stock) left off, and the newest equals the current quantity.
pub(crate) fn assert_chain(
    movements: &[ModelMovement],
    seeded: &BTreeMap<(i64, i64), i64>,
    current: &BTreeMap<(i64, i64), i64>,
) {
    let mut last: BTreeMap<(i64, i64), i64> = seeded.clone();
    for (store, product, delta, after, reason) in movements {
        let previous = last.get(&(*store, *product)).copied().unwrap_or(0);
        assert_ne!(*delta, 0, "a movement always moves");
        assert_eq!(previous + delta, *after, "chain broken at ({store}, {product}) by a {reason} movement");
        last.insert((*store, *product), *after);
    }
    for (pair, quantity) in current {
        assert_eq!(last.get(pair).copied().unwrap_or(0), *quantity, "newest movement of {pair:?} is its quantity");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn orders_cancels_and_admin_writes_keep_the_model_stock_ledger_and_events(
        ops in proptest::collection::vec(op(), 1..60)
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config { synchronous: Synchronous::Off, ..Config::in_dir(dir.path()) };
        check_against_model(&config, &ops);
    }
}
