//! The bound on password checks: at most [`PasswordChecks::bound`] Argon2 computations at once
//! in the whole process, whichever door asks (the API login, the page's login, the
//! password-change form).
//!
//! Why: each check holds 19 MiB for tens of milliseconds of one core, on the blocking pool,
//! outside the load shedding (an admin must get in while the API sheds). Unbounded, 200
//! concurrent logins took the server from 185 MB to 3.98 GB and a 32-connection login flood cut
//! public search from ~19,800 to ~1,200 answers a second. Bounded at about two per core, a
//! flood costs at most that many times 19 MiB and that many cores' worth of time slices; the
//! rest of the machine keeps serving.
//!
//! A check beyond the bound waits its turn (the semaphore is fair: first come, first served)
//! for at most [`MAX_WAIT`]; then the login is answered `503` with `Retry-After`, so a queue
//! of waiting floods cannot build up either. The permit travels into the blocking task, so a
//! client that hangs up mid-check does not free its slot before the computation ends.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::error::{Error, Result};

/// How long a check waits for a free slot before its request is answered 503: long enough to
/// absorb a few admins logging in at once, short enough that a flood's requests do not pile up.
pub const MAX_WAIT: Duration = Duration::from_secs(1);

/// Checks per available core allowed at once.
const CHECKS_PER_CORE: usize = 2;

/// Shared by every clone of the app state.
#[derive(Clone)]
pub struct PasswordChecks {
    permits: Arc<Semaphore>,
    bound: usize,
    max_wait: Duration,
    /// Checks computing now, and the most there ever were at once (read by tests and
    /// `/metrics`-free diagnostics: the high-water mark shows the bound held under a flood).
    running: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl Default for PasswordChecks {
    /// [`CHECKS_PER_CORE`] per core this process may use.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Self::new(cores * CHECKS_PER_CORE, MAX_WAIT)
    }
}

impl PasswordChecks {
    /// At most `bound` checks at once (at least one); a check waits at most `max_wait` for one.
    pub fn new(bound: usize, max_wait: Duration) -> Self {
        let bound = bound.max(1);
        Self {
            permits: Arc::new(Semaphore::new(bound)),
            bound,
            max_wait,
            running: Arc::new(AtomicUsize::new(0)),
            peak: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Runs `check` (an Argon2 verification or hash) on the blocking pool once a slot is free;
    /// [`Error::Unavailable`] (503) when none came free within the wait.
    pub async fn run<T, F>(&self, check: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = match tokio::time::timeout(self.max_wait, Arc::clone(&self.permits).acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            // Closed never happens (nothing closes it); treat it as busy all the same.
            Ok(Err(_)) | Err(_) => {
                return Err(Error::Unavailable("too many password checks are running; retry in a moment".to_owned()));
            }
        };
        let (running, peak) = (Arc::clone(&self.running), Arc::clone(&self.peak));
        let outcome = tokio::task::spawn_blocking(move || {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            let outcome = check();
            running.fetch_sub(1, Ordering::SeqCst);
            drop(permit);
            outcome
        })
        .await?;
        Ok(outcome)
    }

    /// Checks allowed at once.
    pub fn bound(&self) -> usize {
        self.bound
    }

    /// The most checks that ever computed at once in this process.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Barrier;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_than_the_bound_compute_at_once_and_the_rest_wait_or_are_refused() {
        let checks = PasswordChecks::new(2, Duration::from_millis(50));
        // Two checks that hold their slots until the test lets them go.
        let release = Arc::new(Barrier::new(3));
        let held: Vec<_> = (0..2)
            .map(|_| {
                let (release, checks) = (Arc::clone(&release), checks.clone());
                tokio::spawn(async move { checks.run(move || release.wait()).await })
            })
            .collect();
        while checks.running.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }

        let refused = checks.run(|| ()).await;

        assert!(matches!(refused, Err(Error::Unavailable(_))), "{refused:?}");
        tokio::task::spawn_blocking(move || release.wait()).await.expect("release");
        for task in held {
            task.await.expect("task").expect("ran");
        }
        assert_eq!(checks.run(|| 7).await.expect("a free slot"), 7);
        assert_eq!(checks.peak(), 2);
    }

    #[test]
    fn the_default_bound_is_two_per_core() {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        assert_eq!(PasswordChecks::default().bound(), 2 * cores);
    }
}
