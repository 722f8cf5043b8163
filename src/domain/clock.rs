//! The clock reservations expire by: the system's, or in tests one that moves only when told,
//! so an expiry test needs no sleep.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use tokio::sync::watch;

use super::Timestamp;

/// A cheap clonable clock. Every reader of a reservation's status and the writer's
/// availability checks ask the same one, so "from `expires_at` on" means one instant to all.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// `None`: the system clock.
    manual: Option<Arc<ManualTime>>,
}

#[derive(Debug)]
struct ManualTime {
    micros: AtomicI64,
    /// Told of every move, so a timer waiting for an instant wakes when a test jumps past it.
    moved: watch::Sender<i64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock standing at `start` until [`Clock::advance`] moves it.
    pub fn manual(start: Timestamp) -> Self {
        let (moved, _) = watch::channel(start.micros);
        Self { manual: Some(Arc::new(ManualTime { micros: AtomicI64::new(start.micros), moved })) }
    }

    /// The current instant.
    pub fn now(&self) -> Timestamp {
        match &self.manual {
            None => Timestamp::now(),
            Some(time) => Timestamp::from_micros(time.micros.load(Ordering::Acquire)),
        }
    }

    /// Moves a manual clock forward by `seconds` (a system clock ignores it).
    pub fn advance(&self, seconds: i64) {
        if let Some(time) = &self.manual {
            let now = time.micros.fetch_add(seconds.saturating_mul(1_000_000), Ordering::AcqRel);
            time.moved.send_replace(now.saturating_add(seconds.saturating_mul(1_000_000)));
        }
    }

    /// For a manual clock, a receiver told of every move; `None` for the system clock.
    pub fn moves(&self) -> Option<watch::Receiver<i64>> {
        self.manual.as_ref().map(|time| time.moved.subscribe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = Clock::manual(Timestamp::from_micros(1_000_000));
        assert_eq!(clock.now(), Timestamp::from_micros(1_000_000));
        clock.advance(61);
        assert_eq!(clock.now(), Timestamp::from_micros(62_000_000));
        assert!(clock.moves().is_some());
        assert!(Clock::system().moves().is_none());
    }
}
