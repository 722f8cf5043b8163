//! The command line: `aforro [--data-dir D] [--index-dir I] <serve|migrate|seed|reindex|jobs|
//! createsuperuser|backup|restore|keys|stock|healthcheck>`.

pub mod backup;
pub mod jobs;
pub mod keys;
pub mod stock;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::access::AccessOptions;
use crate::app::{self, Application, ServeOptions};
use crate::config::{Config, HttpOptions};
use crate::db::admin::accounts::{SuperuserOutcome, create_superuser as create_superuser_in};
use crate::db::exclusive::lock_data_dir;
use crate::db::outbox::jobs::JobState;
use crate::domain::Clock;
use crate::replica::ReplicationOptions;
use crate::search::SearchIndex;
use crate::seed::{self, SeedOptions};

/// The whole command line: the shared settings, then one subcommand.
#[derive(Debug, Parser)]
#[command(name = "aforro", version, about = "Single-binary store backend: orders, inventory and fast product search.")]
pub struct Cli {
    /// The settings every subcommand shares (data folder, logging, writer, jobs).
    #[command(flatten)]
    pub config: Config,

    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, start the writer and serve HTTP until SIGINT/SIGTERM.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "AFORRO_ADDR", default_value = "127.0.0.1:8000")]
        addr: SocketAddr,
        /// Seed the demo catalog first when the database is empty.
        #[arg(long, env = "AFORRO_DEMO")]
        demo: bool,
        /// Request limits and timeouts.
        #[command(flatten)]
        http: HttpOptions,
        /// Litestream beside the primary, or following one as a read replica.
        #[command(flatten)]
        replication: ReplicationOptions,
        /// Keyed or open mode.
        #[command(flatten)]
        access: AccessOptions,
    },
    /// Apply pending migrations and print what was applied.
    Migrate,
    /// Add a deterministic demo catalog: categories, products, stores and inventory.
    Seed {
        /// Categories to add.
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..))]
        categories: u32,
        /// Products to add, spread over the categories.
        #[arg(long, default_value_t = 1200)]
        products: u32,
        /// Stores to add.
        #[arg(long, default_value_t = 24)]
        stores: u32,
        /// Products each store stocks.
        #[arg(long, default_value_t = 400)]
        inventory_per_store: u32,
        /// Same seed, same catalog.
        #[arg(long, default_value_t = 42)]
        random_seed: u64,
    },
    /// Rebuild the search index from the database (refused while `serve` runs). The
    /// autocomplete map needs no rebuild: `serve` maps the one it saved, or builds it from the
    /// database when the catalog has changed since.
    Reindex,
    /// Create an admin account for `/api/admin/` and `/admin/` (password asked twice, not
    /// echoed). Safe while `serve` runs.
    Createsuperuser {
        /// The account's name.
        #[arg(long)]
        username: String,
        /// Read the password from the first line of standard input instead (scripts).
        #[arg(long)]
        password_stdin: bool,
        /// Change the password of an existing account (and end its sessions) instead of failing.
        #[arg(long)]
        update: bool,
    },
    /// Copy the database to FILE with SQLite's online backup API. Safe while `serve` runs.
    Backup {
        /// Where the copy goes (replaced if it exists).
        file: PathBuf,
    },
    /// Replace the database with the backup FILE (refused while `serve` runs); the next
    /// `serve` rebuilds the search index.
    Restore {
        /// The backup to restore.
        file: PathBuf,
    },
    /// List the event job queue, newest first, or show one job and its delivery attempts with
    /// `jobs show <id>` (both work beside `serve`), or re-queue a failed job with
    /// `jobs retry <id>` (refused while `serve` runs).
    Jobs {
        /// Only jobs in this state.
        #[arg(long, value_parser = ["queued", "running", "done", "failed"])]
        state: Option<String>,
        /// Most jobs listed.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// What to do instead of listing.
        #[command(subcommand)]
        action: Option<JobsAction>,
    },
    /// Create, list or revoke API keys (works beside a running `serve`).
    Keys {
        /// What to do.
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Bulk stock from a CSV file: `stock import FILE.csv` (through a running server, or
    /// straight into the database when none runs).
    Stock {
        /// What to do.
        #[command(subcommand)]
        action: StockAction,
    },
    /// Ask a running server's `GET /readyz` whether it is ready: exit 0 on `200`, else a
    /// one-line reason and exit 1. The container HEALTHCHECK (the slim image has no curl).
    Healthcheck {
        /// The server's listen address; an unspecified one (`0.0.0.0`, `::`) is probed on loopback.
        #[arg(long, env = "AFORRO_ADDR", default_value = "127.0.0.1:8000")]
        addr: SocketAddr,
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=300))]
        timeout_secs: u64,
    },
}

/// `aforro keys`: API keys (works beside a running `serve`).
#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Create a key and print its secret (shown only now).
    Create(keys::CreateKey),
    /// List every key, newest first (never a secret).
    List,
    /// Revoke a key: a running server refuses it within a second.
    Revoke {
        /// The key's id, as `aforro keys list` shows it.
        id: i64,
    },
}

/// What `aforro jobs` can do besides listing.
#[derive(Debug, Subcommand)]
pub enum JobsAction {
    /// Print one job and every recorded delivery attempt (time, duration, HTTP status or
    /// error, the start of the answer). Works beside `serve`.
    Show {
        /// The job's id, as `aforro jobs` lists it.
        id: i64,
    },
    /// Put a failed (dead-lettered) job back in the queue with a fresh set of attempts.
    Retry {
        /// The failed job's id, as `aforro jobs` lists it.
        id: i64,
    },
}

/// `aforro stock …`.
#[derive(Debug, Subcommand)]
pub enum StockAction {
    /// Apply a CSV file's rows (header `store_id,product_id,quantity|delta`), 10,000 per call,
    /// with a progress bar.
    Import(stock::Import),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { addr, demo, http, replication, access } => {
            serve(&cli.config, addr, ServeOptions { demo, http, replication, access, clock: Clock::system() })
        }
        Command::Migrate => {
            let _lock = lock_data_dir(&cli.config.data_dir)?;
            migrate(&cli.config)
        }
        Command::Seed { categories, products, stores, inventory_per_store, random_seed } => {
            let options = SeedOptions { categories, products, stores, inventory_per_store, random_seed };
            let _lock = lock_data_dir(&cli.config.data_dir)?;
            run_seed(&cli.config, &options)
        }
        Command::Reindex => {
            let _lock = lock_data_dir(&cli.config.data_dir)?;
            reindex(&cli.config)
        }
        Command::Createsuperuser { username, password_stdin, update } => {
            create_superuser(&cli.config, &username, password_stdin, update)
        }
        Command::Backup { file } => {
            let report = backup::backup(&cli.config, &file)?;
            println!("backed up {} bytes to {} in {:.1}s", report.bytes, file.display(), report.elapsed.as_secs_f64());
            Ok(())
        }
        Command::Restore { file } => {
            let report = backup::restore(&cli.config, &file)?;
            println!("restored {} bytes from {} in {:.1}s", report.bytes, file.display(), report.elapsed.as_secs_f64());
            Ok(())
        }
        Command::Jobs { action: Some(JobsAction::Retry { id }), .. } => jobs::retry(&cli.config, id),
        Command::Keys { action: KeysAction::Create(request) } => keys::create(&cli.config, &request),
        Command::Keys { action: KeysAction::List } => keys::list(&cli.config),
        Command::Keys { action: KeysAction::Revoke { id } } => keys::revoke(&cli.config, id),
        Command::Jobs { action: Some(JobsAction::Show { id }), .. } => jobs::show(&cli.config, id),
        Command::Jobs { state, limit, action: None } => {
            jobs::list(&cli.config, state.as_deref().and_then(JobState::parse), limit)
        }
        Command::Stock { action: StockAction::Import(request) } => stock::import(&cli.config, &request),
        Command::Healthcheck { addr, timeout_secs } => healthcheck(addr, Duration::from_secs(timeout_secs)),
    }
}

/// `GET /readyz` on `addr`; `Ok` only for a `200`.
fn healthcheck(addr: SocketAddr, timeout: Duration) -> anyhow::Result<()> {
    // A server listening on every interface is reached on loopback from inside its container.
    let addr = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, addr.port())),
        ip if ip.is_unspecified() => SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, addr.port())),
        _ => addr,
    };
    let url = format!("http://{addr}/readyz");
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start a runtime")?;
    let (status, body) = runtime
        .block_on(async {
            let response = reqwest::Client::builder().timeout(timeout).build()?.get(&url).send().await?;
            let status = response.status();
            Ok::<_, reqwest::Error>((status, response.text().await.unwrap_or_default()))
        })
        .with_context(|| format!("no answer from {url}"))?;
    if !status.is_success() {
        anyhow::bail!("{url} answered {status}: {body}");
    }
    println!("ready: {url}");
    Ok(())
}

fn serve(config: &Config, addr: SocketAddr, options: ServeOptions) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let application = Application::build(config, addr, options).await?;
        tracing::info!(addr = %application.local_addr()?, "serving");
        application.run_until_stopped(app::shutdown_signal()).await
    })
}

fn migrate(config: &Config) -> anyhow::Result<()> {
    let store = app::open_store(config)?;
    if store.applied_migrations.is_empty() {
        println!("no pending migrations");
    }
    for name in store.applied_migrations {
        println!("applied {name}");
    }
    Ok(())
}

fn reindex(config: &Config) -> anyhow::Result<()> {
    let store = app::open_store(config)?;
    let report = SearchIndex::rebuild(&config.index_dir, &store.write_conn)?;
    println!("indexed {} products in {:.1}s", report.products, report.elapsed.as_secs_f64());
    Ok(())
}

fn run_seed(config: &Config, options: &SeedOptions) -> anyhow::Result<()> {
    let mut store = app::open_store(config)?;
    let started = std::time::Instant::now();
    let report = seed::seed(&mut store.write_conn, options).context("seeding failed")?;
    println!(
        "seeded {} new categories, {} products, {} stores, {} inventory rows in {:.1}s",
        report.categories,
        report.products,
        report.stores,
        report.inventory_rows,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// No data-folder lock: it writes only `admin_users`, which no in-memory view of a running
/// `serve` holds, and SQLite's own locking (busy timeout) orders it with the server's writer.
fn create_superuser(config: &Config, username: &str, password_stdin: bool, update: bool) -> anyhow::Result<()> {
    // A name is one line of text (contract, Conventions), checked before the password is asked for.
    crate::domain::text::checked("username", username, crate::domain::text::TextKind::Line)
        .map_err(|error| anyhow::anyhow!("{}: {}", error.field, error.message))?;
    let password = if password_stdin { read_password_line()? } else { prompt_password_twice()? };
    let store = app::open_store(config)?;
    let outcome = create_superuser_in(&store.write_conn, username, &password, update).map_err(|error| match error {
        crate::error::Error::Validation(fields) => {
            let reasons: Vec<String> = fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect();
            anyhow::anyhow!("{}", reasons.join("; "))
        }
        other => anyhow::Error::new(other),
    })?;
    match outcome {
        SuperuserOutcome::Created => println!("created admin user {username:?}"),
        SuperuserOutcome::PasswordChanged => println!("changed the password of admin user {username:?}"),
    }
    Ok(())
}

fn read_password_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn prompt_password_twice() -> anyhow::Result<String> {
    let password = rpassword::prompt_password("Password: ").context("cannot read the password")?;
    let again = rpassword::prompt_password("Password (again): ").context("cannot read the password")?;
    if password != again {
        anyhow::bail!("the passwords do not match");
    }
    Ok(password)
}
