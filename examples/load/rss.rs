//! The server's resident memory during a run, sampled from `/proc/<pid>/status` (`VmRSS`)
//! every 100 ms: its peak is what a flood costs (`login-flood`), which the process's own
//! lifetime high-water mark (`VmHWM`) cannot tell apart from a start-up peak.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

const EVERY: Duration = Duration::from_millis(100);

/// A running sampler; [`Sampler::stop`] ends it and returns the peak.
pub(crate) struct Sampler {
    stop: Arc<AtomicBool>,
    peak_kib: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<()>,
}

/// `VmRSS` of `pid` in KiB, if the process exists.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

impl Sampler {
    /// Starts sampling `pid`; `None` when it cannot be read (no such process, not Linux).
    pub(crate) fn start(pid: u32) -> Option<Self> {
        let first = rss_kib(pid)?;
        let stop = Arc::new(AtomicBool::new(false));
        let peak_kib = Arc::new(AtomicU64::new(first));
        let (stopped, peak) = (Arc::clone(&stop), Arc::clone(&peak_kib));
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                if let Some(kib) = rss_kib(pid) {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(EVERY);
            }
        });
        Some(Self { stop, peak_kib, thread })
    }

    /// Stops sampling; the peak resident memory seen, in MiB.
    pub(crate) fn stop(self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        self.peak_kib.load(Ordering::Relaxed) as f64 / 1024.0
    }
}
