//! One process at a time owns a data folder. The search index, the stock view and the
//! autocomplete map of a running `serve` are derived from the database in memory and kept in
//! step by its single writer; a second process writing the same file (`aforro seed`,
//! `reindex`, `migrate`) would change the database behind their back. So every command that
//! writes takes an exclusive lock on `<data-dir>/aforro.lock` first, and refuses to run when
//! another process holds it. The OS releases the lock when the process exits, even on a crash.
//!
//! Each holder writes a fresh token into the lock file and can read the token of the holder
//! before it: a view `serve` saved at its stop for the next start (the stock view) is stamped
//! with its holder's token, so any command that wrote the database in between (and so took
//! the lock) makes that view stale.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

use anyhow::{Context, bail};

/// Holds the data folder's lock until dropped.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
    /// What this holder wrote into the lock file.
    token: String,
    /// What the previous holder had written (empty for the first).
    previous: String,
}

impl DataDirLock {
    /// This holder's token, unique per acquisition.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The token of the process that held the lock before this one (empty if none wrote one).
    pub fn previous_token(&self) -> &str {
        &self.previous
    }
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
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {
            let (token, previous) = swap_token(&mut file)
                .with_context(|| format!("cannot write the holder's token to {}", path.display()))?;
            Ok(Some(DataDirLock { _file: file, token, previous }))
        }
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(error)) => Err(error).with_context(|| format!("cannot lock {}", path.display())),
    }
}

/// Reads the previous holder's token and writes a new one in its place.
fn swap_token(file: &mut File) -> std::io::Result<(String, String)> {
    let mut previous = String::new();
    // A lock file from before tokens, or garbage, is simply "no token".
    if file.read_to_string(&mut previous).is_err() {
        previous.clear();
    }
    let token = format!("{} {:016x}", std::process::id(), rand::random::<u64>());
    file.set_len(0)?;
    file.rewind()?;
    file.write_all(token.as_bytes())?;
    Ok((token, previous.trim().to_owned()))
}
