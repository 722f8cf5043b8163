//! Jobs leased to this process's workers by the very transaction that queues them.
//!
//! A worker claims a queued job with an `UPDATE` (state, attempts, lease: most of the job's
//! index entries move) in a writer command of its own. For the `order.confirmed` job every
//! order queues, that claim was 8 % of the writer's time per order (the writer's dwarf profile
//! under the orders load, 2026-11-30, `753cdaf`; docs/performance.md, "Why an order's
//! confirmation is handed to the workers"). So while this process's workers run, an order inserts its job
//! already `running`, under a lease, with its first attempt counted; after the commit the job
//! queue's observer puts it here and a worker takes it without writing a claim.
//!
//! The job comes with its event as the order's transaction wrote it (the order body it
//! answered), so the worker sends it without reading the order back. Everything after that
//! is the claimed path: the worker records the outcome as for any claimed job. A job still
//! waiting here when the process dies keeps its lease and is queued again at the next start
//! (or claimed again once the lease expires), so delivery stays at least once; a waiting job
//! whose lease ran out is left to that claim rather than taken.
//! Bounded: with [`CAPACITY`] jobs or [`LINE_CAPACITY`] order lines waiting (an event holds its
//! order's lines), new jobs are queued the usual way.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::db::outbox::jobs::micros;
use crate::db::records::{ClaimedJob, Event, HandedJob, JobHandoff};
use crate::domain::Timestamp;
use crate::locking::lock;

/// Most jobs waiting here at once. Far above what the workers hold between two steps under
/// the orders load (they take up to a claim batch, 512, per step).
pub const CAPACITY: usize = 8192;
/// Most order lines waiting here at once, in the events' order bodies (about 100 bytes each
/// with its title): about 6.5 MiB, however long the orders.
pub const LINE_CAPACITY: usize = 65_536;

/// What waits, with the lines it holds.
#[derive(Debug, Default)]
struct Waiting {
    jobs: VecDeque<HandedJob>,
    lines: usize,
}

/// The jobs handed over and not yet taken. Closed (nothing handed over) until the workers
/// open it. The writer sees it as a [`JobHandoff`] (`db::records`), so `db` never names `jobs`.
#[derive(Debug, Default)]
pub struct Handoff {
    /// The lease, in microseconds, under which new jobs are handed over; 0 while closed.
    lease_micros: AtomicI64,
    /// Oldest first.
    waiting: Mutex<Waiting>,
}

impl Handoff {
    /// Puts committed jobs up for the workers (the job queue's observer, after the commit).
    pub fn hand_over(&self, jobs: &[HandedJob]) {
        let mut waiting = lock(&self.waiting);
        for job in jobs {
            waiting.lines += job.lines();
            waiting.jobs.push_back(job.clone());
        }
    }
}

impl JobHandoff for Handoff {
    fn open(&self, lease: Duration) {
        let micros = micros(lease).max(1);
        self.lease_micros.store(micros, Ordering::Release);
    }

    fn close(&self) {
        self.lease_micros.store(0, Ordering::Release);
    }

    /// The orders already leased and not yet committed are not counted: the bounds can be
    /// passed by one writer batch.
    fn lease_for_new_job(&self, lines: usize) -> Option<Duration> {
        let micros = self.lease_micros.load(Ordering::Acquire);
        if micros == 0 {
            return None;
        }
        let waiting = lock(&self.waiting);
        if waiting.jobs.len() >= CAPACITY || waiting.lines.saturating_add(lines) > LINE_CAPACITY {
            return None;
        }
        Some(Duration::from_micros(u64::try_from(micros).unwrap_or(u64::MAX)))
    }

    /// Jobs whose lease ended by `now` are dropped instead: they are due to the ordinary
    /// claim, which counts a new attempt.
    fn take(&self, limit: usize, now: Timestamp) -> Vec<(ClaimedJob, Arc<Event>)> {
        let mut waiting = lock(&self.waiting);
        let mut taken = Vec::with_capacity(limit.min(waiting.jobs.len()));
        while taken.len() < limit
            && let Some(handed) = waiting.jobs.pop_front()
        {
            waiting.lines = waiting.lines.saturating_sub(handed.lines());
            if handed.lease_end > now {
                taken.push((handed.job, handed.event));
            }
        }
        taken
    }

    fn waiting(&self) -> usize {
        lock(&self.waiting).jobs.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::records::EventData;

    fn handed(id: i64, lease_end: i64) -> HandedJob {
        let job = ClaimedJob {
            id,
            kind: "inventory.out_of_stock".to_owned(),
            event_id: format!("e{id}"),
            order_id: None,
            payload: "{}".to_owned(),
            created_at: Timestamp::from_micros(0),
            attempt: 1,
            max_attempts: 8,
        };
        let event = Event {
            event: "inventory.out_of_stock",
            id: job.event_id.clone(),
            created_at: job.created_at,
            data: EventData::Stored(serde_json::json!({})),
        };
        HandedJob { job, lease_end: Timestamp::from_micros(lease_end), event: Arc::new(event) }
    }

    #[test]
    fn nothing_is_handed_over_until_the_workers_open_it_nor_after_they_close_it() {
        let handoff = Handoff::default();
        assert_eq!(handoff.lease_for_new_job(1), None);
        handoff.open(Duration::from_secs(30));
        assert_eq!(handoff.lease_for_new_job(1), Some(Duration::from_secs(30)));
        handoff.close();
        assert_eq!(handoff.lease_for_new_job(1), None);
    }

    #[test]
    fn a_full_handoff_sends_new_jobs_to_the_queue() {
        let handoff = Handoff::default();
        handoff.open(Duration::from_secs(30));
        let jobs: Vec<_> = (0..i64::try_from(CAPACITY).expect("fits")).map(|id| handed(id, 100)).collect();
        handoff.hand_over(&jobs);
        assert_eq!(handoff.lease_for_new_job(1), None);
        assert_eq!(handoff.take(1, Timestamp::from_micros(0)).len(), 1);
        assert!(handoff.lease_for_new_job(1).is_some());
    }

    /// An `order.confirmed` job whose order has `lines` lines.
    fn handed_order(id: i64, lines: usize) -> HandedJob {
        use crate::db::records::{OrderBody, OrderItemBody};
        use crate::domain::{OrderId, OrderStatus, ProductId, StoreId};
        let items = (1..=i64::try_from(lines).expect("fits"))
            .map(|product| OrderItemBody { product_id: ProductId(product), title: "T".into(), quantity_requested: 1 })
            .collect();
        let order = OrderBody {
            id: OrderId(id),
            store_id: StoreId(1),
            status: OrderStatus::Confirmed,
            created_at: Timestamp::from_micros(0),
            total_quantity: i64::try_from(lines).expect("fits"),
            items,
            reservation_id: None,
            errors: Vec::new(),
            confirmation: None,
        };
        let mut handed = handed(id, 100);
        let event = Event { data: EventData::Order(Box::new(order)), ..(*handed.event).clone() };
        handed.event = Arc::new(event);
        handed
    }

    #[test]
    fn long_orders_fill_the_handoff_by_their_lines_not_their_count() {
        let handoff = Handoff::default();
        handoff.open(Duration::from_secs(30));
        let long = (0..65).map(|id| handed_order(id, 1000)).collect::<Vec<_>>();
        handoff.hand_over(&long);
        assert_eq!(handoff.waiting(), 65, "65 jobs, far under CAPACITY");
        assert_eq!(handoff.lease_for_new_job(1000), None, "but 65,000 lines: no room for 1,000 more");
        assert!(handoff.lease_for_new_job(1).is_some(), "there is for a short order");
        assert_eq!(handoff.take(2, Timestamp::from_micros(0)).len(), 2);
        assert!(handoff.lease_for_new_job(1000).is_some(), "taking jobs frees their lines");
    }

    #[test]
    fn jobs_are_taken_oldest_first_and_an_expired_lease_is_left_to_the_claim() {
        let handoff = Handoff::default();
        handoff.hand_over(&[handed(1, 50), handed(2, 200), handed(3, 200), handed(4, 200)]);
        let ids = |jobs: Vec<(ClaimedJob, Arc<Event>)>| {
            jobs.into_iter().map(|(job, event)| (job.id, event.id.clone())).collect::<Vec<_>>()
        };
        let pair = |id: i64| (id, format!("e{id}"));
        assert_eq!(ids(handoff.take(2, Timestamp::from_micros(100))), [pair(2), pair(3)], "job 1's lease ended at 50");
        assert_eq!(ids(handoff.take(10, Timestamp::from_micros(100))), [pair(4)], "each with its own event");
        assert_eq!(handoff.waiting(), 0);
    }
}
