//! One process at a time owns a data folder. The search index, the stock view and the
//! autocomplete map of a running `serve` are derived from the database in memory and kept in
//! step by its single writer; a second process writing the same file (`aforro seed`,
//! `reindex`, `migrate`) would change the database behind their back. So every command that
//! writes takes an exclusive lock on `<data-dir>/aforro.lock` first, and refuses to run when
//! another process holds it. The OS releases the lock when the process exits, even on a crash.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use anyhow::{Context, bail};

/// Holds the data folder's lock until dropped.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// Takes the data folder's lock, or fails with a one-line reason if another process has it.
pub fn lock_data_dir(data_dir: &Path) -> anyhow::Result<DataDirLock> {
    match try_lock_data_dir(data_dir)? {
        Some(lock) => Ok(lock),
        None => bail!(
            "{} is in use by another aforro process (a running `aforro serve`?); stop it first",
            data_dir.display()
        ),
    }
}

/// Takes the data folder's lock, or `None` when another process (a running `serve`) has it:
/// for commands that then go through that server instead (`aforro stock import`).
pub fn try_lock_data_dir(data_dir: &Path) -> anyhow::Result<Option<DataDirLock>> {
    std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create the folder {}", data_dir.display()))?;
    let path = data_dir.join("aforro.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(DataDirLock { _file: file })),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(error)) => Err(error).with_context(|| format!("cannot lock {}", path.display())),
    }
}
