//! Senders: the "send" of `send_order_confirmation`. Chosen by `--confirmation-sender`; the
//! worker records every delivery in `notifications`, so a sender only has to deliver.

use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::Context;

use super::settings::{JobsConfig, SenderKind};
use super::webhook::WebhookSender;
use crate::db::notifications::ConfirmationMessage;

/// A failed delivery. Always retryable: the worker reschedules it with backoff until the
/// job's attempts run out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SendError(pub String);

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>>;

/// Delivers one order confirmation. Delivery is at-least-once (a job whose lease expired runs
/// again), so a sender must tolerate a repeat; the message carries the order id to dedupe on.
pub trait ConfirmationSender: Send + Sync {
    /// What `notifications.channel` records for this sender (`log` or `webhook`).
    fn channel(&self) -> &'static str;

    fn send<'a>(&'a self, message: &'a ConfirmationMessage) -> SendFuture<'a>;
}

/// The sender `config` asks for.
pub fn from_config(config: &JobsConfig) -> anyhow::Result<Arc<dyn ConfirmationSender>> {
    Ok(match config.confirmation_sender {
        SenderKind::Log => Arc::new(LogSender),
        SenderKind::Webhook => {
            let url = config.webhook_url.as_deref().context("--confirmation-sender webhook needs --webhook-url")?;
            let secret =
                config.webhook_secret.clone().context("--confirmation-sender webhook needs --webhook-secret")?;
            let timeout = std::time::Duration::from_secs(config.webhook_timeout_secs);
            Arc::new(WebhookSender::new(url, secret, timeout)?)
        }
    })
}

/// The zero-service default: the rendered confirmation goes to the structured log.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogSender;

impl ConfirmationSender for LogSender {
    fn channel(&self) -> &'static str {
        "log"
    }

    fn send<'a>(&'a self, message: &'a ConfirmationMessage) -> SendFuture<'a> {
        Box::pin(async move {
            tracing::info!(
                target: "aforro::confirmation",
                order_id = %message.order_id,
                store_id = %message.store_id,
                total_quantity = message.total_quantity,
                total_price = %message.total_price,
                "{}",
                render(message)
            );
            Ok(())
        })
    }
}

/// The confirmation as a person would read it.
pub fn render(message: &ConfirmationMessage) -> String {
    let mut text =
        format!("Order {} confirmed at {} (store {}):", message.order_id, message.store_name, message.store_id);
    for line in &message.lines {
        // Writing to a String cannot fail.
        let _ = write!(text, " {} x {} @ {} = {};", line.quantity, line.title, line.unit_price, line.line_price);
    }
    let _ = write!(text, " total {} items, {}", message.total_quantity, message.total_price);
    text
}
