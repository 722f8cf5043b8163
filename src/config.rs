//! Runtime configuration shared by every subcommand: where the data lives and how durable
//! a commit is. Parsed by clap from flags and `AFORRO_*` environment variables.

use std::path::{Path, PathBuf};

use clap::builder::TypedValueParser as _;
use clap::{Args, ValueEnum};

use crate::db::writer::DEFAULT_MAX_BATCH;
use crate::jobs::JobsConfig;

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

    /// The order-confirmation queue: workers, sender, retention.
    #[command(flatten)]
    pub jobs: JobsConfig,
}

impl Config {
    /// A configuration rooted in one folder, as tests and benches use it.
    pub fn in_dir(root: &Path) -> Self {
        Self {
            data_dir: root.join("data"),
            index_dir: root.join("index"),
            synchronous: Synchronous::Full,
            writer_batch: DEFAULT_MAX_BATCH,
            jobs: JobsConfig::default(),
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
