//! The `aforro` binary: parse the command line, set up logging, run, and turn any failure
//! into one line on stderr and a non-zero exit.

use std::process::ExitCode;

use clap::Parser;

/// Only in a `--features mimalloc` build, made to compare allocators on the soak.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Only in a `--features jemalloc` build, made to compare allocators on the soak.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = aforro::cli::Cli::parse();
    aforro::telemetry::init(cli.config.log_format);
    match aforro::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the whole context chain on one line.
            eprintln!("aforro: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
