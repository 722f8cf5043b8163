//! The command line: `aforro [--data-dir D] [--index-dir I] <serve|migrate|seed|reindex|jobs>`.

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::app::{self, Application, ServeOptions};
use crate::config::Config;
use crate::db::exclusive::lock_data_dir;
use crate::db::jobs::JobState;
use crate::jobs::inspect;
use crate::search::SearchIndex;
use crate::seed::{self, SeedOptions};

#[derive(Debug, Parser)]
#[command(name = "aforro", version, about = "Single-binary store backend: orders, inventory and fast product search.")]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, start the writer and serve HTTP until SIGINT/SIGTERM.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "AFORRO_ADDR", default_value = "127.0.0.1:8000")]
        addr: SocketAddr,
        /// Seed the demo catalog first when the database is empty.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending migrations and print what was applied.
    Migrate,
    /// Add a deterministic demo catalog: categories, products, stores and inventory.
    Seed {
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..))]
        categories: u32,
        #[arg(long, default_value_t = 1200)]
        products: u32,
        #[arg(long, default_value_t = 24)]
        stores: u32,
        #[arg(long, default_value_t = 400)]
        inventory_per_store: u32,
        /// Same seed, same catalog.
        #[arg(long, default_value_t = 42)]
        random_seed: u64,
    },
    /// Rebuild the search index from the database (refused while `serve` runs). The
    /// autocomplete map needs no rebuild: `serve` builds it from the database at every start.
    Reindex,
    /// List the confirmation job queue, newest first (works beside `serve`), or re-queue a
    /// failed job with `jobs retry <id>` (refused while `serve` runs).
    Jobs {
        /// Only jobs in this state.
        #[arg(long, value_parser = ["queued", "running", "done", "failed"])]
        state: Option<String>,
        /// Most jobs listed.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(subcommand)]
        action: Option<JobsAction>,
    },
}

#[derive(Debug, Subcommand)]
pub enum JobsAction {
    /// Put a failed (dead-lettered) job back in the queue with a fresh set of attempts.
    Retry { id: i64 },
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { addr, demo } => serve(&cli.config, addr, demo),
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
        Command::Jobs { action: Some(JobsAction::Retry { id }), .. } => inspect::retry(&cli.config, id),
        Command::Jobs { state, limit, action: None } => {
            inspect::list(&cli.config, state.as_deref().and_then(JobState::parse), limit)
        }
    }
}

fn serve(config: &Config, addr: SocketAddr, demo: bool) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let application = Application::build(config, addr, ServeOptions { demo }).await?;
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
