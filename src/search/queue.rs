//! The search queue: searches the result cache cannot answer run on a few search threads
//! (one per core and a spare), taking requests in arrival order from one channel.
//!
//! A search is CPU work on in-memory data (the index's pages, the decoded columns, the stock
//! view). Before the queue each search in flight had a blocking thread of its own, so 64
//! concurrent searches shared two cores by time slices: each took about as long as all of
//! them together, and a heavy one (a 2-letter prefix, a broad word with filters) slowed every
//! search that overlapped it. Now a search waits for the searches queued before it, then runs
//! with few others; the tail comes close to the median. A search thread that finishes takes
//! the next request straight from the channel, with no wake-up of another thread in between
//! (a semaphore in front of the blocking pool, tried first, did 1,656 searches/s in the mix
//! where these threads do 1,740–1,802). Meilisearch's search queue also runs about as many searches at
//! once as the machine has cores, for the same reason. Cache hits never wait in the queue.
//!
//! The wait is bounded by the HTTP layers: the concurrency limit caps how many requests can
//! queue, and the request timeout how long one waits.

use crossbeam_channel::{Receiver, Sender};
use tokio::sync::oneshot;

use crate::error::{Error, Result};

/// One queued search: runs on a search thread and sends its answer back.
type Job = Box<dyn FnOnce() + Send>;

/// The way into the search threads. Cheap to clone; the threads end once every clone is
/// dropped (their channel closes).
#[derive(Clone)]
pub struct SearchQueue {
    jobs: Sender<Job>,
}

impl SearchQueue {
    /// A queue served by `threads` search threads (at least one).
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let threads = threads.max(1);
        let (jobs, queued) = crossbeam_channel::unbounded::<Job>();
        for index in 0..threads {
            let queued = queued.clone();
            std::thread::Builder::new().name(format!("aforro-search-{index}")).spawn(move || serve(&queued))?;
        }
        Ok(Self { jobs })
    }

    /// A queue with one search thread per core the process may use, and one more: the
    /// spare keeps the cores busy while a search thread is preempted or waits (on a page read
    /// through the OS, a lock). Measured at 1M products on two cores (docs/performance.md):
    /// two threads 1,502 searches/s, three 1,740–1,802, four 1,797.
    pub fn per_core() -> std::io::Result<Self> {
        Self::new(std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get) + 1)
    }

    /// Runs `work` on a search thread once the searches queued before it have started, and
    /// returns its answer. If the caller stops waiting, `work` still runs (its answer is
    /// dropped), so no more searches ever run at once than the queue has threads.
    pub async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(work());
        });
        self.jobs.send(job).map_err(|_| Error::Invariant("the search threads have stopped".to_owned()))?;
        answered.await.map_err(|_| Error::Invariant("a search thread stopped mid-search".to_owned()))?
    }
}

/// A search thread: runs queued searches until the queue is dropped.
fn serve(queued: &Receiver<Job>) {
    while let Ok(job) = queued.recv() {
        job();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_searches_run_at_once_than_the_queue_has_threads() {
        const THREADS: usize = 2;
        let queue = SearchQueue::new(THREADS).expect("threads start");
        let running = Arc::new(AtomicUsize::new(0));
        let most_at_once = Arc::new(AtomicUsize::new(0));
        // The searches meet in pairs, so two always run together; a queue that ran more at
        // once would let more than two in before any pair met.
        let pairs = Arc::new(Barrier::new(THREADS));
        let mut searches = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let (queue, running, most_at_once, pairs) =
                (queue.clone(), Arc::clone(&running), Arc::clone(&most_at_once), Arc::clone(&pairs));
            searches.spawn(async move {
                queue
                    .run(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most_at_once.fetch_max(now, Ordering::SeqCst);
                        pairs.wait();
                        running.fetch_sub(1, Ordering::SeqCst);
                        Ok(now)
                    })
                    .await
            });
        }
        while let Some(finished) = searches.join_next().await {
            finished.expect("the task ran").expect("the search ran");
        }
        assert_eq!(most_at_once.load(Ordering::SeqCst), THREADS);
    }

    #[tokio::test]
    async fn a_search_error_reaches_its_caller_and_the_thread_serves_the_next() {
        let queue = SearchQueue::new(1).expect("a thread starts");
        let failed = queue.run(|| Err::<(), _>(Error::NotFound("store 9 does not exist".to_owned()))).await;
        assert!(matches!(failed, Err(Error::NotFound(_))), "{failed:?}");
        assert_eq!(queue.run(|| Ok(7)).await.expect("the next search runs"), 7);
    }
}
