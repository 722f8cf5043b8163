//! Runtime configuration: what every subcommand shares (where the data lives, how durable a
//! commit is) and what only `serve` needs (its HTTP limits). Parsed by clap from flags and
//! `AFORRO_*` environment variables; the README's configuration table lists every one (a test
//! keeps it in step with this file).

use std::path::PathBuf;
use std::time::Duration;

use axum::http::HeaderValue;
use clap::Args;
use clap::builder::TypedValueParser as _;

use crate::analytics::AnalyticsSettings;
pub use crate::db::Synchronous;
use crate::db::writer::DEFAULT_MAX_BATCH;
use crate::jobs::JobsConfig;
use crate::telemetry::LogFormat;

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

    /// Log line format on stderr: `pretty` on a terminal and `json` otherwise (`auto`), or
    /// either always. `RUST_LOG` sets the filter (default `warn,aforro=info`).
    #[arg(long, global = true, env = "AFORRO_LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,

    /// Seconds between rebuilds of the autocomplete map for popularity alone (units ordered,
    /// stock), while orders move stock. A catalog change rebuilds at once whatever this says.
    /// Each rebuild reads every product (about 6 s of one core at 1M products).
    #[arg(long = "suggest-refresh-secs", global = true, env = "AFORRO_SUGGEST_REFRESH_SECS", default_value = "600",
          value_parser = clap::value_parser!(u64).range(1..=86_400).map(Duration::from_secs))]
    pub suggest_refresh: Duration,

    /// MiB of recent word searches' matches kept, so a search repeating their words under
    /// other filters, another sort or another page skips reading the posting lists (8 bytes
    /// per match: a word in a tenth of 1M products keeps 0.8 MiB). 0 keeps none.
    #[arg(long = "match-cache-mib", global = true, env = "AFORRO_MATCH_CACHE_MIB",
          default_value_t = DEFAULT_MATCH_CACHE_MIB, value_parser = clap::value_parser!(u64).range(0..=65_536))]
    pub match_cache_mib: u64,
    /// The order-confirmation queue: workers, sender, retention.
    #[command(flatten)]
    pub jobs: JobsConfig,
    /// The search analytics: how often counts are flushed, how many queries a day keeps.
    #[command(flatten)]
    pub analytics: AnalyticsSettings,
}

impl Config {
    #[cfg(feature = "test-support")]
    /// A configuration rooted in one folder, as tests and benches use it.
    pub fn in_dir(root: &std::path::Path) -> Self {
        Self {
            data_dir: root.join("data"),
            index_dir: root.join("index"),
            synchronous: Synchronous::Full,
            writer_batch: DEFAULT_MAX_BATCH,
            log_format: LogFormat::Auto,
            suggest_refresh: DEFAULT_SUGGEST_REFRESH,
            match_cache_mib: DEFAULT_MATCH_CACHE_MIB,
            jobs: JobsConfig::default(),
            analytics: AnalyticsSettings::default(),
        }
    }

    /// `--match-cache-mib` in bytes.
    pub fn match_cache_bytes(&self) -> u64 {
        self.match_cache_mib.saturating_mul(1024 * 1024)
    }

    /// The database file inside the data folder.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("aforro.db")
    }
}

/// Default of `--max-concurrent-requests`: far above what 2 cores serve at once (the load
/// tests use 64 clients), so it only bites when requests pile up faster than they finish.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 1024;

/// Default of `--match-cache-mib`: at 1M products, enough for the matches of the few hundred
/// most searched words (the HTTP search mix's +22 % at 8 clients, docs/performance.md).
pub const DEFAULT_MATCH_CACHE_MIB: u64 = 256;

/// How often autocomplete popularity is refreshed unless `--suggest-refresh-secs` says otherwise.
pub const DEFAULT_SUGGEST_REFRESH: Duration = Duration::from_secs(10 * 60);

/// How long a request may take unless `--request-timeout-secs` says otherwise.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Options of `serve`'s HTTP layers.
#[derive(Debug, Clone, Args)]
pub struct HttpOptions {
    /// Seconds a request may take, body upload included, before it is answered 503; a client
    /// that has not sent a whole request head by then has its connection closed. A slow or
    /// stalled client (slowloris) cannot hold a connection and its task for longer.
    #[arg(long = "request-timeout-secs", env = "AFORRO_REQUEST_TIMEOUT_SECS", default_value = "30",
          value_parser = clap::value_parser!(u64).range(1..=3600).map(Duration::from_secs))]
    pub request_timeout: Duration,

    /// API requests handled at once; one more is refused at once with 503 and `Retry-After`
    /// instead of queueing. `/healthz`, `/readyz`, `/metrics` and `/openapi.json` are not counted.
    #[arg(long, env = "AFORRO_MAX_CONCURRENT_REQUESTS", default_value_t = DEFAULT_MAX_CONCURRENT_REQUESTS,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000).map(|n| n as usize))]
    pub max_concurrent_requests: usize,

    /// Browser origins allowed to call the API (CORS), e.g. `https://shop.example`; repeat the
    /// flag or separate with commas; `*` allows any. None by default: no CORS headers.
    #[arg(long = "cors-origin", env = "AFORRO_CORS_ORIGINS", value_delimiter = ',', value_parser = parse_origin)]
    pub cors_origins: Vec<HeaderValue>,

    /// Where clients reach the service, e.g. `https://shop.example` (scheme, host and port; no
    /// path): the base of absolute pagination links, and with `https` the admin session
    /// cookie becomes `__Host-…; Secure`. Unset: links name the address the client connected
    /// to, never the request's `Host` header.
    #[arg(long = "public-url", env = "AFORRO_PUBLIC_URL", value_parser = PublicUrl::parse)]
    pub public_url: Option<PublicUrl>,
}

/// `--public-url`: the origin clients use, fixed by the operator rather than taken from a
/// request's `Host` header, which any client sets to anything (a cache in front would then
/// hand everyone links to the attacker's host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    /// `scheme://host[:port]`, no trailing slash.
    origin: String,
    https: bool,
}

impl PublicUrl {
    /// Parses `http(s)://host[:port]` with at most a trailing `/`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let uri: axum::http::Uri = text.trim().parse().map_err(|error| format!("not a URL: {error}"))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err("must start with http:// or https://".to_owned()),
        };
        let authority = uri.authority().ok_or("must name a host")?;
        if authority.as_str().contains('@') {
            return Err("must not hold a user name or password".to_owned());
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err("must be scheme, host and port only (no path, no query)".to_owned());
        }
        let scheme = if https { "https" } else { "http" };
        Ok(Self { origin: format!("{scheme}://{}", authority.as_str().to_ascii_lowercase()), https })
    }

    /// `scheme://host[:port]`, with no trailing slash.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Whether clients come over TLS (terminated in front of the service).
    pub fn is_https(&self) -> bool {
        self.https
    }
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
            cors_origins: Vec::new(),
            public_url: None,
        }
    }
}

/// An origin must be a valid header value; anything else is refused at start-up, not per request.
fn parse_origin(text: &str) -> Result<HeaderValue, String> {
    HeaderValue::from_str(text.trim()).map_err(|error| format!("not a valid origin: {error}"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Options {
        #[command(flatten)]
        http: HttpOptions,
    }

    #[test]
    fn a_public_url_is_an_origin_and_says_whether_it_is_https() {
        let url = PublicUrl::parse("https://Shop.Example/").expect("an origin");
        assert_eq!((url.origin(), url.is_https()), ("https://shop.example", true));
        let plain = PublicUrl::parse("http://10.0.0.5:8000").expect("an origin with a port");
        assert_eq!((plain.origin(), plain.is_https()), ("http://10.0.0.5:8000", false));
        for bad in [
            "shop.example",
            "ftp://shop.example",
            "https://shop.example/api",
            "https://a@shop.example",
            "https://x/?q=1",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_request_timeout_is_given_in_whole_seconds_from_one_to_an_hour() {
        let parse = |args: &[&str]| Options::try_parse_from([&["aforro"], args].concat()).map(|o| o.http);
        assert_eq!(parse(&[]).expect("defaults").request_timeout, DEFAULT_REQUEST_TIMEOUT);
        let five = parse(&["--request-timeout-secs", "5"]).expect("5 s");
        assert_eq!(five.request_timeout, Duration::from_secs(5));
        for bad in ["0", "3601", "-1", "1.5", "soon"] {
            assert!(parse(&["--request-timeout-secs", bad]).is_err(), "{bad}");
        }
    }
}
