//! Runtime configuration shared by every subcommand: where the data lives and how durable
//! a commit is. Parsed by clap from flags and `AFORRO_*` environment variables.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::builder::TypedValueParser as _;
use clap::{Args, ValueEnum};

use crate::db::writer::DEFAULT_MAX_BATCH;

/// How long a request may take unless `--request-timeout-secs` says otherwise.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Options every subcommand takes.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Folder holding `aforro.db` (created if missing).
    #[arg(long, global = true, env = "AFORRO_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Folder holding the search index and autocomplete map (created if missing).
    #[arg(long, global = true, env = "AFORRO_INDEX_DIR", default_value = "./index")]
    pub index_dir: PathBuf,

    /// SQLite `synchronous` level for the writer. `full` (default) makes an acknowledged
    /// order survive power loss; `normal` only survives a process crash.
    #[arg(long, global = true, env = "AFORRO_SYNCHRONOUS", value_enum, default_value_t = Synchronous::Full)]
    pub synchronous: Synchronous,

    /// Most writes (orders, catalog changes) committed together in one transaction and one
    /// fsync. `1` commits every write on its own.
    #[arg(long, global = true, env = "AFORRO_WRITER_BATCH", default_value_t = DEFAULT_MAX_BATCH,
          value_parser = clap::value_parser!(u32).range(1..=65_536).map(|n| n as usize))]
    pub writer_batch: usize,

    /// Seconds a request may take, body upload included, before it is answered 503: a slow
    /// or stalled client (slowloris) cannot hold a connection and its task for longer.
    #[arg(long = "request-timeout-secs", global = true, env = "AFORRO_REQUEST_TIMEOUT_SECS",
          default_value = "30", value_parser = clap::value_parser!(u64).range(1..=3600).map(Duration::from_secs))]
    pub request_timeout: Duration,
}

impl Config {
    /// A configuration rooted in one folder, as tests and benches use it.
    pub fn in_dir(root: &Path) -> Self {
        Self {
            data_dir: root.join("data"),
            index_dir: root.join("index"),
            synchronous: Synchronous::Full,
            writer_batch: DEFAULT_MAX_BATCH,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("aforro.db")
    }
}

/// SQLite's `PRAGMA synchronous` levels that make sense with WAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Synchronous {
    Full,
    Normal,
    Off,
}

impl Synchronous {
    pub fn pragma_value(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::Normal => "NORMAL",
            Self::Off => "OFF",
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Options {
        #[command(flatten)]
        config: Config,
    }

    #[test]
    fn the_request_timeout_is_given_in_whole_seconds_from_one_to_an_hour() {
        let parse = |args: &[&str]| Options::try_parse_from([&["aforro"], args].concat()).map(|o| o.config);
        assert_eq!(parse(&[]).expect("defaults").request_timeout, DEFAULT_REQUEST_TIMEOUT);
        let five = parse(&["--request-timeout-secs", "5"]).expect("5 s");
        assert_eq!(five.request_timeout, Duration::from_secs(5));
        for bad in ["0", "3601", "-1", "1.5", "soon"] {
            assert!(parse(&["--request-timeout-secs", bad]).is_err(), "{bad}");
        }
    }
}
