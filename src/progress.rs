//! The progress bar long CLI runs show (seeding, indexing): drawn on a terminal, hidden
//! elsewhere so logs stay clean. A leaf: `seed` and `search` both use it.

use std::io::IsTerminal as _;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// A bar on a terminal; off a terminal a hidden bar, with plain log lines from the caller's ticks.
pub fn progress_bar(total: u64, what: &'static str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden()).with_message(what);
    }
    let bar = ProgressBar::new(total).with_message(what);
    if let Ok(style) = ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({rate}, {eta})") {
        // indicatif's own `{per_sec}` prints four decimals (`611,875.2573/s`): noise for a row count.
        let style = style.with_key("rate", |state: &ProgressState, out: &mut dyn std::fmt::Write| {
            let _ = out.write_str(&whole_rate(state.per_sec()));
        });
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// A rate in whole rows per second, e.g. `611876/s`.
fn whole_rate(per_sec: f64) -> String {
    format!("{per_sec:.0}/s")
}

#[cfg(test)]
mod tests {
    use super::whole_rate;

    #[test]
    fn progress_rates_are_whole_rows_per_second() {
        assert_eq!(whole_rate(611_875.257_3), "611875/s");
        assert_eq!(whole_rate(0.4), "0/s");
    }
}
