//! Admin passwords: Argon2id hashes as PHC strings, and the rules a new password must meet.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::error::{Error, Result};

/// Shorter passwords are refused when an account is created or changed.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longer ones too: hashing cost grows with the input, and no one types more.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Hashes `password` with Argon2id (the crate's defaults: 19 MiB, 2 passes, the OWASP
/// minimum) and a random 128-bit salt. Costs tens of milliseconds: call it off the async
/// workers.
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(Error::PasswordHash)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(Error::PasswordHash)
}

/// Whether `password` matches the stored PHC string. A malformed stored hash never matches
/// (and is logged: it means the row was written by something else).
pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(hash) => Argon2::default().verify_password(password.as_bytes(), &hash).is_ok(),
        Err(error) => {
            tracing::error!(%error, "an admin password hash is malformed");
            false
        }
    }
}

/// Checks a new password's length (in characters, not bytes).
pub fn check_new_password(password: &str) -> std::result::Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!("the password must have at least {MIN_PASSWORD_CHARS} characters"));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!("the password must have at most {MAX_PASSWORD_CHARS} characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_and_nothing_else() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct horsf", &hash));
        assert!(!verify_password("correct horse", "not a phc string"));
    }

    #[test]
    fn two_hashes_of_one_password_differ_by_salt() {
        assert_ne!(hash_password("same password").expect("hash"), hash_password("same password").expect("hash"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_new_password("1234567").is_err());
        assert!(check_new_password("12345678").is_ok());
    }
}
