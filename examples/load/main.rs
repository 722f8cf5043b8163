//! Aforro's load harness. Drives a running `aforro serve` on loopback with bounded,
//! concurrent workloads (`orders`, `reservations`, `search`, `suggest`, `mixed`, `login-flood`), prints
//! throughput, latency percentiles and outcome counts (and with `--server-pid`, the server's
//! peak resident memory), and after any workload with orders checks the stock invariant
//! against the database. `baseline` runs the in-process comparisons of
//! `docs/performance.md` (tantivy vs SQLite FTS5 vs `LIKE`, fst vs `LIKE 'q%'`).
//!
//! ```text
//! cargo run --release --example load -- run --workload orders --clients 64 --duration-secs 30 --data-dir ./data
//! cargo run --release --example load -- run --workload login-flood --clients 8 --login-clients 200 \
//!     --duration-secs 20 --server-pid "$(pgrep -n aforro)" --max-rss-mb 600 --data-dir ./data
//! cargo run --release --example load -- prepare --data-dir ./data          # server stopped
//! cargo run --release --example load -- baseline --data-dir D --index-dir I  # server stopped
//! ```
//!
//! # Layout
//! - `catalog`: what the workloads draw from (stores, stocked products, title words), read from the database.
//! - `workload`: one request of each workload, drawn at random.
//! - `drive`: the clients, the clock and the histograms.
//! - `invariant`: the stock check after an order workload.
//! - `rss`: the server's resident memory, sampled during a run.
//! - `prepare`: stocks every inventory row for a long order run (server stopped).
//! - `baseline`: in-process search and suggest comparisons.

mod baseline;
mod catalog;
mod drive;
mod invariant;
mod prepare;
mod rss;
mod workload;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::workload::Workload;

#[derive(Parser)]
#[command(about = "Bounded loopback load and baselines for aforro")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Drive a running server and report.
    Run(RunArgs),
    /// Set every inventory row's quantity (the server must be stopped), so a long order run
    /// measures confirmed orders rather than sold-out rejections.
    Prepare {
        #[arg(long, default_value = "./data")]
        data_dir: PathBuf,
        #[arg(long, default_value_t = 1_000_000_000)]
        quantity: i64,
    },
    /// In-process comparisons on the same data (the server must be stopped).
    Baseline {
        #[arg(long, default_value = "./data")]
        data_dir: PathBuf,
        #[arg(long, default_value = "./index")]
        index_dir: PathBuf,
        /// Queries per approach (LIKE runs a tenth of them: each is a full scan).
        #[arg(long, default_value_t = 400)]
        queries: usize,
    },
}

#[derive(clap::Args)]
pub(crate) struct RunArgs {
    /// The server; loopback addresses only.
    #[arg(long, default_value = "127.0.0.1:8000")]
    addr: SocketAddr,
    #[arg(long, value_enum, default_value_t = Workload::Mixed)]
    workload: Workload,
    /// Concurrent clients, each with one request in flight (closed loop).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=1024))]
    clients: u16,
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    duration_secs: u64,
    /// `login-flood`: clients sending failing admin logins beside the `--clients` searching.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u16).range(1..=1024))]
    login_clients: u16,
    /// The server's process id: its resident memory is sampled during the run and the peak
    /// printed (Linux `/proc`).
    #[arg(long)]
    server_pid: Option<u32>,
    /// With `--server-pid`: the run fails when the server's peak resident memory exceeds
    /// this many MiB.
    #[arg(long)]
    max_rss_mb: Option<f64>,
    /// Stop earlier once this many requests were sent.
    #[arg(long, default_value_t = 10_000_000)]
    max_requests: u64,
    /// The server's data folder: the workloads draw from its catalog, and the stock check
    /// reads it (read-only; WAL lets it read beside the running server).
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,
    #[arg(long, default_value_t = 7)]
    random_seed: u64,
    /// Write every answered request as `microseconds<TAB>status<TAB>path`, slowest first, to
    /// this file: which requests make the tail.
    #[arg(long)]
    request_log: Option<PathBuf>,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("load: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Returns whether every check passed.
fn run(cli: Cli) -> anyhow::Result<bool> {
    match cli.command {
        Command::Run(args) => run_load(&args),
        Command::Prepare { data_dir, quantity } => prepare::stock_everything(&data_dir, quantity).map(|()| true),
        Command::Baseline { data_dir, index_dir, queries } => {
            baseline::run(&data_dir, &index_dir, queries).map(|()| true)
        }
    }
}

fn write_request_log(
    path: &std::path::Path,
    requests: &mut [(u64, u16, std::borrow::Cow<'static, str>)],
) -> anyhow::Result<()> {
    use std::io::Write as _;
    requests.sort_unstable_by_key(|request| std::cmp::Reverse(request.0));
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for (micros, status, path_and_query) in requests.iter() {
        writeln!(out, "{micros}\t{status}\t{path_and_query}")?;
    }
    out.flush()?;
    Ok(())
}

fn run_load(args: &RunArgs) -> anyhow::Result<bool> {
    if !args.addr.ip().is_loopback() {
        bail!("{} is not a loopback address; this harness only loads the local machine", args.addr);
    }
    let database = args.data_dir.join("aforro.db");
    let catalog = catalog::Catalog::load(&database).context("cannot read the catalog")?;
    let before = args.workload.places_orders().then(|| invariant::Snapshot::take(&database)).transpose()?;
    let runtime = tokio::runtime::Runtime::new()?;
    let plan = drive::Plan {
        addr: args.addr,
        clients: usize::from(args.clients),
        login_clients: usize::from(args.login_clients),
        duration: Duration::from_secs(args.duration_secs),
        max_requests: args.max_requests,
        random_seed: args.random_seed,
        keep_requests: args.request_log.is_some(),
    };
    let sampler = match args.server_pid {
        Some(pid) => Some(rss::Sampler::start(pid).with_context(|| format!("cannot read /proc/{pid}/status"))?),
        None => None,
    };
    let mut outcome = runtime.block_on(drive::drive(&plan, args.workload, catalog))?;
    outcome.print();
    let within_memory = match sampler.map(rss::Sampler::stop) {
        Some(peak_mib) => {
            println!("server peak RSS {peak_mib:.0} MiB (sampled every 100 ms)");
            args.max_rss_mb.is_none_or(|limit| {
                let within = peak_mib <= limit;
                if !within {
                    println!("FAILED: the server's peak RSS {peak_mib:.0} MiB is over --max-rss-mb {limit}");
                }
                within
            })
        }
        None => true,
    };
    if let Some(path) = &args.request_log {
        write_request_log(path, &mut outcome.requests)?;
    }
    let checked = match before {
        Some(before) => invariant::check(&database, &before, &outcome)?,
        None => outcome.transport_errors == 0,
    };
    Ok(checked && within_memory)
}
