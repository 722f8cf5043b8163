//! Who is calling: the master key, every API key held in memory (with its rate limit and last
//! use), the per-address limit for requests without a key, and [`Caller`], what the HTTP gate
//! found a request's credential to be. Which route needs what is `http::access`'s table.
//!
//! Keys are read from SQLite once and then served from memory: a request costs a SHA-256 of
//! its secret and a hash-map lookup, never a database read or write. A change through this
//! server reloads the ring before its answer; one made beside it (`aforro keys`) moves
//! `api_key_generation`, which [`AccessControl::poll`] checks twice a second.

mod ring;
mod settings;

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use self::ring::KeyRing;
pub use self::ring::LiveKey;
pub use self::settings::AccessOptions;
use crate::db::ReadPool;
use crate::db::admin::api_keys::{self, ApiKeyId};
use crate::db::admin::history::Actor;
use crate::db::admin::sessions::AdminSession;
use crate::db::writer::WriterHandle;
use crate::domain::access::{Action, ApiKeySecret, MasterKey, StoreScope};
use crate::domain::{StoreId, Timestamp};
use crate::error::{Error, Result};

/// How often a server checks whether another process changed the keys (contract: a CLI
/// change is seen within 1 s).
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// How often last uses are written (contract: `last_used_at` may lag by up to 60 s).
pub const LAST_USE_FLUSH_INTERVAL: Duration = Duration::from_secs(60);

/// The gate's state; a cheap handle (cloning is shallow).
#[derive(Clone)]
pub struct AccessControl {
    inner: Arc<Inner>,
}

struct Inner {
    /// Set: keyed mode. Unset: open mode (public routes need no credential).
    master: Option<MasterKey>,
    /// Every key, swapped whole on change.
    ring: ArcSwap<KeyRing>,
    /// `--anonymous-rate-limit`: a bucket per peer address for requests without a valid key.
    anonymous: Option<DefaultKeyedRateLimiter<IpAddr>>,
}

impl AccessControl {
    /// Keyed with `master`, or open without; `anonymous_per_second` per address when set.
    pub fn new(master: Option<MasterKey>, anonymous_per_second: Option<NonZeroU32>) -> Self {
        let anonymous = anonymous_per_second.map(|rate| RateLimiter::keyed(Quota::per_second(rate).allow_burst(rate)));
        Self { inner: Arc::new(Inner { master, ring: ArcSwap::from_pointee(KeyRing::default()), anonymous }) }
    }

    /// Open mode (no master key): an open server ignores API keys on public routes.
    pub fn is_keyed(&self) -> bool {
        self.inner.master.is_some()
    }

    /// Whether `presented` is the master key (always false in open mode).
    pub fn is_master(&self, presented: &str) -> bool {
        self.inner.master.as_ref().is_some_and(|master| master.matches(presented.as_bytes()))
    }

    /// The live key whose secret is `secret`: unknown, revoked and expired keys alike give
    /// `None` (expiry is checked here, so an expired key is refused from its instant on).
    pub fn key(&self, secret: &ApiKeySecret) -> Option<Arc<LiveKey>> {
        let ring = self.inner.ring.load();
        let key = ring.find(&secret.sha256())?;
        let now = Timestamp::now();
        key.is_live_at(now).then(|| {
            key.used_at(now);
            Arc::clone(key)
        })
    }

    /// Whether the ring holds any key (a replica refuses open mode when it does).
    pub fn holds_keys(&self) -> bool {
        !self.inner.ring.load().is_empty()
    }

    /// Takes a token from the address's bucket for a request without a valid key: `Err` is
    /// how long until the next one.
    pub fn admit_anonymous(&self, address: IpAddr) -> std::result::Result<(), Duration> {
        let Some(limiter) = &self.inner.anonymous else { return Ok(()) };
        limiter.check_key(&address).map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Reads every key and installs them, unless a newer generation is installed already
    /// (two reloads racing never put back an older ring).
    pub async fn reload(&self, reads: &ReadPool) -> Result<()> {
        let (generation, keys) = reads.run(api_keys::load_every_key).await?;
        self.install(generation, &keys);
        Ok(())
    }

    fn install(&self, generation: i64, keys: &[api_keys::HashedKey]) {
        self.inner.ring.rcu(|current| {
            if current.generation() > generation {
                Arc::clone(current)
            } else {
                Arc::new(current.rebuilt(generation, keys))
            }
        });
    }

    /// Reloads when another process moved the keys' generation.
    pub async fn poll(&self, reads: &ReadPool) -> Result<()> {
        let generation = reads.run(api_keys::key_generation).await?;
        if generation != self.inner.ring.load().generation() {
            self.reload(reads).await?;
        }
        Ok(())
    }

    /// The keys used since their last flush, marked flushed.
    pub fn take_uses(&self) -> Vec<(ApiKeyId, Timestamp)> {
        self.inner.ring.load().take_uses()
    }

    /// Trims the per-address buckets of addresses that are full again (called periodically,
    /// so the map does not grow with every address ever seen).
    pub fn forget_idle_addresses(&self) {
        if let Some(limiter) = &self.inner.anonymous {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// Who sent a request, as the gate found it (an extension of every gated request).
#[derive(Clone, Debug)]
pub enum Caller {
    /// No credential was needed or looked at (an open-mode public route, an open route).
    Anonymous,
    /// The master key: may do everything.
    Master,
    /// A signed-in admin (Bearer session token): may do everything.
    Admin(AdminSession),
    /// An API key.
    Key(Arc<LiveKey>),
}

impl Caller {
    /// Whether this caller holds `action` (anonymous callers hold whatever open mode gives:
    /// the gate only lets them reach public routes).
    pub fn allows(&self, action: Action) -> bool {
        match self {
            Self::Anonymous | Self::Master | Self::Admin(_) => true,
            Self::Key(key) => key.record.actions.allows(action),
        }
    }

    /// The stores this caller may name.
    pub fn stores(&self) -> &StoreScope {
        match self {
            Self::Key(key) => &key.record.stores,
            Self::Anonymous | Self::Master | Self::Admin(_) => &StoreScope::Every,
        }
    }

    /// `403` when the request names a store outside the caller's stores (contract: whether or
    /// not that store exists, so a scoped key learns nothing of other stores).
    pub fn require_store(&self, store: StoreId) -> Result<()> {
        if self.stores().allows(store) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!("this API key may not name store {store}")))
        }
    }

    /// Whether a resource of `store` (an order, a reservation) exists for this caller; one
    /// that does not is answered `404`, so ids leak nothing.
    pub fn sees_store(&self, store: StoreId) -> bool {
        self.stores().allows(store)
    }

    /// Who the history and the movements record for a change this caller makes.
    pub fn actor(&self) -> Actor {
        match self {
            Self::Admin(session) => Actor { user_id: session.user_id, username: session.username.clone() },
            Self::Master => Actor { user_id: 0, username: "master".to_owned() },
            Self::Key(key) => Actor { user_id: 0, username: format!("key:{}", key.record.id.0) },
            Self::Anonymous => Actor { user_id: 0, username: "anonymous".to_owned() },
        }
    }

    /// Who the stock ledger records for a change this caller makes (contract: `admin:<username>`,
    /// `key:<key id>`, `master`, or `None` in open mode without an admin).
    pub fn stock_actor(&self) -> Option<String> {
        match self {
            Self::Admin(session) => Some(format!("admin:{}", session.username)),
            Self::Master => Some("master".to_owned()),
            Self::Key(key) => Some(format!("key:{}", key.record.id.0)),
            Self::Anonymous => None,
        }
    }

    /// The scope an `Idempotency-Key` is remembered in: each API key has its own (contract:
    /// as Stripe scopes them per account); everyone else shares one.
    pub fn idempotency_scope(&self) -> Option<ApiKeyId> {
        match self {
            Self::Key(key) => Some(key.record.id),
            Self::Anonymous | Self::Master | Self::Admin(_) => None,
        }
    }

    /// The key's token bucket: `Err` is how long until it holds a token again.
    pub fn admit(&self) -> std::result::Result<(), Duration> {
        match self {
            Self::Key(key) => key.admit(),
            Self::Anonymous | Self::Master | Self::Admin(_) => Ok(()),
        }
    }
}

/// Keeps a server's keys current: reloads when another process changed them (every
/// [`POLL_INTERVAL`]) and writes the keys' last uses through `writer` (every
/// [`LAST_USE_FLUSH_INTERVAL`], one write for all; a replica has no writer and writes none).
/// Runs until aborted.
pub fn spawn_upkeep(
    access: AccessControl,
    reads: ReadPool,
    writer: Option<WriterHandle>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut poll = tokio::time::interval(POLL_INTERVAL);
        let mut flush = tokio::time::interval(LAST_USE_FLUSH_INTERVAL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = poll.tick() => {
                    if let Err(error) = access.poll(&reads).await {
                        tracing::warn!(%error, "cannot check the API keys for changes");
                    }
                }
                _ = flush.tick() => {
                    access.forget_idle_addresses();
                    flush_uses(&access, writer.as_ref()).await;
                }
            }
        }
    })
}

/// Writes the keys' last uses (when there is a writer and anything to write).
pub async fn flush_uses(access: &AccessControl, writer: Option<&WriterHandle>) {
    let Some(writer) = writer else { return };
    let uses = access.take_uses();
    if uses.is_empty() {
        return;
    }
    if let Err(error) = writer.record_api_key_uses(uses).await {
        tracing::warn!(%error, "cannot record the API keys' last uses");
    }
}
