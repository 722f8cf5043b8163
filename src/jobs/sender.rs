//! Senders: how an event (an order's confirmation or cancellation, a stock crossing zero) goes
//! out: the trait, and the `log` sender (`webhook.rs` has the other). Chosen by
//! `--confirmation-sender` (`jobs::sender_from_config`); the worker records every delivery in
//! `notifications` and, for a sender with a receiver, every attempt in `delivery_attempts`,
//! so a sender only has to deliver and say what the receiver answered.

use std::future::Future;
use std::pin::Pin;

use crate::db::outbox::delivery_attempts::ANSWER_EXCERPT_BYTES;
use crate::db::records::Event;

/// What the receiving end answered to one attempt; empty when nothing came back (a refused
/// connection, a timeout) or there is no receiver (`log`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: Option<u16>,
    /// The first [`ANSWER_EXCERPT_BYTES`] of the answer's body, as lossy UTF-8.
    pub excerpt: Option<String>,
}

impl Answer {
    /// The answer `status` with `body` (only its first [`ANSWER_EXCERPT_BYTES`] are kept).
    pub fn new(status: u16, body: &[u8]) -> Self {
        let kept = &body[..body.len().min(ANSWER_EXCERPT_BYTES)];
        Self { status: Some(status), excerpt: Some(String::from_utf8_lossy(kept).into_owned()) }
    }
}

/// A failed delivery, with whatever the receiver answered. Always retryable: the worker
/// reschedules it with backoff until the job's attempts run out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct SendError {
    /// Why, as `aforro jobs` and the jobs page show it.
    pub reason: String,
    /// What came back, if anything.
    pub answer: Answer,
}

impl SendError {
    /// A failure with no answer.
    pub fn new(reason: impl Into<String>) -> Self {
        Self { reason: reason.into(), answer: Answer::default() }
    }
}

/// What a sender returns: one delivery attempt, boxed so the trait stays object-safe.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<Answer, SendError>> + Send + 'a>>;

/// Delivers one event. Delivery is at-least-once (a job whose lease expired runs again), so a
/// receiver must tolerate a repeat; the event carries the id to dedupe on.
pub trait ConfirmationSender: Send + Sync {
    /// What `notifications.channel` records for this sender (`log` or `webhook`).
    fn channel(&self) -> &'static str;

    /// Sends `event`, whose JSON is `body` (`{"event", "id", "created_at", "data"}`).
    fn send<'a>(&'a self, event: &'a Event, body: &'a str) -> SendFuture<'a>;

    /// Whether the worker records each attempt (time, duration, answer) in
    /// `delivery_attempts`: yes for a sender with a receiver that can fail or answer.
    fn records_attempts(&self) -> bool {
        true
    }
}

/// The zero-service default: each event goes to the structured log, its data as JSON.
///
/// Its attempts are not recorded in `delivery_attempts`: one cannot fail once the event is
/// read, the `notifications` row already says when and what went out, and an attempt row per
/// order would add a row to the writer's order path for nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogSender;

impl ConfirmationSender for LogSender {
    fn channel(&self) -> &'static str {
        "log"
    }

    fn send<'a>(&'a self, event: &'a Event, body: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            tracing::info!(target: "aforro::confirmation", event = event.event, event_id = %event.id, "{body}");
            Ok(Answer::default())
        })
    }

    fn records_attempts(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_keeps_only_its_first_kibibyte() {
        let long = vec![b'x'; 3 * ANSWER_EXCERPT_BYTES];
        let answer = Answer::new(500, &long);
        assert_eq!(answer.excerpt.map(|text| text.len()), Some(ANSWER_EXCERPT_BYTES));
        assert_eq!(Answer::new(204, b"").excerpt.as_deref(), Some(""));
    }
}
