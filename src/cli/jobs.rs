//! `aforro jobs [--state S]` (a table of the queue on stdout) and `aforro jobs retry <id>`
//! (put a dead-lettered job back in the queue).

use anyhow::{Context, bail};

use crate::app;
use crate::config::Config;
use crate::db::ReadPool;
use crate::db::exclusive::lock_data_dir;
use crate::db::outbox::jobs::{self, JobRow, JobState};
use crate::domain::Timestamp;

/// Prints up to `limit` jobs, newest first. Only reads, through a read-only connection, so it
/// also works beside a running `serve`.
pub fn list(config: &Config, state: Option<JobState>, limit: usize) -> anyhow::Result<()> {
    let path = config.database_path();
    if !path.exists() {
        bail!("no database at {}", path.display());
    }
    let reads = ReadPool::open(&path).context("cannot open the database")?;
    let rows = reads.run_blocking(|conn| jobs::list_jobs(conn, state, limit)).context("cannot list jobs")?;
    let mut out = std::io::stdout().lock();
    write_table(&mut out, &rows).context("cannot write to stdout")
}

fn write_table(out: &mut impl std::io::Write, rows: &[JobRow]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:>8}  {:<18}  {:>8}  {:<7}  {:>8}  {:<27}  last_error",
        "id", "kind", "order", "state", "attempts", "run_at"
    )?;
    for row in rows {
        let order = row.order_id.map(|id| id.to_string()).unwrap_or_else(|| "-".to_owned());
        let attempts = format!("{}/{}", row.attempts, row.max_attempts);
        let error = row.last_error.as_deref().unwrap_or("");
        writeln!(
            out,
            "{:>8}  {:<18}  {:>8}  {:<7}  {:>8}  {:<27}  {}",
            row.id,
            row.kind,
            order,
            row.state,
            attempts,
            row.run_at.to_rfc3339(),
            error
        )?;
    }
    Ok(())
}

/// Re-queues failed job `job_id` with a fresh set of attempts. Writes, so it takes the data
/// folder's lock: refused while `serve` runs.
pub fn retry(config: &Config, job_id: i64) -> anyhow::Result<()> {
    let _lock = lock_data_dir(&config.data_dir)?;
    let store = app::open_store(config)?;
    if !jobs::retry_failed(&store.write_conn, job_id, Timestamp::now())? {
        bail!("job {job_id} is not a failed job (see `aforro jobs --state failed`)");
    }
    println!("re-queued job {job_id}");
    Ok(())
}
