//! An admin session token: opaque, 256 bits, handed out once at login. A domain type because
//! both the store (which keeps only its hash) and the edges (header, cookie) handle it.

use sha2::{Digest, Sha256};

/// A session token as the client holds it: 64 hex digits. Never stored, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(..)")
    }
}

impl SessionToken {
    /// A fresh token from the thread-local CSPRNG (ChaCha, seeded from the OS).
    pub fn generate() -> Self {
        Self(hex::encode(rand::random::<[u8; 32]>()))
    }

    /// A token as presented by a client; `None` when it cannot be one of ours, so no lookup
    /// is wasted on it.
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Self(text.to_ascii_lowercase()))
    }

    /// The token as the cookie carries it (64 lowercase hex digits).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the database stores instead of the token.
    pub fn sha256(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }

    /// The web page's per-session form token: derived from the session token, so it needs no
    /// storage and no one without the cookie can compute it.
    pub fn csrf_token(&self) -> String {
        hex::encode(Sha256::digest(format!("aforro-csrf:{}", self.0).as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_hex_and_differ() {
        let (a, b) = (SessionToken::generate(), SessionToken::generate());
        assert_eq!(a.as_str().len(), 64);
        assert_ne!(a, b);
        assert_eq!(SessionToken::parse(a.as_str()), Some(a.clone()));
        assert_ne!(a.csrf_token(), b.csrf_token());
    }

    #[test]
    fn malformed_tokens_do_not_parse() {
        for bad in ["", "abc", &"g".repeat(64), &"a".repeat(65)] {
            assert_eq!(SessionToken::parse(bad), None, "{bad:?}");
        }
    }
}
