//! `aforro keys create|list|revoke`: API keys from the command line. Works beside a running
//! `serve`: each change is one `BEGIN IMMEDIATE` transaction on the database, and the server
//! sees it within a second (it polls the keys' generation).

use anyhow::{Context, bail};
use rusqlite::TransactionBehavior;
use serde_json::{Value, json};

use crate::app;
use crate::config::Config;
use crate::db::admin::api_keys::{self, ApiKeyId, ApiKeyRecord};
use crate::db::admin::history::Actor;
use crate::domain::access::NewApiKey;
use crate::domain::{PageRequest, Timestamp};

/// What the history records for a change made here.
fn cli_actor() -> Actor {
    Actor { user_id: 0, username: "cli".to_owned() }
}

/// The fields of `keys create`.
#[derive(Debug, Clone, clap::Args)]
pub struct CreateKey {
    /// Who the key is for (`storefront`).
    #[arg(long)]
    pub name: String,
    /// What it may do, comma-separated (`search,orders.create`; `*` for everything).
    #[arg(long, value_delimiter = ',', required = true)]
    pub actions: Vec<String>,
    /// Only these stores, comma-separated (store-scopable actions only).
    #[arg(long, value_delimiter = ',')]
    pub stores: Vec<i64>,
    /// Refused after this many days.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub expires_in_days: Option<u32>,
    /// Free text.
    #[arg(long, default_value = "")]
    pub description: String,
}

/// Creates a key and prints its secret (the only time it is shown) and its id.
pub fn create(config: &Config, request: &CreateKey) -> anyhow::Result<()> {
    let now = Timestamp::now();
    let expires_at = request
        .expires_in_days
        .map(|days| Timestamp::from_micros(now.micros + i64::from(days) * 86_400_000_000).to_rfc3339());
    let body = json!({
        "name": request.name,
        "description": request.description,
        "actions": request.actions,
        "store_ids": if request.stores.is_empty() { Value::Null } else { json!(request.stores) },
        "expires_at": expires_at,
    });
    let key = NewApiKey::parse(&body, now).map_err(|error| anyhow::anyhow!(describe(&error)))?;
    let mut store = app::open_store(config)?;
    let tx = store.write_conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (record, secret) = api_keys::create(&tx, &cli_actor(), &key).context("cannot create the key")?;
    tx.commit()?;
    println!("{}", secret.as_str());
    eprintln!("created API key {} ({}): the secret above is shown only now", record.id.0, record.name);
    Ok(())
}

/// Prints every key, newest first.
pub fn list(config: &Config) -> anyhow::Result<()> {
    let store = app::open_store(config)?;
    let mut keys: Vec<ApiKeyRecord> = Vec::new();
    let mut page = 1;
    loop {
        let request = PageRequest::parse(Some(&page.to_string()), Some("100"))
            .map_err(|_| anyhow::anyhow!("page {page} is not a page"))?;
        let (count, rows) = api_keys::list_keys(&store.write_conn, &request)?;
        keys.extend(rows);
        if i64::try_from(keys.len()).unwrap_or(i64::MAX) >= count {
            break;
        }
        page += 1;
    }
    let mut out = std::io::stdout().lock();
    write_table(&mut out, &keys).context("cannot write to stdout")
}

fn write_table(out: &mut impl std::io::Write, keys: &[ApiKeyRecord]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:>6}  {:<20}  {:<12}  {:<32}  {:<12}  {:<27}  last_used_at",
        "id", "name", "prefix", "actions", "stores", "expires_at"
    )?;
    for key in keys {
        let stores = key.stores.to_json();
        let stores = if stores.is_null() { "all".to_owned() } else { stores.to_string() };
        let optional = |at: Option<Timestamp>| at.map_or_else(|| "-".to_owned(), Timestamp::to_rfc3339);
        writeln!(
            out,
            "{:>6}  {:<20}  {:<12}  {:<32}  {:<12}  {:<27}  {}",
            key.id.0,
            key.name,
            key.prefix,
            key.actions.names().join(","),
            stores,
            optional(key.expires_at),
            optional(key.last_used_at)
        )?;
    }
    Ok(())
}

/// Revokes key `id`.
pub fn revoke(config: &Config, id: i64) -> anyhow::Result<()> {
    let mut store = app::open_store(config)?;
    let tx = store.write_conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    match api_keys::revoke(&tx, &cli_actor(), ApiKeyId(id)) {
        Ok(()) => {}
        Err(crate::error::Error::NotFound(message)) => bail!("{message}"),
        Err(other) => return Err(other).context("cannot revoke the key"),
    }
    tx.commit()?;
    eprintln!("revoked API key {id}: a running server refuses it within a second");
    Ok(())
}

/// A validation error in one line: every field and its problem.
fn describe(error: &crate::error::Error) -> String {
    match error {
        crate::error::Error::Validation(fields) => {
            fields.iter().map(|field| format!("{}: {}", field.field, field.message)).collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    }
}
