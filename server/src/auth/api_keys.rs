//! API key tokens: `hh_` followed by 32 random bytes in URL-safe base64.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

const TOKEN_PREFIX: &str = "hh_";
/// How much of a token is kept in clear to recognise it in lists.
const SHOWN_CHARS: usize = 10;

/// A freshly made token. Its text is shown once and never stored.
pub struct ApiToken {
    pub token: String,
    pub prefix: String,
    pub hash: String,
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiToken")
            .field("prefix", &self.prefix)
            .field("token", &"[redacted]")
            .finish()
    }
}

impl ApiToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        Self {
            prefix: token[..SHOWN_CHARS].to_owned(),
            hash: hash_token(&token),
            token,
        }
    }
}

/// The stored form of a token: hex SHA-256.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_hash_stably() {
        let a = ApiToken::generate();
        let b = ApiToken::generate();
        assert_ne!(a.token, b.token);
        assert!(a.token.starts_with("hh_") && a.token.len() == 46);
        assert_eq!(hash_token(&a.token), a.hash);
        assert!(!format!("{a:?}").contains(&a.token));
    }
}
