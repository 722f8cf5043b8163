//! The key ring: every API key by its secret's hash, swapped whole on change. A key whose
//! record did not change keeps its rate-limit bucket and its unflushed last use across a swap.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::db::admin::api_keys::{ApiKeyId, ApiKeyRecord, HashedKey};
use crate::domain::Timestamp;
use crate::domain::access::RateLimit;

/// Every key at one generation of the `api_keys` table.
#[derive(Default)]
pub(super) struct KeyRing {
    generation: i64,
    by_hash: HashMap<[u8; 32], Arc<LiveKey>>,
}

impl KeyRing {
    pub(super) fn generation(&self) -> i64 {
        self.generation
    }

    pub(super) fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    pub(super) fn find(&self, hash: &[u8; 32]) -> Option<&Arc<LiveKey>> {
        self.by_hash.get(hash)
    }

    /// The ring of `keys` at `generation`, carrying over the live state of unchanged keys.
    pub(super) fn rebuilt(&self, generation: i64, keys: &[HashedKey]) -> Self {
        let by_hash = keys
            .iter()
            .map(|(hash, record)| {
                let live = match self.by_hash.get(hash) {
                    Some(current) if current.record.same_reach(record) => Arc::clone(current),
                    _ => Arc::new(LiveKey::new(record.clone())),
                };
                (*hash, live)
            })
            .collect();
        Self { generation, by_hash }
    }

    pub(super) fn take_uses(&self) -> Vec<(ApiKeyId, Timestamp)> {
        self.by_hash.values().filter_map(|key| key.take_use()).collect()
    }
}

/// A key as the gate uses it.
#[derive(Debug)]
pub struct LiveKey {
    /// The key as stored.
    pub record: ApiKeyRecord,
    limiter: Option<DefaultDirectRateLimiter>,
    /// Microseconds of the last use (0: none since start).
    last_used: AtomicI64,
    /// Microseconds of the last use written to the database.
    flushed: AtomicI64,
}

impl ApiKeyRecord {
    /// Whether the gate would treat `other` exactly like this (last use aside).
    fn same_reach(&self, other: &ApiKeyRecord) -> bool {
        self.id == other.id
            && self.actions == other.actions
            && self.stores == other.stores
            && self.expires_at == other.expires_at
            && self.rate_limit == other.rate_limit
            && self.name == other.name
            && self.description == other.description
    }
}

impl LiveKey {
    fn new(record: ApiKeyRecord) -> Self {
        let limiter = record.rate_limit.map(bucket);
        let stored = record.last_used_at.map_or(0, |at| at.micros);
        Self { record, limiter, last_used: AtomicI64::new(stored), flushed: AtomicI64::new(stored) }
    }

    /// Whether the key may be used at `now` (not expired).
    pub(super) fn is_live_at(&self, now: Timestamp) -> bool {
        self.record.expires_at.is_none_or(|expires_at| now < expires_at)
    }

    pub(super) fn used_at(&self, now: Timestamp) {
        self.last_used.fetch_max(now.micros, Ordering::Relaxed);
    }

    /// Takes a token; `Err` is how long until one is there.
    pub(super) fn admit(&self) -> Result<(), Duration> {
        match &self.limiter {
            None => Ok(()),
            Some(limiter) => {
                limiter.check().map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
            }
        }
    }

    fn take_use(&self) -> Option<(ApiKeyId, Timestamp)> {
        let used = self.last_used.load(Ordering::Relaxed);
        let flushed = self.flushed.swap(used, Ordering::Relaxed);
        (used > flushed).then(|| (self.record.id, Timestamp::from_micros(used)))
    }
}

fn bucket(rate: RateLimit) -> DefaultDirectRateLimiter {
    let per_second = NonZeroU32::new(rate.per_second).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(rate.burst).unwrap_or(NonZeroU32::MIN);
    RateLimiter::direct(Quota::per_second(per_second).allow_burst(burst))
}
