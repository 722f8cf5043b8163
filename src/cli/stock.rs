//! `aforro stock import FILE.csv`: a bulk stock update from a CSV file (header
//! `store_id,product_id,quantity` or `store_id,product_id,delta`), 10,000 rows per call with a
//! progress bar. With `--url`, or while a `serve` holds the data folder, the rows go to that
//! server's `POST /api/admin/stock/bulk/` (with `AFORRO_API_KEY`, or `--api-key`, as the bearer
//! credential in keyed mode), so its views stay in step; only when no server runs does it write the database
//! itself, one transaction per call, as the route would.

use anyhow::{Context, bail};
use rusqlite::TransactionBehavior;
use serde_json::{Value, json};

use crate::app;
use crate::config::Config;
use crate::db::OpenedStore;
use crate::db::exclusive::try_lock_data_dir;
use crate::db::outbox::commit_log;
use crate::db::store::bulk;
use crate::domain::stock::{self as input, BulkOutcome, ErrorPolicy, FailedRow, MAX_BULK_ROWS};
use crate::domain::{FieldError, Timestamp};
use crate::error::Error;
use crate::progress::progress_bar;

/// The options of `stock import`.
#[derive(Debug, Clone, clap::Args)]
pub struct Import {
    /// The CSV file.
    pub file: std::path::PathBuf,
    /// `reject_everything` (a failed row stops the call it is in: nothing of that call is
    /// applied, and no later call is sent) or `reject_failed_rows` (the other rows apply).
    #[arg(long, default_value = "reject_everything", value_parser = ["reject_everything", "reject_failed_rows"])]
    pub error_policy: String,
    /// A running server's base URL (`http://127.0.0.1:8000`); without it the rows go to the
    /// server that holds the data folder at `AFORRO_ADDR` (default 127.0.0.1:8000), or, when
    /// none runs, straight into the database.
    #[arg(long, env = "AFORRO_URL")]
    pub url: Option<String>,
    /// The bearer credential for the server in keyed mode (an API key with `stock.write`, or
    /// the master key; in open mode an admin token).
    #[arg(long, env = "AFORRO_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
}

/// Where the rows go.
enum Target {
    Server { url: String, key: Option<String>, client: reqwest::Client, runtime: tokio::runtime::Runtime },
    Database { store: OpenedStore },
}

/// Runs the import; fails (non-zero exit) when any row failed.
pub fn import(config: &Config, request: &Import) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(&request.file).with_context(|| format!("cannot read {}", request.file.display()))?;
    let rows = input::csv_rows(&text).map_err(|error| anyhow::anyhow!(describe(&error)))?;
    if rows.is_empty() {
        bail!("{} holds no rows", request.file.display());
    }
    let policy = ErrorPolicy::parse(&request.error_policy).unwrap_or_default();
    let lock = match &request.url {
        Some(_) => None,
        None => try_lock_data_dir(&config.data_dir)?,
    };
    let mut target = match (&request.url, &lock) {
        (None, Some(_)) => Target::Database { store: app::open_store(config)? },
        (url, _) => Target::Server {
            url: format!("{}/api/admin/stock/bulk/", server_url(url.as_deref()).trim_end_matches('/')),
            key: request.api_key.clone().filter(|key| !key.is_empty()),
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(120))
                .build()
                .context("cannot start an HTTP client")?,
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start a runtime")?,
        },
    };
    let bar = progress_bar(rows.len() as u64, "rows");
    let (mut applied, mut failed) = (0, Vec::new());
    for (chunk_index, chunk) in rows.chunks(MAX_BULK_ROWS).enumerate() {
        let offset = chunk_index * MAX_BULK_ROWS;
        let body = json!({"error_policy": policy.as_str(), "rows": chunk});
        match send(&mut target, &body)? {
            Ok(outcome) => {
                applied += outcome.applied;
                failed.extend(outcome.failed.into_iter().map(|row| shifted(row, offset)));
            }
            Err(errors) => {
                bar.abandon();
                for error in &errors {
                    eprintln!("{}", line_of(error, offset));
                }
                bail!(
                    "rows {}..{} refused ({} problems): nothing of them applied, {applied} rows before them were",
                    offset,
                    offset + chunk.len(),
                    errors.len()
                );
            }
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish();
    for row in &failed {
        for error in &row.errors {
            eprintln!("{}", line_of(error, 0));
        }
    }
    println!("applied {applied} rows; {} failed", failed.len());
    if !failed.is_empty() {
        bail!("{} rows failed (listed above)", failed.len());
    }
    Ok(())
}

/// One call: the outcome, or (reject_everything) the errors of the refused call.
fn send(target: &mut Target, body: &Value) -> anyhow::Result<Result<BulkOutcome, Vec<FieldError>>> {
    match target {
        Target::Database { store } => {
            let update = input::bulk_update(body).map_err(|error| anyhow::anyhow!(describe(&error)))?;
            let tx = store.write_conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let written = match bulk::apply(&tx, &update, None) {
                Ok(written) => written,
                Err(Error::Validation(errors)) => return Ok(Err(errors)),
                Err(other) => return Err(other.into()),
            };
            commit_log::append(&tx, &written.effects, Timestamp::now())?;
            tx.commit()?;
            Ok(Ok(written.value))
        }
        Target::Server { url, key, client, runtime } => {
            let mut request = client.post(url.as_str()).json(body);
            if let Some(key) = key {
                request = request.bearer_auth(key);
            }
            let (status, answer) = runtime
                .block_on(async {
                    let response = request.send().await?;
                    let status = response.status();
                    Ok::<_, reqwest::Error>((status, response.json::<Value>().await.unwrap_or(Value::Null)))
                })
                .with_context(|| format!("no answer from {url}"))?;
            match status.as_u16() {
                200 => Ok(Ok(outcome_from(&answer).with_context(|| format!("{url} answered {answer}"))?)),
                400 if answer.get("errors").is_some() => {
                    let errors = serde_json::from_value::<Vec<ErrorItem>>(answer["errors"].clone())
                        .context("unreadable errors")?
                        .into_iter()
                        .map(|item| FieldError::new(item.field, item.message))
                        .collect();
                    Ok(Err(errors))
                }
                _ => bail!("{url} answered {status}: {}", answer.get("detail").and_then(Value::as_str).unwrap_or("")),
            }
        }
    }
}

#[derive(serde::Deserialize)]
struct ErrorItem {
    field: String,
    message: String,
}

fn outcome_from(answer: &Value) -> anyhow::Result<BulkOutcome> {
    let applied = answer["applied"].as_u64().context("no applied count")?;
    let failed = answer["failed"]
        .as_array()
        .context("no failed rows")?
        .iter()
        .map(|row| {
            let index = row["index"].as_u64().context("no index")?;
            let errors: Vec<ErrorItem> = serde_json::from_value(row["errors"].clone()).context("no errors")?;
            Ok(FailedRow {
                index: usize::try_from(index)?,
                errors: errors.into_iter().map(|item| FieldError::new(item.field, item.message)).collect(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(BulkOutcome { applied: usize::try_from(applied)?, failed })
}

/// A failed row of the call starting at `offset`, numbered as in the whole file.
fn shifted(row: FailedRow, offset: usize) -> FailedRow {
    let index = row.index + offset;
    let errors =
        row.errors.into_iter().map(|error| FieldError::new(renumbered(&error.field, offset), error.message)).collect();
    FailedRow { index, errors }
}

/// `rows[i].member` of a call starting at `offset` as `rows[offset + i].member`.
fn renumbered(field: &str, offset: usize) -> String {
    let Some(rest) = field.strip_prefix("rows[") else { return field.to_owned() };
    let Some((index, tail)) = rest.split_once(']') else { return field.to_owned() };
    match index.parse::<usize>() {
        Ok(index) => format!("rows[{}]{tail}", index + offset),
        Err(_) => field.to_owned(),
    }
}

/// One error as a line naming the CSV line (the header is line 1, `rows[0]` line 2).
fn line_of(error: &FieldError, offset: usize) -> String {
    let field = renumbered(&error.field, offset);
    let line = field
        .strip_prefix("rows[")
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(index, _)| index.parse::<usize>().ok())
        .map_or_else(String::new, |index| format!("line {}: ", index + 2));
    format!("{line}{field}: {}", error.message)
}

/// The server to send to: `--url`, else the address a local `serve` listens on.
fn server_url(url: Option<&str>) -> String {
    match url {
        Some(url) => url.to_owned(),
        None => {
            let addr = std::env::var("AFORRO_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
            let addr = addr.replace("0.0.0.0", "127.0.0.1");
            format!("http://{addr}")
        }
    }
}

/// A validation error as one line.
fn describe(error: &Error) -> String {
    match error {
        Error::Validation(errors) => {
            errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_call_s_rows_are_named_as_in_the_whole_file() {
        assert_eq!(renumbered("rows[3].delta", 10_000), "rows[10003].delta");
        assert_eq!(renumbered("error_policy", 10_000), "error_policy");
        let error = FieldError::new("rows[0].store_id", "store 9 does not exist");
        assert_eq!(line_of(&error, 10_000), "line 10002: rows[10000].store_id: store 9 does not exist");
    }
}
