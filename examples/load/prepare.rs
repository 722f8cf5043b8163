//! Stocks every inventory row before a long order run, so the run measures confirmed orders
//! (stock deducted, job queued) rather than sold-out rejections. The server must be stopped:
//! its in-memory stock view is loaded at start.

use std::path::Path;

use aforro::db::exclusive::lock_data_dir;

pub(crate) fn stock_everything(data_dir: &Path, quantity: i64) -> anyhow::Result<()> {
    let _lock = lock_data_dir(data_dir)?;
    let database = data_dir.join("aforro.db");
    anyhow::ensure!(database.exists(), "{} does not exist", database.display());
    let conn = rusqlite::Connection::open(&database)?;
    let rows = conn.execute("UPDATE inventory SET quantity = ?1", [quantity])?;
    println!("set {rows} inventory rows to {quantity} units");
    Ok(())
}
