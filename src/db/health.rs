//! Whether the store of record can write right now. The writer reports every batch the data
//! volume failed here; `/readyz` reads it, so a load balancer stops sending traffic while the
//! volume is full or failing and sends it again once it takes writes, with no restart.
//!
//! A run of failures is one *episode*: it is logged when it starts and when it ends, never per
//! request: a full volume would otherwise log one identical line per failed order. Each failed
//! commit is counted by cause on `/metrics`.
//!
//! Only a successful [`probe_write`] ends an episode, not any successful commit: on a full
//! volume small updates that fit in existing pages still commit (a job marked sent) while
//! orders, which need new pages, fail; readiness would flap with every one of them. While an
//! episode is open `/readyz` sends the probe (at most one per [`PROBE_INTERVAL`]), and with
//! readiness red it is also the only write that can end the episode.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};

use crate::error::Result;
use crate::error::fault::StorageFault;
use crate::locking::lock;

/// Least time between two probe writes, however often `/readyz` is asked.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// Never visible: inserted and deleted in one savepoint.
const PROBE_KEY: &str = "\u{0}aforro-storage-probe";
/// Bounds the probe's size when the database has many free pages (it then has room anyway).
const MAX_PROBE_PAGES: i64 = 256;

/// Cheap to clone: every clone sees the same state.
#[derive(Clone, Default)]
pub struct StorageHealth {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    episode: Option<Episode>,
    last_probe: Option<Instant>,
}

struct Episode {
    fault: StorageFault,
    started: Instant,
    failed_commits: u64,
}

impl StorageHealth {
    /// The fault of the open episode, if any.
    pub fn fault(&self) -> Option<StorageFault> {
        lock(&self.state).episode.as_ref().map(|episode| episode.fault)
    }

    /// A commit failed (or a write in it) because of `fault`. Returns whether this opened an
    /// episode (and so logged it).
    pub fn commit_failed(&self, fault: StorageFault) -> bool {
        crate::metrics::storage_commit_failed(fault.label());
        let mut state = lock(&self.state);
        match &mut state.episode {
            Some(episode) => {
                episode.failed_commits += 1;
                if episode.fault != fault {
                    tracing::warn!(cause = fault.label(), "storage fault changed: {fault}");
                    episode.fault = fault;
                }
                false
            }
            None => {
                tracing::error!(
                    cause = fault.label(),
                    "storage fault: {fault}. Writes that need space are answered 503, and /readyz until a probe write succeeds"
                );
                state.episode = Some(Episode { fault, started: Instant::now(), failed_commits: 1 });
                true
            }
        }
    }

    /// A probe write committed: the volume takes new pages again. Ends the open episode, if
    /// any; returns whether one ended.
    pub fn probe_succeeded(&self) -> bool {
        let Some(episode) = lock(&self.state).episode.take() else {
            return false;
        };
        tracing::info!(
            cause = episode.fault.label(),
            failed_commits = episode.failed_commits,
            lasted_secs = episode.started.elapsed().as_secs(),
            "storage recovered: the data volume takes writes again"
        );
        true
    }

    /// Whether a probe write should be sent now: an episode is open and no probe was claimed
    /// in the last [`PROBE_INTERVAL`].
    pub fn claim_probe(&self) -> bool {
        let mut state = lock(&self.state);
        if state.episode.is_none() || state.last_probe.is_some_and(|at| at.elapsed() < PROBE_INTERVAL) {
            return false;
        }
        state.last_probe = Some(Instant::now());
        true
    }
}

/// The cheapest statement that proves a connection answers (readiness).
pub fn ping(conn: &Connection) -> Result<()> {
    conn.query_row("SELECT 1", [], |row| row.get::<_, i64>(0))?;
    Ok(())
}

/// SQLite's `PRAGMA quick_check`: `"ok"`, or the first problems it found in the file.
pub fn quick_check(conn: &Connection) -> Result<String> {
    Ok(conn.query_row("PRAGMA quick_check", [], |row| row.get(0))?)
}

/// A write that succeeds only if the database can take new pages: a blob one page larger than
/// the free list, inserted and deleted again (SQLite reuses free pages first, so a smaller one
/// could succeed on a full volume while orders fail). Runs in the writer like any write.
pub fn probe_write(conn: &Connection) -> Result<()> {
    let page_size: i64 = conn.query_row("PRAGMA page_size", [], |row| row.get(0))?;
    let free_pages: i64 = conn.query_row("PRAGMA freelist_count", [], |row| row.get(0))?;
    let bytes = page_size * (free_pages + 1).min(MAX_PROBE_PAGES);
    conn.execute(
        "INSERT INTO idempotency_keys (key, request_body, response_status, response_body, created_at)
         VALUES (?1, '', 0, zeroblob(?2), 0)",
        params![PROBE_KEY, bytes],
    )?;
    conn.execute("DELETE FROM idempotency_keys WHERE key = ?1", [PROBE_KEY])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::StorageHealth;
    use crate::error::fault::StorageFault;

    #[test]
    fn an_episode_opens_once_and_closes_at_the_first_successful_probe() {
        let health = StorageHealth::default();
        assert!(!health.probe_succeeded(), "no episode to close");

        assert!(health.commit_failed(StorageFault::Full));
        assert!(!health.commit_failed(StorageFault::Full), "the same episode is not opened twice");
        assert!(!health.commit_failed(StorageFault::IoError));
        assert_eq!(health.fault(), Some(StorageFault::IoError), "the latest cause is the one reported");

        assert!(health.probe_succeeded());
        assert_eq!(health.fault(), None);
        assert!(health.commit_failed(StorageFault::ReadOnly), "a later fault is a new episode");
    }

    #[test]
    fn probes_are_claimed_only_during_an_episode_and_not_twice_within_the_interval() {
        let health = StorageHealth::default();
        assert!(!health.claim_probe());

        health.commit_failed(StorageFault::Full);

        assert!(health.claim_probe());
        assert!(!health.claim_probe());
    }
}
