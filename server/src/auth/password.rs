//! argon2id password hashes, computed off the async threads.

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

/// Hashes computed at once. Each takes about 19 MiB and a core for tens of milliseconds, so a
/// burst of logins queues here instead of exhausting memory.
static HASHING: Semaphore = Semaphore::const_new(4);

async fn on_hashing_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let _permit = HASHING.acquire().await.ok()?;
    tokio::task::spawn_blocking(work).await.ok()
}

/// Hashes `password` with argon2id and a fresh salt (PHC string).
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    on_hashing_thread(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await
    .ok_or_else(|| anyhow::anyhow!("the hashing thread failed"))?
}

/// A short digest of a password hash, kept in the sessions signed in with it: a new password
/// (a new hash, with a new salt) ends them.
pub fn session_stamp(password_hash: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(password_hash.as_bytes())[..12])
}

/// Checks `password` against `hash`. Without a hash (unknown user) the same work is done
/// against a dummy hash, so timing does not tell whether a user exists.
pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    on_hashing_thread(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| dummy_hash().to_owned());
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok();
        known && matches
    })
    .await
    .unwrap_or(false)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        Argon2::default()
            .hash_password(b"hookhub dummy password")
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verifies_only_the_right_password() {
        let hash = hash_password("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse".into(), Some(hash.clone())).await);
        assert!(!verify_password("wrong horse".into(), Some(hash)).await);
        assert!(!verify_password("hookhub dummy password".into(), None).await);
    }
}
