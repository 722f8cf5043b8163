//! A job as the workers hold it: claimed from the queue, or handed to them by the transaction
//! that queued it, and [`JobHandoff`], what the writer knows of that hand-over (its
//! implementation, `jobs::handoff`, belongs to the workers).

use std::sync::Arc;
use std::time::Duration;

use super::event::{Event, EventData};
use crate::domain::{OrderId, Timestamp};

/// A job a worker has claimed: it holds the lease until `lease_expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    /// The job's row id (the workers' handle on it).
    pub id: i64,
    /// The event's name (`order.confirmed`, …).
    pub kind: String,
    /// The id receivers dedupe on.
    pub event_id: String,
    /// The order the event is about, for order events.
    pub order_id: Option<OrderId>,
    /// The event's data when it carries its own (stock events); `{}` for order events.
    pub payload: String,
    /// When the cause committed: the event's `created_at`.
    pub created_at: Timestamp,
    /// This claim's attempt number (1 for the first run). It doubles as the lease token: a
    /// worker whose lease expired and was claimed again no longer matches it.
    pub attempt: i64,
    /// Attempts allowed before it is dead-lettered.
    pub max_attempts: i64,
}

/// A job inserted already leased to this process's workers, with what it delivers.
#[derive(Debug, Clone)]
pub struct HandedJob {
    /// The job as a claim would have returned it (first attempt).
    pub job: ClaimedJob,
    /// When its lease ends: a worker that has not taken it by then leaves it to the claim.
    pub lease_end: Timestamp,
    /// Its event, built from the order the same transaction wrote (what
    /// `db::store::orders::load_event` would read back).
    pub event: Arc<Event>,
}

impl HandedJob {
    /// The order lines its event holds (at least 1: what a hand-off weighs it by).
    pub fn lines(&self) -> usize {
        match &self.event.data {
            EventData::Order(order) => order.items.len().max(1),
            EventData::Stored(_) => 1,
        }
    }
}

/// The jobs an order leases to this process's workers as it queues them (see
/// `jobs::handoff`, which implements it). The writer asks it whether a new order's job is
/// handed over; the workers open it, take from it and close it.
pub trait JobHandoff: Send + Sync {
    /// Starts handing jobs over under `lease` (the workers' claim lease).
    fn open(&self, lease: Duration);
    /// Stops handing new jobs over (the workers are stopping): they are queued instead.
    fn close(&self);
    /// The lease under which the job of an order of `lines` lines queued now is handed over,
    /// or `None` to queue it the usual way (closed, or full).
    fn lease_for_new_job(&self, lines: usize) -> Option<Duration>;
    /// Takes up to `limit` waiting jobs, oldest first, each with its event; jobs whose lease
    /// ended by `now` are left to the ordinary claim.
    fn take(&self, limit: usize, now: Timestamp) -> Vec<(ClaimedJob, Arc<Event>)>;
    /// Jobs waiting to be taken.
    fn waiting(&self) -> usize;
}

/// A hand-off that never opens: a writer without workers (tests, benches, a read replica)
/// queues every job in the table.
struct NoHandoff;

impl JobHandoff for NoHandoff {
    fn open(&self, _lease: Duration) {}
    fn close(&self) {}
    fn lease_for_new_job(&self, _lines: usize) -> Option<Duration> {
        None
    }
    fn take(&self, _limit: usize, _now: Timestamp) -> Vec<(ClaimedJob, Arc<Event>)> {
        Vec::new()
    }
    fn waiting(&self) -> usize {
        0
    }
}

/// The hand-off a writer is started with (`writer::spawn`); the default never hands over.
#[derive(Clone)]
pub struct HandoffLink(Arc<dyn JobHandoff>);

impl HandoffLink {
    /// The hand-off the writer's orders lease their jobs to.
    pub fn handoff(&self) -> &Arc<dyn JobHandoff> {
        &self.0
    }
}

impl Default for HandoffLink {
    fn default() -> Self {
        Self(Arc::new(NoHandoff))
    }
}

impl<H: JobHandoff + 'static> From<Arc<H>> for HandoffLink {
    fn from(handoff: Arc<H>) -> Self {
        Self(handoff)
    }
}
