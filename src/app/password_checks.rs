//! The bound on password checks: at most [`PasswordChecks::bound`] Argon2 computations at once
//! in the whole process, whichever door asks (the API login, the page's login, the
//! password-change form), each on one of that many threads of their own.
//!
//! Why a bound: each check holds 19 MiB for tens of milliseconds of one core, outside the load
//! shedding (an admin must get in while the API sheds). Unbounded, 200 concurrent logins took
//! the server from 185 MB to 3.98 GB and a 32-connection login flood cut public search from
//! ~19,800 to ~1,200 answers a second. Bounded at about two per core, a flood costs at most that
//! many checks' memory and that many cores' worth of time slices; the rest of the machine keeps
//! serving.
//!
//! Why threads of their own rather than the blocking pool: the 19 MiB comes from malloc, and
//! glibc serves each thread from an arena it keeps (after the first 19 MiB block is freed its
//! mmap threshold rises past that size, so the next ones come from the arenas). On the
//! blocking pool the checks landed on whichever of a few hundred threads was idle, and every
//! arena they touched kept a 19 MiB block: with the semaphore alone, a 200-client login flood
//! still grew the server to 2.7 GB (the load harness's `login-flood`, debug build). On
//! [`PasswordChecks::bound`] fixed threads each reuses its own block, so the checks' memory
//! stays at about `bound` × 19 MiB however long a flood lasts.
//!
//! A check beyond the bound waits its turn (the semaphore is fair: first come, first served)
//! for at most [`MAX_WAIT`]; then the login is answered `503` with `Retry-After`, so a queue
//! of waiting floods cannot build up either. The permit travels with the check to its thread,
//! so a client that hangs up mid-check does not free its slot before the computation ends.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use thread_priority::{ThreadPriority, ThreadPriorityValue, set_current_thread_priority};
use tokio::sync::{Semaphore, oneshot};

use crate::error::{Error, Result};
use crate::locking::lock;

/// How long a check waits for a free slot before its request is answered 503: long enough to
/// absorb a few admins logging in at once, short enough that a flood's requests do not pile up.
pub const MAX_WAIT: Duration = Duration::from_secs(1);

/// Checks per available core allowed at once.
const CHECKS_PER_CORE: usize = 2;

/// The checkers' priority on the crate's portable 0..=99 scale: 22 is nice 10 on Linux, a
/// tenth of a default thread's share of a busy core.
///
/// Why lower than the request threads: the bound keeps a flood's checks from taking every core,
/// but at the default priority the scheduler still splits each core evenly between a checker and
/// the tokio worker beside it, so a 200-client login flood raised public search p99 5.7-fold
/// (docs/reliability.md, "Login floods"). At nice 10 a waking request thread preempts a running
/// check, and the checks still use every idle cycle: an admin logging in on a quiet server waits
/// no longer than before, one on a saturated server waits about ten times longer.
const CHECKER_PRIORITY: u8 = 22;

/// Lowers the calling thread's scheduling priority to [`CHECKER_PRIORITY`]. A failure only
/// means the checks compete as equals with the requests, so it is logged, not fatal.
fn lower_own_priority() {
    let lowered = ThreadPriorityValue::try_from(CHECKER_PRIORITY).and_then(|value| {
        set_current_thread_priority(ThreadPriority::Crossplatform(value)).map_err(|error| error.to_string())
    });
    if let Err(error) = lowered {
        tracing::warn!(%error, "cannot lower a password checker's priority");
    }
}

/// One check, boxed for the checkers' queue.
type Job = Box<dyn FnOnce() + Send>;

/// Shared by every clone of the app state. The checker threads end once every clone is gone.
#[derive(Clone)]
pub struct PasswordChecks {
    permits: Arc<Semaphore>,
    bound: usize,
    max_wait: Duration,
    /// The checkers' queue; never holds more than `bound` jobs (one per permit).
    jobs: mpsc::Sender<Job>,
    /// Checks computing now, and the most there ever were at once (read by tests: the
    /// high-water mark shows the bound held under a flood).
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
    /// At most `bound` checks at once (at least one), on `bound` threads started now; a check
    /// waits at most `max_wait` for a slot.
    pub fn new(bound: usize, max_wait: Duration) -> Self {
        let bound = bound.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..bound {
            let queue = Arc::clone(&queue);
            let spawned = std::thread::Builder::new().name(format!("aforro-password-{n}")).spawn(move || {
                lower_own_priority();
                loop {
                    // The lock is held only while waiting for the next job, never while running it.
                    let next = lock(&queue).recv();
                    match next {
                        Ok(job) => job(),
                        Err(mpsc::RecvError) => break, // every handle is gone
                    }
                }
            });
            if let Err(error) = spawned {
                // Fewer checkers only means fewer checks at once; none at all means every check
                // waits out `max_wait` and is answered 503, which the log explains.
                tracing::error!(%error, "cannot start a password checker thread");
            }
        }
        Self {
            permits: Arc::new(Semaphore::new(bound)),
            bound,
            max_wait,
            jobs,
            running: Arc::new(AtomicUsize::new(0)),
            peak: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Runs `check` (an Argon2 verification or hash) on a checker thread once a slot is free;
    /// [`Error::Unavailable`] (503) when none came free within the wait.
    pub async fn run<T, F>(&self, check: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let busy = || Error::Unavailable("too many password checks are running; retry in a moment".to_owned());
        let permit = match tokio::time::timeout(self.max_wait, Arc::clone(&self.permits).acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            // Closed never happens (nothing closes it); treat it as busy all the same.
            Ok(Err(_)) | Err(_) => return Err(busy()),
        };
        let (running, peak) = (Arc::clone(&self.running), Arc::clone(&self.peak));
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move || {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            // A panicking check must not take its checker thread with it.
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(check));
            running.fetch_sub(1, Ordering::SeqCst);
            drop(permit);
            if let Ok(outcome) = outcome {
                // A caller that went away no longer needs the answer.
                drop(answer.send(outcome));
            }
        });
        self.jobs.send(job).map_err(|_| Error::Invariant("the password checker threads are gone".to_owned()))?;
        answered.await.map_err(|_| Error::Invariant("a password check panicked".to_owned()))
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

    /// The thread's nice value, field 19 of `/proc/thread-self/stat` (counted after the command
    /// name, which may hold spaces).
    fn own_niceness() -> i64 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("this thread's stat");
        let after_name = &stat[stat.rfind(')').expect("a command name") + 2..];
        after_name.split(' ').nth(16).expect("a nice field").parse().expect("a number")
    }

    #[tokio::test]
    async fn checks_run_below_the_request_threads_priority() {
        let checks = PasswordChecks::new(1, MAX_WAIT);

        let checker_nice = checks.run(own_niceness).await.expect("a check");

        assert!(checker_nice >= own_niceness() + 5, "checker nice {checker_nice}, request thread {}", own_niceness());
    }

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

    #[tokio::test]
    async fn checks_run_on_the_checker_threads_and_a_panic_spares_them() {
        let checks = PasswordChecks::new(1, Duration::from_secs(5));

        let thread = checks.run(|| std::thread::current().name().map(str::to_owned)).await.expect("ran");
        let panicked: Result<()> = checks.run(|| panic!("a broken check")).await;
        let after = checks.run(|| 1).await;

        assert_eq!(thread.as_deref(), Some("aforro-password-0"), "never a blocking-pool thread");
        assert!(matches!(panicked, Err(Error::Invariant(_))), "{panicked:?}");
        assert_eq!(after.expect("the checker survived"), 1);
    }

    #[test]
    fn the_default_bound_is_two_per_core() {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        assert_eq!(PasswordChecks::default().bound(), 2 * cores);
    }
}
