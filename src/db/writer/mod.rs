//! The single writer: one thread owns the only read-write connection and runs every write.
//!
//! Every write is a named method of [`WriterHandle`], all of them in [`writes`] (for example
//! `place_order`, which runs `db::store::orders`' statement functions; the catalog's, such as
//! `save_product_as`, run `db::store::catalog`'s with their admin history from
//! `db::admin::history`); each sends its statement function over a channel (the private
//! `WriterHandle::write`, which only [`writes`] can call) and awaits the reply. What a write
//! changed is its [`CommitEffects`] (`db::records`). The thread takes whatever writes are
//! waiting (up to the batch bound), runs each in its own savepoint inside one `BEGIN IMMEDIATE … COMMIT` (an order, the
//! hot write, runs without one: see `WriterHandle::write_unguarded`), and only
//! after the commit is durable tells the [`CommitObserver`]s (the in-memory stock view, the
//! search index, the job workers) and then replies. So:
//! - no two writers ever race: the stock check and the deduction cannot interleave;
//! - one fsync covers a whole batch (group commit), which is where the orders/s come from;
//! - a write that fails rolls back its savepoint only, and an unguarded write that fails
//!   half-way rolls back its whole batch: an order is whole or absent;
//! - a client never sees a response whose effects the derived views have not seen;
//! - a batch the data volume fails (full, I/O error, read-only) is answered 503 and recorded in
//!   [`StorageHealth`], which `/readyz` reads; a probe write that needs fresh space ends it.

mod writes;

use std::sync::Arc;
use std::thread::JoinHandle;

use rusqlite::{Connection, Transaction, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use super::health::{self, StorageHealth};
use super::outbox::commit_log;
use super::records::{CommitEffects, CommitObserver, HandoffLink, JobHandoff, Written};
use crate::domain::{Clock, Timestamp};
use crate::error::fault::StorageFault;
use crate::error::{Error, Result};

/// Default for the most writes committed together. Bounds the latency one batch adds to its
/// first write (about 0.1 ms of work per order); 1,024 rather than 256 took
/// `cargo bench --bench orders` from 5.9k to 8.0k durable orders/s, fewer fsyncs per order.
pub const DEFAULT_MAX_BATCH: usize = 1024;
/// Writes that may wait for the writer before senders wait too (backpressure).
const CHANNEL_CAPACITY: usize = 4096;

/// A write as the writer thread runs it: type-erased so any caller's closure fits one channel.
trait Command: Send {
    /// Runs in its own savepoint (or, for an unguarded write, none); the reply waits until the
    /// batch commits.
    fn execute(self: Box<Self>, tx: &Transaction<'_>) -> Box<dyn Pending>;
    /// The batch could not even begin: answer without running.
    fn fail_unrun(self: Box<Self>, error: &Arc<rusqlite::Error>, fault: Option<StorageFault>);
}

/// A write that ran, holding its reply until the batch's commit decides whether it stands.
trait Pending: Send {
    fn effects(&self) -> Option<&CommitEffects>;
    /// The storage fault this write hit, if it failed because of one.
    fn fault(&self) -> Option<StorageFault>;
    /// Whether it failed without its savepoint's safety net in a way that may have left some
    /// of its rows behind (see [`WriterHandle::write_unguarded`]): the batch cannot commit.
    fn spoils_batch(&self) -> bool;
    /// Whether it returned an error of its own (answered with it whatever the batch does); not
    /// when it found the batch already rolled back under it and so never ran.
    fn failed_by_itself(&self) -> bool;
    fn reply(self: Box<Self>);
    fn fail(self: Box<Self>, error: &Arc<rusqlite::Error>, fault: Option<StorageFault>);
    /// Answers `error` instead of its own result: its batch was rolled back.
    fn abandon(self: Box<Self>, error: Error);
}

struct Write<T, F> {
    work: F,
    reply: oneshot::Sender<Result<T>>,
    /// Whether it runs in its own savepoint (see [`WriterHandle::write_unguarded`]).
    guarded: bool,
}

struct Ran<T> {
    result: Result<Written<T>>,
    reply: oneshot::Sender<Result<T>>,
    guarded: bool,
}

impl<T, F> Command for Write<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<Written<T>> + Send + 'static,
{
    fn execute(self: Box<Self>, tx: &Transaction<'_>) -> Box<dyn Pending> {
        let Write { work, reply, guarded } = *self;
        let result = if guarded { in_savepoint(tx, work) } else { in_transaction(tx, work) };
        Box::new(Ran { result, reply, guarded })
    }

    fn fail_unrun(self: Box<Self>, error: &Arc<rusqlite::Error>, fault: Option<StorageFault>) {
        drop(self.reply.send(Err(commit_failed(error, fault))));
    }
}

impl<T: Send + 'static> Pending for Ran<T> {
    fn effects(&self) -> Option<&CommitEffects> {
        self.result.as_ref().ok().map(|written| &written.effects)
    }

    fn fault(&self) -> Option<StorageFault> {
        match &self.result {
            Err(Error::Storage(fault)) => Some(*fault),
            _ => None,
        }
    }

    fn spoils_batch(&self) -> bool {
        !self.guarded && self.failed_by_itself() && self.result.as_ref().is_err_and(|error| !wrote_nothing(error))
    }

    fn failed_by_itself(&self) -> bool {
        self.result.as_ref().is_err_and(|error| !matches!(error, Error::RolledBack))
    }

    fn reply(self: Box<Self>) {
        // A caller that went away no longer needs its reply; the commit stands regardless.
        drop(self.reply.send(self.result.map(|written| written.value)));
    }

    fn fail(self: Box<Self>, error: &Arc<rusqlite::Error>, fault: Option<StorageFault>) {
        drop(self.reply.send(Err(commit_failed(error, fault))));
    }

    fn abandon(self: Box<Self>, error: Error) {
        drop(self.reply.send(Err(error)));
    }
}

/// What travels the writer's channel.
enum Request {
    Write(Box<dyn Command>),
    /// Runs on the connection between batches, outside any transaction.
    Maintenance(Box<dyn FnOnce(&Connection) + Send>),
}

/// The answer to a write whose batch failed. `fault` is a storage fault one of the batch's
/// writes hit: SQLite may then have rolled the whole transaction back, and the `COMMIT` error
/// ("no transaction is active") would hide the cause.
fn commit_failed(error: &Arc<rusqlite::Error>, fault: Option<StorageFault>) -> Error {
    match fault.or_else(|| StorageFault::classify(error)) {
        Some(fault) => Error::Storage(fault),
        None => Error::Commit(Arc::clone(error)),
    }
}

/// A cheap clonable handle for sending writes. When every handle is dropped, the writer
/// finishes the writes already sent and its thread ends.
#[derive(Clone)]
pub struct WriterHandle {
    commands: mpsc::Sender<Request>,
    /// Whether commits succeed; the writer thread updates it after every batch.
    health: StorageHealth,
    /// Where the job queue's observer puts jobs leased at insert (closed unless workers run).
    job_handoff: HandoffLink,
    /// What "now" is for reservations: their expiry and every availability check against
    /// them (the system clock but in tests, see [`WriterHandle::with_clock`]).
    clock: Clock,
}

impl WriterHandle {
    /// Runs `work` on the write connection, in its own savepoint of the next batch's
    /// transaction. Resolves after the commit is durable and every observer has seen its
    /// effects; an error from `work` rolls back exactly what `work` wrote.
    async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<Written<T>> + Send + 'static,
    {
        self.send_write(work, true).await
    }

    /// [`Self::write`] without the write's own savepoint, for a hot write that promises to
    /// return an error that [`wrote_nothing`] accepts (a 400, 404, 409 or 422) only when it
    /// changed nothing. Any other error may have left some of its rows behind, so the writer
    /// then rolls the whole batch back: that write gets its own error, every other write of the
    /// batch that had succeeded a 503 to retry (the cause is a bug or a storage fault, both
    /// rare). What it saves is the savepoint: `SAVEPOINT`/`RELEASE` and SQLite's copy of every
    /// page the write touches into the savepoint journal, about 12 % of the writer's time per
    /// order (`perf record --call-graph dwarf`, 2026-11-30, `8088f78`; docs/performance.md,
    /// "Why an order has no savepoint of its own").
    async fn write_unguarded<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<Written<T>> + Send + 'static,
    {
        self.send_write(work, false).await
    }

    async fn send_write<T, F>(&self, work: F, guarded: bool) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<Written<T>> + Send + 'static,
    {
        let (reply, response) = oneshot::channel();
        self.send(Request::Write(Box::new(Write { work, reply, guarded }))).await?;
        response.await.map_err(|_| Error::WriterGone)?
    }

    /// Runs `work` on the write connection between two batches, outside any transaction:
    /// for statements SQLite refuses inside one, such as `PRAGMA wal_checkpoint(TRUNCATE)`
    /// (it cannot checkpoint a WAL that its own open transaction is reading). Nothing is rolled
    /// back on error and no observer is told: only for maintenance that changes no data.
    async fn maintain<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (reply, response) = oneshot::channel();
        let run = move |conn: &Connection| drop(reply.send(work(conn)));
        self.send(Request::Maintenance(Box::new(run))).await?;
        response.await.map_err(|_| Error::WriterGone)?
    }

    /// `PRAGMA wal_checkpoint(TRUNCATE)`: returns SQLite's (busy, WAL pages, checkpointed).
    pub async fn checkpoint_wal(&self) -> Result<(i64, i64, i64)> {
        self.checkpoint("PRAGMA wal_checkpoint(TRUNCATE)").await
    }

    /// `PRAGMA wal_checkpoint(PASSIVE)`, the checkpoint beside Litestream (`serve
    /// --litestream`): never waits on a reader, never restarts the WAL. Returns the same triple.
    pub async fn checkpoint_wal_passive(&self) -> Result<(i64, i64, i64)> {
        self.checkpoint("PRAGMA wal_checkpoint(PASSIVE)").await
    }

    async fn checkpoint(&self, pragma: &'static str) -> Result<(i64, i64, i64)> {
        self.maintain(move |conn| {
            Ok(conn.query_row(pragma, [], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
            })?)
        })
        .await
    }

    /// `PRAGMA optimize`: lets SQLite refresh the statistics its query planner uses.
    pub async fn optimize(&self) -> Result<()> {
        self.maintain(|conn| Ok(conn.execute_batch("PRAGMA optimize")?)).await
    }

    #[cfg(feature = "test-support")]
    /// `PRAGMA max_page_count` on the writer's connection: caps the database at `pages` (its
    /// current size when `None`) and returns the cap SQLite took. A write that needs more pages
    /// fails with `SQLITE_FULL`, exactly as on a full volume, which is how the disk-full test
    /// emulates one without mounting a filesystem.
    pub async fn limit_database_pages(&self, pages: Option<i64>) -> Result<i64> {
        self.maintain(move |conn| {
            let current: i64 = conn.query_row("PRAGMA page_count", [], |row| row.get(0))?;
            let limit = pages.unwrap_or(current);
            Ok(conn.pragma_update_and_check(None, "max_page_count", limit, |row| row.get(0))?)
        })
        .await
    }

    /// The storage fault writes currently fail with, if any, after a probe write when one is
    /// due: with readiness red no traffic writes, and the probe is what sees the fault clear.
    pub async fn storage_fault(&self) -> Option<StorageFault> {
        if self.health.claim_probe() && self.write(|conn| health::probe_write(conn).map(Written::quietly)).await.is_ok()
        {
            self.health.probe_succeeded();
        }
        self.health.fault()
    }

    /// A handle with no writer behind it, for a read replica (whose database only Litestream
    /// writes): every write is refused with 503. The HTTP layer sends writes to the primary
    /// before they could get here.
    pub fn without_writer() -> Self {
        let (commands, _) = mpsc::channel(1);
        Self { commands, health: StorageHealth::default(), job_handoff: HandoffLink::default(), clock: Clock::system() }
    }

    /// This handle (and its clones made afterwards) judging expiry by `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The clock reservations expire by.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The jobs this writer's orders hand straight to the workers (see `jobs::handoff`).
    pub fn job_handoff(&self) -> &Arc<dyn JobHandoff> {
        self.job_handoff.handoff()
    }

    async fn send(&self, request: Request) -> Result<()> {
        self.commands
            .send(request)
            .await
            .map_err(|_| Error::Unavailable("no writer accepts writes (shutting down, or a read replica)".to_owned()))
    }
}

/// The writer thread; join it after dropping every [`WriterHandle`] to wait for the last commit.
pub struct WriterThread {
    thread: JoinHandle<()>,
}

impl WriterThread {
    /// Waits for the thread to end (it ends once every handle is dropped), logging a panic.
    pub fn join(self) {
        if self.thread.join().is_err() {
            tracing::error!("the writer thread panicked");
        }
    }
}

/// Starts the writer on `conn`, which must be the process's only read-write connection.
/// `max_batch` bounds how many writes share one commit (at least 1: one commit per write).
/// `job_handoff` is where the job queue (one of the `observers`) puts jobs handed over (the
/// default hands nothing over).
pub fn spawn(
    conn: Connection,
    observers: Vec<Arc<dyn CommitObserver>>,
    max_batch: usize,
    job_handoff: HandoffLink,
) -> std::io::Result<(WriterHandle, WriterThread)> {
    let (sender, receiver) = mpsc::channel(CHANNEL_CAPACITY);
    let max_batch = max_batch.max(1);
    let health = StorageHealth::default();
    let writer_health = health.clone();
    let thread = std::thread::Builder::new()
        .name("aforro-writer".to_owned())
        .spawn(move || run(conn, receiver, &observers, &writer_health, max_batch))?;
    let clock = Clock::system();
    Ok((WriterHandle { commands: sender, health, job_handoff, clock }, WriterThread { thread }))
}

fn run(
    mut conn: Connection,
    mut commands: mpsc::Receiver<Request>,
    observers: &[Arc<dyn CommitObserver>],
    health: &StorageHealth,
    max_batch: usize,
) {
    // Never waits to fill a batch: whatever is queued when the writer comes round is the batch,
    // so a lone write under light load commits at once.
    // A maintenance request ends the batch: the writes before it commit, then it runs alone.
    while let Some(first) = commands.blocking_recv() {
        let mut batch = Vec::new();
        let mut maintenance = None;
        let mut next = Some(first);
        while let Some(request) = next.take() {
            match request {
                Request::Write(command) => batch.push(command),
                Request::Maintenance(work) => maintenance = Some(work),
            }
            if maintenance.is_none() && batch.len() < max_batch {
                next = commands.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            commit_batch(&mut conn, batch, observers, health);
        }
        if let Some(work) = maintenance {
            work(&conn);
        }
    }
    tracing::debug!("writer: every handle dropped, stopping");
}

fn commit_batch(
    conn: &mut Connection,
    batch: Vec<Box<dyn Command>>,
    observers: &[Arc<dyn CommitObserver>],
    health: &StorageHealth,
) {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(error) => {
            let fault = batch_failed(health, &error, None, "cannot begin a transaction");
            let error = Arc::new(error);
            return batch.into_iter().for_each(|command| command.fail_unrun(&error, fault));
        }
    };
    let pending: Vec<Box<dyn Pending>> = batch.into_iter().map(|command| command.execute(&tx)).collect();
    let write_fault = pending.iter().find_map(|outcome| outcome.fault());
    if pending.iter().any(|outcome| outcome.spoils_batch()) {
        return roll_back_spoiled(tx, pending, write_fault, health);
    }
    let mut effects = CommitEffects::default();
    for outcome in &pending {
        if let Some(own) = outcome.effects() {
            effects.absorb(own);
        }
    }
    // In the same transaction, so a read replica sees the change and its notice together.
    let logged = match commit_log::concerns_views(&effects) {
        true => commit_log::append(&tx, &effects, Timestamp::now()),
        false => Ok(()),
    };
    if let Err(error) = logged.and_then(|()| tx.commit()) {
        let fault = batch_failed(health, &error, write_fault, "batch could not be committed");
        let error = Arc::new(error);
        return pending.into_iter().for_each(|outcome| outcome.fail(&error, fault));
    }
    if let Some(fault) = write_fault {
        // The writes that hit it are answered 503; the others stand.
        health.commit_failed(fault);
    }
    if !effects.is_empty() {
        for observer in observers {
            observer.committed(&effects);
        }
    }
    for outcome in pending {
        outcome.reply();
    }
}

/// A batch in which an unguarded write failed half-way: nothing of it may commit. The writes
/// that failed keep their own errors; the others are answered 503 (the storage fault, when one
/// caused it), and the batch's effects are never announced.
fn roll_back_spoiled(
    tx: Transaction<'_>,
    pending: Vec<Box<dyn Pending>>,
    write_fault: Option<StorageFault>,
    health: &StorageHealth,
) {
    if let Err(error) = tx.rollback() {
        // SQLite may have rolled it back already (after an I/O error): nothing is left either way.
        tracing::debug!(%error, "writer: rolling back a spoiled batch");
    }
    match write_fault {
        Some(fault) => {
            health.commit_failed(fault);
        }
        None => tracing::error!("writer: a write failed half-way; its whole batch was rolled back"),
    }
    for outcome in pending {
        if outcome.failed_by_itself() {
            outcome.reply();
        } else {
            outcome.abandon(write_fault.map_or_else(
                || Error::Unavailable("another write of the same batch failed; nothing was written, retry".to_owned()),
                Error::Storage,
            ));
        }
    }
}

/// The errors an unguarded write may return only when it wrote nothing (see
/// [`WriterHandle::write_unguarded`]): the caller's mistakes, decided before any row changes.
fn wrote_nothing(error: &Error) -> bool {
    matches!(
        error,
        Error::Validation(_)
            | Error::NotFound(_)
            | Error::Conflict(_)
            | Error::IdempotencyKeyReused
            | Error::ReservationNotActive { .. }
            | Error::NotEnoughStock(_)
    )
}

/// Records a failed batch: a storage fault goes to `health` (which logs it once per episode),
/// anything else is logged here. Returns the fault, if it was one.
fn batch_failed(
    health: &StorageHealth,
    error: &rusqlite::Error,
    write_fault: Option<StorageFault>,
    what: &str,
) -> Option<StorageFault> {
    let fault = write_fault.or_else(|| StorageFault::classify(error));
    match fault {
        Some(fault) => {
            health.commit_failed(fault);
        }
        None => tracing::error!(%error, "writer: {what}; every write in the batch failed"),
    }
    fault
}

/// Runs `work` in a savepoint, so its failure undoes exactly its own writes. The savepoint
/// statements are prepared once and cached: rusqlite's `Savepoint` parses its SQL on every
/// call, a tenth of the writer's time per order in the profile (docs/performance.md).
fn in_savepoint<T>(conn: &Connection, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    if conn.is_autocommit() {
        // An I/O error made SQLite roll back the whole batch: a savepoint now would be a
        // transaction of its own, committed by its RELEASE while the batch reports failure.
        return Err(Error::RolledBack);
    }
    run_cached(conn, "SAVEPOINT write")?;
    match work(conn).and_then(|value| run_cached(conn, "RELEASE write").map(|()| value)) {
        Ok(value) => Ok(value),
        Err(error) => {
            // If even the rollback fails, the batch's COMMIT fails too and every write in it
            // is answered with an error: nothing half-done is ever acknowledged. The write's own
            // error is still the one returned: after SQLITE_FULL or an I/O error SQLite rolls
            // the whole batch back, the savepoint is gone, and "no such savepoint" would hide
            // the storage fault the batch is then answered with.
            if let Err(rollback) =
                run_cached(conn, "ROLLBACK TO write").and_then(|()| run_cached(conn, "RELEASE write"))
            {
                tracing::debug!(%rollback, "writer: the savepoint could not be rolled back");
            }
            Err(error)
        }
    }
}

/// Runs an unguarded write straight in the batch's transaction (no savepoint).
fn in_transaction<T>(conn: &Connection, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    if conn.is_autocommit() {
        // As in `in_savepoint`: the batch was rolled back under an earlier write.
        return Err(Error::RolledBack);
    }
    work(conn)
}

fn run_cached(conn: &Connection, sql: &str) -> Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::FieldError;

    type Reply = oneshot::Receiver<Result<()>>;

    /// A write inserting `value` into `t`, then answering `outcome`.
    fn insert_then(value: i64, guarded: bool, outcome: fn() -> Result<()>) -> (Box<dyn Command>, Reply) {
        let (reply, response) = oneshot::channel();
        let work = move |conn: &Connection| {
            conn.execute("INSERT INTO t (x) VALUES (?1)", [value])?;
            outcome().map(Written::quietly)
        };
        (Box::new(Write { work, reply, guarded }), response)
    }

    /// A write that answers `outcome` without writing.
    fn refuse(guarded: bool, outcome: fn() -> Result<()>) -> (Box<dyn Command>, Reply) {
        let (reply, response) = oneshot::channel();
        let work = move |_: &Connection| outcome().map(Written::quietly);
        (Box::new(Write { work, reply, guarded }), response)
    }

    fn run_batch(commands: Vec<(Box<dyn Command>, Reply)>) -> (Vec<i64>, Vec<Result<()>>) {
        let mut conn = Connection::open_in_memory().expect("in-memory db");
        conn.execute_batch("CREATE TABLE t (x INTEGER)").expect("table");
        let (batch, replies): (Vec<_>, Vec<_>) = commands.into_iter().unzip();
        commit_batch(&mut conn, batch, &[], &StorageHealth::default());
        let mut stmt = conn.prepare("SELECT x FROM t ORDER BY x").expect("select");
        let rows = stmt.query_map([], |row| row.get(0)).expect("rows").collect::<rusqlite::Result<Vec<i64>>>();
        let answers = replies.into_iter().map(|mut reply| reply.try_recv().expect("answered")).collect();
        (rows.expect("rows"), answers)
    }

    fn invalid() -> Result<()> {
        Err(Error::Validation(vec![FieldError::new("items", "bad")]))
    }

    #[test]
    fn an_unguarded_write_failing_half_way_rolls_back_its_whole_batch() {
        let (rows, answers) = run_batch(vec![
            insert_then(1, true, || Ok(())),
            insert_then(2, false, || Err(Error::Invariant("half-way".to_owned()))),
            refuse(true, invalid),
        ]);

        assert_eq!(rows, Vec::<i64>::new(), "nothing of the batch committed");
        assert!(
            matches!(answers[0], Err(Error::Unavailable(_))),
            "the innocent write is told to retry: {:?}",
            answers[0]
        );
        assert!(matches!(answers[1], Err(Error::Invariant(_))), "the spoiler keeps its own error: {:?}", answers[1]);
        assert!(
            matches!(answers[2], Err(Error::Validation(_))),
            "a failed write keeps its own error: {:?}",
            answers[2]
        );
    }

    #[test]
    fn an_unguarded_write_refused_before_writing_lets_its_batch_commit() {
        let (rows, answers) = run_batch(vec![
            insert_then(1, true, || Ok(())),
            refuse(false, || Err(Error::NotFound("store 9".to_owned()))),
            insert_then(2, false, || Ok(())),
        ]);

        assert_eq!(rows, [1, 2]);
        assert!(answers[0].is_ok() && answers[2].is_ok(), "{answers:?}");
        assert!(matches!(answers[1], Err(Error::NotFound(_))), "{:?}", answers[1]);
    }

    #[test]
    fn a_guarded_write_failing_half_way_rolls_back_only_itself() {
        let (rows, answers) = run_batch(vec![
            insert_then(1, true, || Ok(())),
            insert_then(2, true, || Err(Error::Invariant("half-way".to_owned()))),
        ]);

        assert_eq!(rows, [1]);
        assert!(answers[0].is_ok());
        assert!(matches!(answers[1], Err(Error::Invariant(_))));
    }
}
