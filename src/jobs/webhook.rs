//! The `webhook` sender: POSTs each event's JSON with its name in `X-Aforro-Event`, signed as
//! the Standard Webhooks specification says (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature`, see [`super::signing`]), within a timeout. Anything but a 2xx (or no
//! answer in time) is a retryable failure; either way the first KiB of the answer is kept.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;

use super::sender::{Answer, ConfirmationSender, SendError, SendFuture};
use super::signing::SigningKeys;
use crate::db::delivery_attempts::ANSWER_EXCERPT_BYTES;
use crate::db::events::Event;

/// The header naming the event (`order.confirmed`, …), so a receiver can route before parsing.
pub const EVENT_HEADER: &str = "X-Aforro-Event";
/// The event's id: what a receiver dedupes on, and the first part of what is signed.
pub const ID_HEADER: &str = "webhook-id";
/// Unix seconds of this attempt: signed, so a receiver can refuse an old delivery replayed.
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// `v1,<base64 signature>`, one per secret, space-separated.
pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// Delivers events as signed JSON POSTs to one URL.
pub struct WebhookSender {
    client: reqwest::Client,
    url: reqwest::Url,
    keys: SigningKeys,
}

impl WebhookSender {
    /// A sender to `url`, signing with `keys`, giving up on a request after `timeout`.
    pub fn new(url: &str, keys: SigningKeys, timeout: Duration) -> anyhow::Result<Self> {
        let url = reqwest::Url::parse(url).with_context(|| format!("--webhook-url {url:?} is not a URL"))?;
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .context("cannot build the webhook HTTP client")?;
        Ok(Self { client, url, keys })
    }
}

impl ConfirmationSender for WebhookSender {
    fn channel(&self) -> &'static str {
        "webhook"
    }

    fn send<'a>(&'a self, event: &'a Event, body: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            let timestamp = unix_seconds_now();
            let body = body.as_bytes().to_vec();
            let response = self
                .client
                .post(self.url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(EVENT_HEADER, event.event)
                .header(ID_HEADER, &event.id)
                .header(TIMESTAMP_HEADER, timestamp.to_string())
                .header(SIGNATURE_HEADER, self.keys.signature(&event.id, timestamp, &body))
                .body(body)
                .send()
                .await
                // Without the URL: it may carry credentials.
                .map_err(|error| SendError::new(format!("webhook request failed: {}", error.without_url())))?;
            let status = response.status();
            let answer = Answer::new(status.as_u16(), &answer_start(response).await);
            if status.is_success() {
                Ok(answer)
            } else {
                Err(SendError { reason: format!("webhook answered {status}"), answer })
            }
        })
    }
}

/// The first [`ANSWER_EXCERPT_BYTES`] of `response`'s body, read no further (a receiver may
/// answer megabytes). A body that breaks off (or runs past the timeout) keeps what came: the
/// status already decided the attempt.
async fn answer_start(mut response: reqwest::Response) -> Vec<u8> {
    let mut start = Vec::new();
    while start.len() < ANSWER_EXCERPT_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => start.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    start.truncate(ANSWER_EXCERPT_BYTES);
    start
}

/// Seconds since the Unix epoch (0 for a clock set before it, which no receiver would accept
/// either way).
fn unix_seconds_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| i64::try_from(since.as_secs()).unwrap_or(i64::MAX))
}
