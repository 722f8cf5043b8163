//! Backups: `aforro backup <file>` copies the database while `serve` keeps running, and
//! `aforro restore <file>` puts a copy back onto a stopped data folder.
//!
//! The copy uses SQLite's online backup API in a single step: the whole file is read under
//! one read transaction, so it is a consistent snapshot (every order whole or absent), and in
//! WAL mode the server's writer carries on meanwhile. So `backup` needs no data-folder lock.
//! `restore` does: it replaces the file under everyone's feet.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::app::private_files::create_private;
use crate::config::Config;
use crate::db::exclusive::lock_data_dir;
use crate::db::{BUSY_TIMEOUT, health, migrate};
use crate::search::index_path;

/// How long a copy may keep finding the source busy before giving up.
const BUSY_DEADLINE: Duration = Duration::from_secs(30);
const BUSY_PAUSE: Duration = Duration::from_millis(50);

/// What a backup or restore copied.
#[derive(Debug, Clone)]
pub struct CopyReport {
    /// Bytes copied.
    pub bytes: u64,
    /// How long the copy took.
    pub elapsed: Duration,
}

/// Copies the database of `config` to `destination` (replaced atomically if it exists) and
/// checks the copy. Safe while `serve` runs.
pub fn backup(config: &Config, destination: &Path) -> anyhow::Result<CopyReport> {
    let source_path = config.database_path();
    if !source_path.exists() {
        bail!("there is no database at {}", source_path.display());
    }
    let report = copy_database(&open_read_only(&source_path)?, destination)?;
    // Checked on the copy, not the live file: the copy is what a restore will need.
    check_is_aforro_database(&open_read_only(destination)?)
        .with_context(|| format!("the copy at {} failed its check", destination.display()))?;
    Ok(report)
}

/// Replaces the database of a stopped data folder with the backup at `backup_file`, after
/// checking it is an aforro database. The search index is removed so the next `serve`
/// rebuilds it from the restored catalog (its watermark alone could coincide with the
/// restored one's); the autocomplete map is rebuilt at every start anyway.
pub fn restore(config: &Config, backup_file: &Path) -> anyhow::Result<CopyReport> {
    let _lock = lock_data_dir(&config.data_dir)?;
    let source = open_read_only(backup_file)?;
    check_is_aforro_database(&source).with_context(|| format!("{} is not an aforro backup", backup_file.display()))?;
    let target = config.database_path();
    let staged = sibling(&target, "restoring");
    let report = copy_database(&source, &staged)?;
    // A WAL left from the old database must never be replayed onto the new one: remove it
    // before the rename, so a crash in between leaves a consistent (if old) database.
    for suffix in ["-wal", "-shm"] {
        remove_if_exists(&sibling_with_suffix(&target, suffix))?;
    }
    std::fs::rename(&staged, &target)
        .with_context(|| format!("cannot move the restored file to {}", target.display()))?;
    sync_dir(&config.data_dir)?;
    let index = index_path(&config.index_dir);
    if index.exists() {
        std::fs::remove_dir_all(&index).with_context(|| format!("cannot remove the old index {}", index.display()))?;
    }
    Ok(report)
}

fn open_read_only(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .with_context(|| format!("cannot open {}", path.display()))?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

/// A database this binary can serve: intact, with the core migration recorded and no
/// migration this binary does not know.
fn check_is_aforro_database(conn: &Connection) -> anyhow::Result<()> {
    let check = health::quick_check(conn).context("not a SQLite database")?;
    if check != "ok" {
        bail!("the database is damaged: {check}");
    }
    let names = migrate::recorded_migrations(conn).context("it has no schema_migrations table")?;
    if !names.iter().any(|name| name == "0001_init") {
        bail!("it has no aforro migrations recorded");
    }
    if let Some(unknown) = names.iter().find(|name| !migrate::is_known(name)) {
        bail!("it was written by a newer aforro (migration {unknown}); restore it with that version");
    }
    Ok(())
}

/// Copies `source` into a fresh file at `destination` via a temporary sibling, fsynced,
/// then renamed over it.
fn copy_database(source: &Connection, destination: &Path) -> anyhow::Result<CopyReport> {
    let started = Instant::now();
    let partial = sibling(destination, "partial");
    remove_if_exists(&partial)?;
    // A backup holds what the database holds: readable by this user only (the rename keeps it).
    create_private(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    {
        let mut target = Connection::open(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
        let backup = Backup::new(source, &mut target).context("cannot start the backup")?;
        let deadline = started + BUSY_DEADLINE;
        loop {
            // -1: every page in one step, i.e. under one read transaction (a snapshot).
            match backup.step(-1).context("the backup failed")? {
                StepResult::Done => break,
                StepResult::More | StepResult::Busy | StepResult::Locked if Instant::now() < deadline => {
                    std::thread::sleep(BUSY_PAUSE);
                }
                _ => bail!("the database stayed busy for {BUSY_DEADLINE:?}; try again"),
            }
        }
    }
    File::open(&partial).and_then(|file| file.sync_all()).context("cannot flush the copy to disk")?;
    std::fs::rename(&partial, destination).with_context(|| format!("cannot write {}", destination.display()))?;
    if let Some(parent) = destination.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        sync_dir(parent)?;
    }
    let bytes = std::fs::metadata(destination).map(|meta| meta.len()).unwrap_or(0);
    Ok(CopyReport { bytes, elapsed: started.elapsed() })
}

fn sibling(path: &Path, tag: &str) -> PathBuf {
    sibling_with_suffix(path, &format!(".{tag}"))
}

fn sibling_with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn remove_if_exists(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(error).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Makes a rename durable (the directory entry, not just the file).
fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    File::open(dir).and_then(|dir| dir.sync_all()).with_context(|| format!("cannot sync {}", dir.display()))
}
