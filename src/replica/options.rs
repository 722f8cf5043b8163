//! The replication flags of `serve`, the primary's URL a replica redirects writes to, and how far
//! a replica may trail before it is not ready.

use std::time::Duration;

use axum::http::Uri;
use clap::Args;

/// A replica whose views trail the newest commit it has received by more than this is not
/// ready (`readyz` answers 503): a load balancer then sends its reads elsewhere rather than
/// let it serve stale data silently. Ten times the follow loop's worst case under the orders
/// load measured in docs/scaling.md.
pub const MAX_LAG: Duration = Duration::from_secs(5);

/// How a `serve` takes part in replication.
#[derive(Debug, Clone, Default, Args)]
pub struct ReplicationOptions {
    /// Serve as a read replica of the database in `--data-dir`, which `litestream restore -f`
    /// keeps current: read-only, no job workers, no maintenance but the memory trim; writes
    /// answered 307 to `--primary-url`.
    #[arg(long, env = "AFORRO_READ_REPLICA", requires = "primary_url")]
    pub read_replica: bool,

    /// The primary's base URL (`http://host:port`), where a read replica redirects writes.
    #[arg(long, env = "AFORRO_PRIMARY_URL", requires = "read_replica", value_parser = parse_primary_url)]
    pub primary_url: Option<PrimaryUrl>,

    /// Litestream replicates this (primary) database: the periodic WAL checkpoint becomes
    /// PASSIVE so it never waits on, or restarts the WAL under, Litestream's reader.
    #[arg(long, env = "AFORRO_LITESTREAM", conflicts_with = "read_replica")]
    pub litestream: bool,
}

impl ReplicationOptions {
    /// The primary to redirect writes to, when this server is a read replica.
    pub fn replica_of(&self) -> Option<&PrimaryUrl> {
        self.primary_url.as_ref().filter(|_| self.read_replica)
    }
}

/// The primary's base URL: scheme and authority, an optional path prefix, no query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimaryUrl(pub(super) String);

impl PrimaryUrl {
    /// Where a request for `path_and_query` on this replica goes on the primary.
    pub fn location_of(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.0)
    }
}

fn parse_primary_url(text: &str) -> Result<PrimaryUrl, String> {
    let uri: Uri = text.trim().parse().map_err(|error| format!("not a URL: {error}"))?;
    match (uri.scheme_str(), uri.authority()) {
        (Some("http" | "https"), Some(_)) if uri.query().is_none() => {
            Ok(PrimaryUrl(text.trim().trim_end_matches('/').to_owned()))
        }
        _ => Err("must be an http:// or https:// URL with a host and no query".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Options {
        #[command(flatten)]
        replication: ReplicationOptions,
    }

    fn parse(args: &[&str]) -> Result<ReplicationOptions, clap::Error> {
        Options::try_parse_from([&["aforro"], args].concat()).map(|options| options.replication)
    }

    #[test]
    fn a_replica_needs_its_primary_and_redirects_to_the_same_path_there() {
        let options = parse(&["--read-replica", "--primary-url", "http://10.0.0.5:8000/"]).expect("valid");
        let primary = options.replica_of().expect("a replica");
        assert_eq!(primary.location_of("/orders/?x=1"), "http://10.0.0.5:8000/orders/?x=1");
        assert!(parse(&["--read-replica"]).is_err(), "no primary");
        assert!(parse(&["--primary-url", "http://a:1"]).is_err(), "a primary without --read-replica");
        assert!(parse(&["--read-replica", "--litestream", "--primary-url", "http://a:1"]).is_err());
        for bad in ["ftp://a:1", "a:1", "/orders/", "http://a:1/?q=1", "not a url"] {
            assert!(parse(&["--read-replica", "--primary-url", bad]).is_err(), "{bad}");
        }
        assert_eq!(parse(&[]).expect("a primary").replica_of(), None);
    }
}
