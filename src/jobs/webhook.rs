//! The `webhook` sender: POSTs each event's JSON with its name in `X-Aforro-Event`, signed
//! with `X-Aforro-Signature: sha256=<hex HMAC-SHA256 of the body>`, within a timeout. Anything
//! but a 2xx (or no answer in time) is a retryable failure.

use std::time::Duration;

use anyhow::Context;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::sender::{ConfirmationSender, SendError, SendFuture};
use super::settings::Secret;
use crate::db::records::Event;

/// The header carrying the body's signature.
pub const SIGNATURE_HEADER: &str = "X-Aforro-Signature";
/// The header naming the event (`order.confirmed`, …), so a receiver can route before parsing.
pub const EVENT_HEADER: &str = "X-Aforro-Event";

/// Delivers events as signed JSON POSTs to one URL.
pub struct WebhookSender {
    client: reqwest::Client,
    url: reqwest::Url,
    secret: Secret,
}

impl WebhookSender {
    /// A sender to `url`, signing with `secret`, giving up on a request after `timeout`.
    pub fn new(url: &str, secret: Secret, timeout: Duration) -> anyhow::Result<Self> {
        let url = reqwest::Url::parse(url).with_context(|| format!("--webhook-url {url:?} is not a URL"))?;
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .context("cannot build the webhook HTTP client")?;
        Ok(Self { client, url, secret })
    }
}

impl ConfirmationSender for WebhookSender {
    fn channel(&self) -> &'static str {
        "webhook"
    }

    fn send<'a>(&'a self, event: &'a Event, body: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            let body = body.as_bytes().to_vec();
            let response = self
                .client
                .post(self.url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(SIGNATURE_HEADER, signature(self.secret.expose().as_bytes(), &body))
                .header(EVENT_HEADER, event.event)
                .body(body)
                .send()
                .await
                // Without the URL: it may carry credentials.
                .map_err(|error| SendError(format!("webhook request failed: {}", error.without_url())))?;
            let status = response.status();
            if status.is_success() { Ok(()) } else { Err(SendError(format!("webhook answered {status}"))) }
        })
    }
}

/// `sha256=<lowercase hex HMAC-SHA256 of body under key>`.
pub fn signature(key: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_rfc_4231_test_vector() {
        // RFC 4231 test case 2.
        let signed = signature(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(signed, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
