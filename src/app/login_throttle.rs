//! Login rate limiting: at most [`LOGIN_BURST`] attempts per (username, client address), then
//! one more every [`LOGIN_WINDOW`] / [`LOGIN_BURST`] — a keyed GCRA limiter from `governor`.
//! Every attempt counts, successful or not, and is counted before its password is checked:
//! governor cannot look at a key without taking from it, nor give back, so counting failures
//! only would need hand-written state. Admins log in a few times a day; the cost is that a
//! sixth successful login within minutes from one address waits too. A correct password
//! while limited is refused like a wrong one (429), so guessing gains nothing by luck.
//! Keys are (account, address): one client's failures never block another account or another
//! address. The account part is the name as the account lookup sees it (trimmed, case
//! folded: `db::accounts::find_admin`), so `Admin`, `ADMIN` and `admin ` share one budget;
//! keyed on the raw name, each variant got five more tries at the same account. The key folds
//! case beyond ASCII while the lookup's `COLLATE NOCASE` folds ASCII only: a key coarser than
//! the lookup only makes names share a budget, never gives one account two.
//!
//! The password-change form has a throttle of its own, of the same kind: its current-password
//! check is a password guess like a login's.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Attempts allowed at once for one (username, address).
pub const LOGIN_BURST: u32 = 5;
/// The time over which a full burst is earned back (one attempt every `LOGIN_WINDOW / LOGIN_BURST`).
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Every this many checks, keys whose burst is fully earned back are dropped, so the map holds
/// only (account, address) pairs seen within the last window.
const PRUNE_EVERY: u64 = 1024;
/// The longest username kept in a key: longer names cannot be accounts and must not grow memory.
const MAX_KEYED_USERNAME: usize = 128;

/// The key of one limiter cell.
type Key = (String, IpAddr);

/// Shared by every clone of the app state.
#[derive(Clone)]
pub struct LoginThrottle {
    limiter: Arc<DefaultKeyedRateLimiter<Key>>,
    checks: Arc<AtomicU64>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(LOGIN_BURST, LOGIN_WINDOW)
    }
}

impl LoginThrottle {
    /// `burst` attempts at once, earned back one by one over `window`.
    pub fn new(burst: u32, window: Duration) -> Self {
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(window / burst.get())
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Self { limiter: Arc::new(RateLimiter::keyed(quota)), checks: Arc::new(AtomicU64::new(0)) }
    }

    /// Counts one login attempt for `username` from `client`: `Err(wait)` when the pair has used
    /// its attempts and must wait `wait` for the next one.
    pub fn attempt(&self, username: &str, client: IpAddr) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.limiter.retain_recent();
        }
        let name = account_key(username);
        self.limiter
            .check_key(&(name, client))
            .map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }

    /// Keys held now (for tests of the bound).
    pub fn len(&self) -> usize {
        self.limiter.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.limiter.is_empty()
    }
}

/// The name as the account lookup matches it: trimmed and case-folded, bounded in length.
fn account_key(username: &str) -> String {
    username.trim().chars().take(MAX_KEYED_USERNAME).flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const ELSEWHERE: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));

    #[test]
    fn the_attempt_after_the_burst_is_refused_with_a_wait_within_the_window() {
        let throttle = LoginThrottle::default();
        for _ in 0..LOGIN_BURST {
            assert_eq!(throttle.attempt("admin", HOME), Ok(()));
        }
        let wait = throttle.attempt("admin", HOME).expect_err("the sixth attempt is refused");
        assert!(wait > Duration::ZERO && wait <= LOGIN_WINDOW / LOGIN_BURST, "{wait:?}");
    }

    #[test]
    fn another_address_or_another_account_keeps_its_own_attempts() {
        let throttle = LoginThrottle::default();
        for _ in 0..=LOGIN_BURST {
            let _ = throttle.attempt("admin", HOME);
        }
        assert!(throttle.attempt("admin", HOME).is_err());
        assert_eq!(throttle.attempt("admin", ELSEWHERE), Ok(()));
        assert_eq!(throttle.attempt("other", HOME), Ok(()));
        assert_eq!(throttle.len(), 3);
    }

    #[test]
    fn case_and_surrounding_whitespace_variants_share_one_budget() {
        let throttle = LoginThrottle::default();
        for variant in ["admin", "Admin", "ADMIN", "admin ", " aDmIn\t"] {
            let _ = throttle.attempt(variant, HOME);
        }
        for variant in ["admin", "Admin", "ADMIN", "admin ", "\u{a0}ADMIN"] {
            assert!(throttle.attempt(variant, HOME).is_err(), "{variant:?} must share the spent budget");
        }
        assert_eq!(throttle.len(), 1);
        assert_eq!(throttle.attempt("admin2", HOME), Ok(()), "another name keeps its own");
    }

    #[test]
    fn keys_whose_burst_is_earned_back_are_pruned() {
        // A window of a nanosecond: every earlier key is fully earned back by the time of the
        // prune (formatting a name alone takes longer).
        let throttle = LoginThrottle::new(1, Duration::from_nanos(1));
        for n in 0..PRUNE_EVERY - 1 {
            let _ = throttle.attempt(&format!("user{n}"), HOME);
        }
        let _ = throttle.attempt("last", HOME);
        assert!(throttle.len() <= 1, "{} keys held", throttle.len());
    }

    #[test]
    fn long_usernames_share_one_bounded_key() {
        let throttle = LoginThrottle::default();
        let long = "x".repeat(10_000);
        for _ in 0..LOGIN_BURST {
            let _ = throttle.attempt(&long, HOME);
        }
        let longer = format!("{long}y");
        assert!(throttle.attempt(&longer, HOME).is_err());
        assert_eq!(throttle.len(), 1);
    }
}
