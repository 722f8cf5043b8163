//! How the job queue runs: the operator's flags (`--job-workers`, the confirmation sender and
//! its webhook, the retention window) and the tuning the workers use.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::signing::SigningKeys;

/// The queue's options, flattened into the shared [`crate::config::Config`].
#[derive(Debug, Clone, Args)]
pub struct JobsConfig {
    /// Tokio workers draining the job queue inside `serve`. `0` runs none: jobs wait queued.
    #[arg(long, global = true, env = "AFORRO_JOB_WORKERS", default_value_t = 2,
          value_parser = clap::value_parser!(u16).range(0..=64))]
    pub job_workers: u16,

    /// How an order confirmation goes out.
    #[arg(long, global = true, env = "AFORRO_CONFIRMATION_SENDER", value_enum, default_value_t = SenderKind::Log)]
    pub confirmation_sender: SenderKind,

    /// Where the `webhook` sender POSTs confirmations (required with it).
    #[arg(long, global = true, env = "AFORRO_WEBHOOK_URL")]
    pub webhook_url: Option<String>,

    /// The webhook's Standard Webhooks secret, `whsec_` + base64 of 24 to 64 random bytes, or
    /// two separated by a comma during a rotation (required with it; never logged).
    #[arg(long, global = true, env = "AFORRO_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<Secret>,

    /// A file holding `--webhook-secret`'s value (a trailing newline is ignored), so the
    /// secret shows in neither the process list nor the environment.
    #[arg(long, global = true, env = "AFORRO_WEBHOOK_SECRET_FILE", conflicts_with = "webhook_secret")]
    pub webhook_secret_file: Option<PathBuf>,

    /// Seconds a webhook POST may take before it counts as a failed, retryable attempt.
    #[arg(long, global = true, env = "AFORRO_WEBHOOK_TIMEOUT_SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub webhook_timeout_secs: u64,

    /// Hours `done` jobs and idempotency keys are kept before maintenance purges them.
    #[arg(long, global = true, env = "AFORRO_RETENTION_HOURS", default_value_t = 168,
          value_parser = clap::value_parser!(u64).range(1..=87_600))]
    pub retention_hours: u64,

    /// Days stock movements are kept before maintenance prunes them (the ledger's chain holds
    /// over what is kept).
    #[arg(long, global = true, env = "AFORRO_MOVEMENT_RETENTION_DAYS", default_value_t = 365,
          value_parser = clap::value_parser!(u64).range(1..=36_500))]
    pub movement_retention_days: u64,
}

/// How long stock movements are kept unless `--movement-retention-days` says otherwise.
pub const DEFAULT_MOVEMENT_RETENTION: Duration = Duration::from_secs(365 * 24 * 3600);

impl Default for JobsConfig {
    /// The same values as the flags' defaults.
    fn default() -> Self {
        Self {
            job_workers: 2,
            confirmation_sender: SenderKind::Log,
            webhook_url: None,
            webhook_secret: None,
            webhook_secret_file: None,
            webhook_timeout_secs: 5,
            retention_hours: 168,
            movement_retention_days: 365,
        }
    }
}

impl JobsConfig {
    /// How long done jobs and idempotency keys are kept.
    pub fn retention(&self) -> Duration {
        Duration::from_secs(self.retention_hours.saturating_mul(3600))
    }

    /// How long stock movements are kept.
    pub fn movement_retention(&self) -> Duration {
        Duration::from_secs(self.movement_retention_days.saturating_mul(24 * 3600))
    }

    /// The webhook's signing keys from `--webhook-secret` or `--webhook-secret-file`, if either
    /// is given; an error names what is wrong (never the secret) and how to make a good one.
    pub fn webhook_keys(&self) -> anyhow::Result<Option<SigningKeys>> {
        let keys = match (&self.webhook_secret, &self.webhook_secret_file) {
            (Some(secret), _) => SigningKeys::parse(secret.expose()).context("--webhook-secret refused")?,
            (None, Some(path)) => {
                let read = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read --webhook-secret-file {}", path.display()))?;
                SigningKeys::parse(read.trim_end_matches(['\n', '\r']))
                    .with_context(|| format!("the secret in --webhook-secret-file {} refused", path.display()))?
            }
            (None, None) => return Ok(None),
        };
        Ok(Some(keys))
    }
}

/// How confirmations are delivered (`--sender`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SenderKind {
    /// Log the rendered confirmation and record it in `notifications`.
    Log,
    /// POST the event's JSON, signed as Standard Webhooks says, to `--webhook-url`.
    Webhook,
}

/// A secret that never appears in `Debug` output, so logging a config cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for signing; never log what this returns.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The workers' tuning. Fixed in production; tests shorten the lease and the backoff.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// How long a claim holds a job before another worker may run it again.
    pub lease: Duration,
    /// Most jobs claimed per `UPDATE … RETURNING`, and so sent concurrently by one worker.
    /// See [`WorkerSettings::for_sender`].
    pub claim_batch: usize,
    /// Fallback poll when no enqueue woke the workers: picks up retries whose backoff ended.
    pub poll_interval: Duration,
    /// First retry delay; doubled per attempt, jittered, capped at `backoff_cap`.
    pub backoff_base: Duration,
    /// The longest retry delay, however many attempts failed.
    pub backoff_cap: Duration,
}

impl WorkerSettings {
    /// The defaults, with a claim batch to suit the sender. Each worker step waits for the
    /// writer behind whatever orders are queued there (twice before the loop was pipelined:
    /// claim, record), so under load the batch decides whether the queue keeps up: with 2 workers and the `log` sender, measured
    /// while placing 20,000 orders flat out (`queue_keeps_up_with_the_order_rate`, debug build),
    /// a batch of 64 left 15,232 jobs behind, 256 left 1,280, 512 left 178. A webhook batch is
    /// that many concurrent POSTs to one endpoint: 32.
    pub fn for_sender(kind: SenderKind) -> Self {
        let claim_batch = match kind {
            SenderKind::Log => 512,
            SenderKind::Webhook => 32,
        };
        Self { claim_batch, ..Self::default() }
    }
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(30),
            claim_batch: 512,
            poll_interval: Duration::from_secs(1),
            backoff_base: Duration::from_secs(2),
            backoff_cap: Duration::from_secs(3600),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows_in_debug_output() {
        let config = JobsConfig { webhook_secret: Some(Secret::from("hunter2".to_owned())), ..JobsConfig::default() };
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
