//! `serve`'s access settings: keyed or open mode, and the per-address limit.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;

use anyhow::Context;

use crate::domain::access::MasterKey;

/// How `serve` guards its routes (contract, Access).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AccessOptions {
    /// The master key: every route but health, OpenAPI, docs and the admin login then needs a
    /// credential (at least 16 bytes). Prefer `--master-key-file`: a flag shows in the
    /// process list.
    #[arg(long, env = "AFORRO_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,

    /// A file holding the master key (its trailing newline trimmed), e.g. a container secret;
    /// `--master-key` wins when both are set.
    #[arg(long, env = "AFORRO_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,

    /// Serve open mode (no master key) on an address other than loopback.
    #[arg(long, env = "AFORRO_ALLOW_OPEN")]
    pub allow_open: bool,

    /// Requests per second (and burst) each peer address may send without a valid key: in
    /// open mode every public request, in keyed mode every request answered 401.
    #[arg(long, env = "AFORRO_ANONYMOUS_RATE_LIMIT", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub anonymous_rate_limit: Option<u32>,
}

impl AccessOptions {
    /// The master key from the flag, the environment or the file; `None` is open mode.
    pub fn master_key(&self) -> anyhow::Result<Option<MasterKey>> {
        let text = match (&self.master_key, &self.master_key_file) {
            (Some(key), _) => key.clone(),
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the master key file {}", path.display()))?;
                text.trim_end_matches(['\n', '\r']).to_owned()
            }
            (None, None) => return Ok(None),
        };
        MasterKey::parse(&text).map(Some).map_err(anyhow::Error::msg)
    }

    /// The per-address limit, if set.
    pub fn anonymous_per_second(&self) -> Option<NonZeroU32> {
        self.anonymous_rate_limit.and_then(NonZeroU32::new)
    }

    /// Refuses open mode beyond loopback unless `--allow-open` says it is meant.
    pub fn check_open_mode(&self, keyed: bool, addr: SocketAddr) -> anyhow::Result<()> {
        if keyed || self.allow_open || addr.ip().is_loopback() {
            return Ok(());
        }
        anyhow::bail!(
            "refusing to serve {addr} in open mode (anyone could cancel any order): set a master key \
             (--master-key-file, AFORRO_MASTER_KEY_FILE or AFORRO_MASTER_KEY), or pass --allow-open \
             (AFORRO_ALLOW_OPEN=true) if this network is trusted"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_mode_is_refused_beyond_loopback_unless_allowed() {
        let options = AccessOptions::default();
        let public: SocketAddr = "0.0.0.0:8000".parse().expect("an address");
        let loopback: SocketAddr = "127.0.0.1:8000".parse().expect("an address");
        let refusal = options.check_open_mode(false, public).expect_err("open on 0.0.0.0 is refused");
        let message = refusal.to_string();
        assert!(message.contains("--master-key") && message.contains("--allow-open"), "{message}");
        assert!(options.check_open_mode(false, loopback).is_ok());
        assert!(options.check_open_mode(true, public).is_ok());
        let allowed = AccessOptions { allow_open: true, ..AccessOptions::default() };
        assert!(allowed.check_open_mode(false, public).is_ok());
    }

    #[test]
    fn the_master_key_file_loses_its_trailing_newline() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("master");
        std::fs::write(&path, "0123456789abcdef\n").expect("written");
        let options = AccessOptions { master_key_file: Some(path), ..AccessOptions::default() };
        let key = options.master_key().expect("readable").expect("a key");
        assert!(key.matches(b"0123456789abcdef"));
        let short = AccessOptions { master_key: Some("short".into()), ..AccessOptions::default() };
        assert!(short.master_key().is_err());
    }
}
