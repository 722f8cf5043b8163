//! Admin passwords: Argon2id hashes as PHC strings, and the rules a new password must meet.
//!
//! Argon2's working memory (19 MiB with the crate's defaults) is kept per thread and reused
//! ([`with_blocks`]) rather than allocated per hash. Allocated per hash, each 19 MiB block came
//! from whatever malloc arena the thread used and stayed there once freed (glibc raises its mmap
//! threshold past a freed block's size, so later blocks come from the arenas, which rarely give
//! memory back): a login flood grew the server by hundreds of MiB even with at most four checks
//! at once. The checks run on a few threads of their own (`app::password_checks`), so the kept
//! blocks are a few times 19 MiB, once.

use std::cell::RefCell;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::error::{Error, Result};

/// Shorter passwords are refused when an account is created or changed.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longer ones too: hashing cost grows with the input, and no one types more.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// The most working memory a thread keeps between hashes (64 MiB of 1 KiB blocks): a stored
/// hash asking for more (written by something else) is computed in memory of its own, freed
/// after it.
const MAX_KEPT_BLOCKS: usize = 64 * 1024;

thread_local! {
    /// This thread's Argon2 working memory, grown to the largest hash it computed.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs `hash` with `argon2`'s working memory: this thread's kept blocks when they are few
/// enough to keep, else a one-off allocation.
fn with_blocks<T>(argon2: &Argon2<'_>, hash: impl FnOnce(&mut [Block]) -> T) -> T {
    let needed = argon2.params().block_count();
    if needed > MAX_KEPT_BLOCKS {
        return hash(&mut vec![Block::default(); needed]);
    }
    BLOCKS.with_borrow_mut(|blocks| {
        if blocks.len() < needed {
            blocks.resize(needed, Block::default());
        }
        hash(&mut blocks[..needed])
    })
}

/// The Argon2 output of `password` and `salt` under `argon2`, `len` bytes long.
fn argon2_output(argon2: &Argon2<'_>, password: &[u8], salt: &[u8], len: usize) -> Result<Output> {
    Output::init_with(len, |out| {
        with_blocks(argon2, |blocks| argon2.hash_password_into_with_memory(password, salt, out, blocks))
            .map_err(argon2::password_hash::Error::from)
    })
    .map_err(Error::PasswordHash)
}

/// Hashes `password` with Argon2id (the crate's defaults: 19 MiB, 2 passes, the OWASP
/// minimum) and a random 128-bit salt. Costs tens of milliseconds: call it off the async
/// workers.
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(Error::PasswordHash)?;
    let argon2 = Argon2::default();
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(Error::PasswordHash)?;
    let output = argon2_output(&argon2, password.as_bytes(), salt_bytes, Params::DEFAULT_OUTPUT_LEN)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params()).map_err(Error::PasswordHash)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the stored PHC string (compared in constant time). A malformed
/// stored hash never matches (and is logged: it means the row was written by something else).
pub fn verify_password(password: &str, stored: &str) -> bool {
    match matches_stored(password, stored) {
        Ok(matches) => matches,
        Err(error) => {
            tracing::error!(%error, "an admin password hash is malformed");
            false
        }
    }
}

/// What [`verify_password`] answers, or why the stored hash cannot be checked.
fn matches_stored(password: &str, stored: &str) -> std::result::Result<bool, argon2::password_hash::Error> {
    use argon2::password_hash::Error as PhcError;
    let hash = PasswordHash::new(stored)?;
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else { return Err(PhcError::PhcStringField) };
    let algorithm = Algorithm::try_from(hash.algorithm)?;
    let version = hash.version.map(Version::try_from).transpose()?.unwrap_or_default();
    let argon2 = Argon2::new(algorithm, version, Params::try_from(&hash)?);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    let output = Output::init_with(expected.len(), |out| {
        with_blocks(&argon2, |blocks| {
            argon2.hash_password_into_with_memory(password.as_bytes(), salt_bytes, out, blocks)
        })
        .map_err(PhcError::from)
    })?;
    // `Output`'s equality is constant-time.
    Ok(output == expected)
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
    fn hashes_agree_with_the_argon2_crates_own_hasher_and_verifier() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        // Ours verified by the crate's verifier, and the crate's verified by ours.
        let ours = hash_password("correct horse").expect("hash");
        let parsed = PasswordHash::new(&ours).expect("a PHC string");
        assert!(Argon2::default().verify_password(b"correct horse", &parsed).is_ok());
        let salt = SaltString::encode_b64(&[7u8; 16]).expect("salt");
        let theirs = Argon2::default().hash_password(b"correct horse", &salt).expect("hash").to_string();
        assert!(verify_password("correct horse", &theirs));
        assert!(!verify_password("correct horsf", &theirs));
    }

    #[test]
    fn a_thread_keeps_one_working_memory_across_hashes() {
        std::thread::spawn(|| {
            let stored = hash_password("correct horse").expect("hash");
            let kept = BLOCKS.with_borrow(|blocks| (blocks.len(), blocks.as_ptr()));
            assert!(verify_password("correct horse", &stored));
            assert_eq!(BLOCKS.with_borrow(|blocks| (blocks.len(), blocks.as_ptr())), kept, "reused, not reallocated");
            assert_eq!(kept.0, Argon2::default().params().block_count());
        })
        .join()
        .expect("thread");
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_new_password("1234567").is_err());
        assert!(check_new_password("12345678").is_ok());
    }
}
