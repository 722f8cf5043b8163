//! Standard Webhooks signing (<https://www.standardwebhooks.com/>): the `whsec_` secrets (one,
//! or two during a rotation) and the `webhook-signature` value, `v1,<base64 HMAC-SHA256>` over
//! `<webhook-id>.<webhook-timestamp>.<body>`, so receivers can use the specification's
//! verifier libraries.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What every secret starts with; the rest is the key, base64-encoded.
pub const SECRET_PREFIX: &str = "whsec_";
/// The specification's bounds on a key, in bytes: shorter is guessable, longer buys nothing
/// over SHA-256's block.
pub const KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;
/// Secrets signing at once: the new and the old during a rotation.
pub const MAX_SECRETS: usize = 2;

/// How to make a secret, said by every refusal.
const HOW_TO_MAKE_ONE: &str = "make one with `echo \"whsec_$(openssl rand -base64 32)\"`";

/// Why a webhook secret was refused. Never holds the secret itself: the message is printed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Nothing between the commas.
    #[error("a webhook secret is empty; {HOW_TO_MAKE_ONE}")]
    Empty,
    /// No `whsec_` in front.
    #[error("a webhook secret must start with `whsec_` (the Standard Webhooks form); {HOW_TO_MAKE_ONE}")]
    NoPrefix,
    /// What follows `whsec_` is not standard, padded base64.
    #[error("a webhook secret's part after `whsec_` is not base64; {HOW_TO_MAKE_ONE}")]
    NotBase64,
    /// A key outside [`KEY_BYTES`].
    #[error("a webhook secret's key is {0} bytes, not 24 to 64; {HOW_TO_MAKE_ONE}")]
    KeyLength(usize),
    /// More than [`MAX_SECRETS`].
    #[error("at most two webhook secrets (the new and the old one during a rotation), separated by a comma")]
    TooMany,
}

/// The keys every attempt is signed with: one, or two during a rotation (each attempt then
/// carries both signatures, so a receiver holding either secret accepts it).
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeys {
    keys: Vec<Vec<u8>>,
}

impl SigningKeys {
    /// The keys of `secrets`: `whsec_<base64>`, or two such separated by a comma (spaces
    /// around each are ignored).
    pub fn parse(secrets: &str) -> Result<Self, SecretError> {
        let keys = secrets.split(',').map(|secret| parse_key(secret.trim())).collect::<Result<Vec<_>, _>>()?;
        if keys.len() > MAX_SECRETS {
            return Err(SecretError::TooMany);
        }
        Ok(Self { keys })
    }

    /// The `webhook-signature` value of one attempt: `v1,<signature>` per key, space-separated.
    pub fn signature(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let signatures: Vec<String> = self.keys.iter().map(|key| sign(key, id, timestamp, body)).collect();
        signatures.join(" ")
    }
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKeys({} key(s), <redacted>)", self.keys.len())
    }
}

fn parse_key(secret: &str) -> Result<Vec<u8>, SecretError> {
    if secret.is_empty() {
        return Err(SecretError::Empty);
    }
    let encoded = secret.strip_prefix(SECRET_PREFIX).ok_or(SecretError::NoPrefix)?;
    let key = STANDARD.decode(encoded).map_err(|_| SecretError::NotBase64)?;
    if !KEY_BYTES.contains(&key.len()) {
        return Err(SecretError::KeyLength(key.len()));
    }
    Ok(key)
}

/// `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the specification's reference libraries ("sign function works" in
    /// standard-webhooks/standard-webhooks, `libraries/javascript/src/webhook.test.ts`).
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TIMESTAMP: i64 = 1_614_265_330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn the_signature_matches_the_specification_s_example() {
        let keys = SigningKeys::parse(SPEC_SECRET).expect("the example's secret");
        assert_eq!(keys.signature(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY), SPEC_SIGNATURE);
    }

    #[test]
    fn a_rotation_signs_with_both_secrets_space_separated_new_first() {
        let other = format!("{SECRET_PREFIX}{}", STANDARD.encode([7u8; 32]));
        let keys = SigningKeys::parse(&format!("{other} , {SPEC_SECRET}")).expect("two secrets");
        let signed = keys.signature(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY);
        let (first, second) = signed.split_once(' ').expect("two signatures");
        assert_eq!(second, SPEC_SIGNATURE);
        assert_eq!(first, sign(&[7u8; 32], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY));
        assert_ne!(first, second);
    }

    #[test]
    fn secrets_not_in_the_standard_form_are_refused_saying_how_to_make_one() {
        let of_bytes = |n: usize| format!("{SECRET_PREFIX}{}", STANDARD.encode(vec![1u8; n]));
        let cases = [
            ("", SecretError::Empty),
            ("hunter2", SecretError::NoPrefix),
            ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", SecretError::NoPrefix),
            ("whsec_not base64!", SecretError::NotBase64),
            (&*of_bytes(23), SecretError::KeyLength(23)),
            (&*of_bytes(65), SecretError::KeyLength(65)),
            (&*format!("{SPEC_SECRET},"), SecretError::Empty),
            (&*format!("{SPEC_SECRET},{SPEC_SECRET},{SPEC_SECRET}"), SecretError::TooMany),
        ];
        for (secret, expected) in cases {
            let refused = SigningKeys::parse(secret).expect_err(secret);
            assert_eq!(refused, expected, "{secret:?}");
            let message = refused.to_string();
            if expected != SecretError::TooMany {
                assert!(message.contains("openssl rand -base64 32"), "{message}");
            }
            assert!(secret.is_empty() || !message.contains(secret), "the message repeats the secret: {message}");
        }
        assert!(SigningKeys::parse(&of_bytes(24)).is_ok() && SigningKeys::parse(&of_bytes(64)).is_ok());
    }

    #[test]
    fn keys_never_show_in_debug_output() {
        let keys = SigningKeys::parse(SPEC_SECRET).expect("secret");
        assert!(!format!("{keys:?}").contains("MfKQ9r8G"));
    }
}
