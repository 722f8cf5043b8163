//! The reservation expiry timer: sleeps until the earliest `expires_at` among the active
//! reservations, then has the writer expire what is due, so search, the listings and their
//! caches stop counting a hold within a second of its expiry (contract, Reservations). The
//! expiry is a commit like any other: the stock view learns of it from the writer's observers
//! and a read replica from the commit log.
//!
//! A new hold may expire before the instant the timer sleeps towards, so the writer's observer
//! ([`HoldsChanged`]) wakes it after every commit that changed what is held; a manual clock
//! (tests) wakes it whenever it moves. The maintenance schedule's sweep
//! (`Task::ExpireReservations`) is the backstop.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::db::ReadPool;
use crate::db::records::{CommitEffects, CommitObserver};
use crate::db::store::reservations::next_expiry;
use crate::db::writer::WriterHandle;

/// The longest the timer sleeps without looking again (a clock jump, a missed wake-up).
const LONGEST_SLEEP: Duration = Duration::from_secs(30);
/// How long it waits after a failed look or expiry before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The writer's observer that wakes the timer when what is held changed (a hold may now
/// expire sooner than the timer's next instant).
#[derive(Clone, Default)]
pub struct HoldsChanged {
    wake: Arc<Notify>,
}

impl CommitObserver for HoldsChanged {
    fn committed(&self, effects: &CommitEffects) {
        if !effects.held_changes.is_empty() {
            // A stored permit: a commit while the timer is busy still wakes its next wait.
            self.wake.notify_one();
        }
    }
}

/// The running timer; stop it with [`ExpiryTimer::stop`] before the writer is joined.
pub struct ExpiryTimer {
    task: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

impl ExpiryTimer {
    /// Starts the timer, woken by `holds` (one of the writer's observers).
    pub fn start(writer: WriterHandle, reads: ReadPool, holds: &HoldsChanged) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(writer, reads, Arc::clone(&holds.wake), stopped));
        Self { task, stop }
    }

    /// Stops the timer and waits for it (an expiry in progress commits first).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(error) = self.task.await {
            tracing::error!(%error, "the reservation expiry timer failed");
        }
    }
}

async fn run(writer: WriterHandle, reads: ReadPool, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
    let clock = writer.clock().clone();
    let mut moves = clock.moves();
    loop {
        let wait = match reads.run(next_expiry).await {
            Ok(Some(at)) if at <= clock.now() => match writer.expire_reservations().await {
                Ok(expired) => {
                    tracing::debug!(expired, "expiry timer: expired reservations");
                    continue;
                }
                Err(error) => {
                    tracing::warn!(%error, "expiry timer: cannot expire reservations; retrying");
                    RETRY_AFTER
                }
            },
            Ok(Some(at)) => {
                let micros = u64::try_from(at.micros.saturating_sub(clock.now().micros)).unwrap_or(0);
                Duration::from_micros(micros).min(LONGEST_SLEEP)
            }
            Ok(None) => LONGEST_SLEEP,
            Err(error) => {
                tracing::warn!(%error, "expiry timer: cannot read the next expiry; retrying");
                RETRY_AFTER
            }
        };
        let clock_moved = async {
            let moved = match moves.as_mut() {
                Some(moves) => moves.changed().await.is_ok(),
                None => false,
            };
            if !moved {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = wake.notified() => {}
            () = clock_moved => {}
            _ = stop.changed() => break,
        }
    }
}
