//! Logging: the process's tracing subscriber (filter from `RUST_LOG`, format from
//! `--log-format`) and the span every HTTP request runs in.

use std::io::IsTerminal;

use axum::http::Request;
use clap::ValueEnum;
use tracing::Span;
use tracing_subscriber::EnvFilter;

/// The header carrying a request's id, set by the server when the client sent none.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `pretty` when stderr is a terminal, `json` otherwise (a container, a service manager).
    Auto,
    /// One human-readable line per event, coloured on a terminal.
    Pretty,
    /// One JSON object per event, with the span fields (request id, route) included.
    Json,
}

/// The filter when `RUST_LOG` is unset: our own events at INFO, every dependency at WARN
/// (tokio-cron-scheduler alone logs an INFO line per scheduled run).
pub const DEFAULT_FILTER: &str = "warn,aforro=info";

/// Installs the global subscriber. `RUST_LOG` filters (default [`DEFAULT_FILTER`]). Call
/// once, first.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let terminal = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).init(),
        LogFormat::Auto if !terminal => builder.json().with_current_span(true).with_span_list(false).init(),
        LogFormat::Pretty | LogFormat::Auto => builder.with_ansi(terminal).init(),
    }
}

/// The span of one HTTP request: its id (from `x-request-id`, which the request-id layer has
/// set by now), method and URI. Every log line of the request carries them.
pub fn request_span<B>(request: &Request<B>) -> Span {
    let request_id = request.headers().get(REQUEST_ID_HEADER).and_then(|value| value.to_str().ok()).unwrap_or("-");
    tracing::info_span!("request", request_id, method = %request.method(), uri = %request.uri())
}

/// Runs one step of the start and logs it with its duration (`start step`, fields `step` and
/// `elapsed_ms`), so the log says what a start is waiting for and `scripts/start-timeline.sh`
/// can print the timeline.
pub fn start_step<T>(step: &'static str, run: impl FnOnce() -> T) -> T {
    let started = std::time::Instant::now();
    let done = run();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(step, elapsed_ms = format!("{elapsed_ms:.1}"), "start step");
    done
}
