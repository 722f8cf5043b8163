//! The single writer, driven directly: observers see every commit before its reply, and a
//! failing command undoes only itself.

use std::sync::{Arc, Mutex};

use aforro::app::open_store;
use aforro::config::{Config, Synchronous};
use aforro::db::records::{CommitEffects, CommitObserver, StockChange};
use aforro::db::writer::{self, WriterHandle, WriterThread};
use aforro::domain::catalog::ProductFields;
use aforro::domain::{CategoryId, NewOrder, OrderLine, OrderStatus, ProductId, QuantityRequested, StoreId};
use aforro::error::Error;
use tempfile::TempDir;

use crate::helpers::{small_catalog, test_actor};

/// Remembers every commit it is told about.
#[derive(Default)]
struct RecordingObserver {
    stock_changes: Mutex<Vec<StockChange>>,
    changed_products: Mutex<Vec<ProductId>>,
}

impl CommitObserver for RecordingObserver {
    fn committed(&self, effects: &CommitEffects) {
        self.stock_changes.lock().expect("lock").extend_from_slice(&effects.stock_changes);
        self.changed_products.lock().expect("lock").extend_from_slice(&effects.changed_products);
    }
}

fn start_writer() -> (WriterHandle, WriterThread, Arc<RecordingObserver>, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config { synchronous: Synchronous::Normal, ..Config::in_dir(dir.path()) };
    let store = open_store(&config).expect("open");
    small_catalog(&store.write_conn);
    let observer = Arc::new(RecordingObserver::default());
    let (handle, thread) =
        writer::spawn(store.write_conn, vec![observer.clone()], writer::DEFAULT_MAX_BATCH, Default::default())
            .expect("spawn");
    (handle, thread, observer, dir)
}

fn one_line_order(store: i64, product: i64, quantity: i64) -> NewOrder {
    NewOrder {
        store_id: StoreId(store),
        items: vec![OrderLine {
            product_id: ProductId(product),
            quantity_requested: QuantityRequested::parse(quantity).expect("valid quantity"),
        }],
        reservation_id: None,
    }
}

fn fields(title: &str) -> ProductFields {
    ProductFields { title: title.to_owned(), description: String::new(), price_cents: 100, category_id: CategoryId(1) }
}

#[tokio::test]
async fn observers_see_the_new_stock_before_the_order_reply_arrives() {
    let (writer, _thread, observer, _dir) = start_writer();

    let placed = writer.place_order(one_line_order(1, 1, 4), None).await.expect("placed");

    assert_eq!(placed.status, OrderStatus::Confirmed);
    let seen = observer.stock_changes.lock().expect("lock").clone();
    assert_eq!(seen, [StockChange { store_id: StoreId(1), product_id: ProductId(1), quantity: 6 }]);
}

#[tokio::test]
async fn a_rejected_order_reports_no_stock_change() {
    let (writer, _thread, observer, _dir) = start_writer();

    let placed = writer.place_order(one_line_order(1, 3, 1), None).await.expect("placed");

    assert_eq!(placed.status, OrderStatus::Rejected);
    assert!(observer.stock_changes.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn saved_products_are_reported_and_an_unknown_one_is_not_found() {
    let (writer, _thread, observer, _dir) = start_writer();

    let created = writer.save_product_as(test_actor(), None, fields("Brand New Kettle")).await.expect("created");
    let renamed =
        writer.save_product_as(test_actor(), Some(ProductId(1)), fields("Renamed Kettle")).await.expect("renamed");
    let missing = writer.save_product_as(test_actor(), Some(ProductId(999)), fields("Ghost")).await;

    assert_eq!(renamed, ProductId(1));
    assert!(matches!(missing, Err(Error::NotFound(_))), "{missing:?}");
    assert_eq!(*observer.changed_products.lock().expect("lock"), [created, ProductId(1)]);
}

#[tokio::test]
async fn a_failing_command_in_a_batch_leaves_the_others_committed() {
    let (writer, thread, _observer, dir) = start_writer();
    // Sent together, these usually share one batch; either way the product naming an unknown
    // category must fail alone.
    let bad = ProductFields { category_id: CategoryId(77), ..fields("Orphan") };
    let (good_order, bad_product, good_product) = tokio::join!(
        writer.place_order(one_line_order(1, 1, 1), None),
        writer.save_product_as(test_actor(), None, bad),
        writer.save_product_as(test_actor(), None, fields("Fine Product")),
    );

    assert!(good_order.is_ok() && good_product.is_ok());
    assert!(matches!(bad_product, Err(Error::Validation(_))), "{bad_product:?}");
    drop(writer);
    tokio::task::spawn_blocking(move || thread.join()).await.expect("join");
    let conn = rusqlite::Connection::open(dir.path().join("data/aforro.db")).expect("db");
    let titles: i64 = conn
        .query_row("SELECT COUNT(*) FROM products WHERE title IN ('Orphan', 'Fine Product')", [], |row| row.get(0))
        .expect("count");
    assert_eq!(titles, 1);
}
