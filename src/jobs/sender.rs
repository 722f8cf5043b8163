//! Senders: how an event (an order's confirmation or cancellation, a stock crossing zero) goes
//! out: the trait, and the `log` sender (`webhook.rs` has the other). Chosen by
//! `--confirmation-sender` (`jobs::sender_from_config`); the worker records every delivery in
//! `notifications`, so a sender only has to deliver.

use std::future::Future;
use std::pin::Pin;

use crate::db::records::Event;

/// A failed delivery. Always retryable: the worker reschedules it with backoff until the
/// job's attempts run out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SendError(pub String);

/// What a sender returns: one delivery attempt, boxed so the trait stays object-safe.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>>;

/// Delivers one event. Delivery is at-least-once (a job whose lease expired runs again), so a
/// receiver must tolerate a repeat; the event carries the id to dedupe on.
pub trait ConfirmationSender: Send + Sync {
    /// What `notifications.channel` records for this sender (`log` or `webhook`).
    fn channel(&self) -> &'static str;

    /// Sends `event`, whose JSON is `body` (`{"event", "id", "created_at", "data"}`).
    fn send<'a>(&'a self, event: &'a Event, body: &'a str) -> SendFuture<'a>;
}

/// The zero-service default: each event goes to the structured log, its data as JSON.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogSender;

impl ConfirmationSender for LogSender {
    fn channel(&self) -> &'static str {
        "log"
    }

    fn send<'a>(&'a self, event: &'a Event, body: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            tracing::info!(target: "aforro::confirmation", event = event.event, event_id = %event.id, "{body}");
            Ok(())
        })
    }
}
