//! `aforro jobs [--state S]` (a table of the queue on stdout), `aforro jobs show <id>` (one
//! job and its delivery attempts) and `aforro jobs retry <id>` (put a dead-lettered job back
//! in the queue).

use std::io::Write;

use anyhow::{Context, bail};

use crate::app;
use crate::config::Config;
use crate::db::ReadPool;
use crate::db::admin::listing as admin_pages;
use crate::db::exclusive::lock_data_dir;
use crate::db::outbox::delivery_attempts::{self, DeliveryAttempt};
use crate::db::outbox::jobs::{self, JobRow, JobState};
use crate::domain::Timestamp;

/// Prints up to `limit` jobs, newest first. Only reads, through a read-only connection, so it
/// also works beside a running `serve`.
pub fn list(config: &Config, state: Option<JobState>, limit: usize) -> anyhow::Result<()> {
    let reads = open_reads(config)?;
    let rows = reads.run_blocking(|conn| jobs::list_jobs(conn, state, limit)).context("cannot list jobs")?;
    let mut out = std::io::stdout().lock();
    write_table(&mut out, &rows).context("cannot write to stdout")
}

/// Prints job `job_id` and its recorded delivery attempts, oldest first. Only reads, so it
/// also works beside a running `serve`.
pub fn show(config: &Config, job_id: i64) -> anyhow::Result<()> {
    let reads = open_reads(config)?;
    let (job, attempts) = reads
        .run_blocking(move |conn| {
            let job = admin_pages::job(conn, job_id)?;
            Ok((job, delivery_attempts::attempts_of(conn, job_id)?))
        })
        .context("cannot read the job")?;
    let Some(job) = job else { bail!("no job {job_id} (see `aforro jobs`)") };
    let mut out = std::io::stdout().lock();
    write_job(&mut out, &job, &attempts).context("cannot write to stdout")
}

/// A read-only pool on the database, which must exist.
fn open_reads(config: &Config) -> anyhow::Result<ReadPool> {
    let path = config.database_path();
    if !path.exists() {
        bail!("no database at {}", path.display());
    }
    ReadPool::open(&path).context("cannot open the database")
}

/// The job as `key: value` lines, then its attempts as a table, each answer's start under its
/// attempt, on one line.
fn write_job(out: &mut impl Write, job: &JobRow, attempts: &[DeliveryAttempt]) -> std::io::Result<()> {
    let order = job.order_id.map(|id| id.to_string()).unwrap_or_else(|| "-".to_owned());
    writeln!(out, "job:        {}", job.id)?;
    writeln!(out, "event:      {} {}", job.kind, job.event_id.as_deref().unwrap_or("-"))?;
    writeln!(out, "order:      {order}")?;
    writeln!(out, "state:      {}", job.state)?;
    writeln!(out, "attempts:   {}/{}", job.attempts, job.max_attempts)?;
    writeln!(out, "run_at:     {}", job.run_at.to_rfc3339())?;
    writeln!(out, "last_error: {}", job.last_error.as_deref().unwrap_or("-"))?;
    writeln!(out)?;
    if attempts.is_empty() {
        return writeln!(out, "no delivery attempt recorded (the `log` sender records none)");
    }
    writeln!(out, "{:>7}  {:<27}  {:>11}  {:>6}  error", "attempt", "started_at", "duration_ms", "status")?;
    for attempt in attempts {
        let status = attempt.http_status.map(|status| status.to_string()).unwrap_or_else(|| "-".to_owned());
        writeln!(
            out,
            "{:>7}  {:<27}  {:>11.1}  {:>6}  {}",
            attempt.attempt,
            attempt.started_at.to_rfc3339(),
            attempt.duration.as_secs_f64() * 1000.0,
            status,
            attempt.error.as_deref().unwrap_or("-")
        )?;
        if let Some(answer) = &attempt.answer_excerpt {
            writeln!(out, "{:>7}  answer: {}", "", one_line(answer))?;
        }
    }
    Ok(())
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

/// `text` with its control characters escaped (`\n`, `\u{1b}`, …): a receiver's answer stays on
/// its line and cannot drive the terminal.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::domain::OrderId;

    #[test]
    fn a_shown_job_lists_each_attempt_with_its_status_or_error_and_answer_on_one_line_each() {
        let job = JobRow {
            id: 42,
            kind: "order.confirmed".to_owned(),
            event_id: Some("e42".to_owned()),
            order_id: Some(OrderId(7)),
            state: "queued".to_owned(),
            attempts: 2,
            max_attempts: 8,
            run_at: Timestamp::from_micros(0),
            last_error: Some("webhook answered 503 Service Unavailable".to_owned()),
        };
        let attempt = |number: i64, status: Option<u16>, error: &str, answer: Option<&str>| DeliveryAttempt {
            attempt: number,
            started_at: Timestamp::from_micros(0),
            duration: Duration::from_micros(12_345),
            http_status: status,
            error: Some(error.to_owned()),
            answer_excerpt: answer.map(str::to_owned),
        };
        let attempts = [
            attempt(1, None, "webhook request failed: connection refused", None),
            attempt(
                2,
                Some(503),
                "webhook answered 503 Service Unavailable",
                Some("\"down\"\nfor maintenance\u{1b}[2J"),
            ),
        ];
        let mut out = Vec::new();
        write_job(&mut out, &job, &attempts).expect("write");
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.contains(&"attempts:   2/8"), "{text}");
        let first = lines.iter().position(|line| line.contains("connection refused")).expect("attempt 1");
        assert!(lines[first].trim_start().starts_with("1 ") && lines[first].contains("12.3"), "{text}");
        let second = lines.iter().position(|line| line.trim_start().starts_with("2 ")).expect("attempt 2");
        assert!(lines[second].contains(" 503 ") && lines[second].contains("answered 503"), "{text}");
        assert_eq!(lines[second + 1].trim(), r#"answer: "down"\nfor maintenance\u{1b}[2J"#, "{text}");
        assert_eq!(lines.len(), second + 2, "{text}");
    }
}
