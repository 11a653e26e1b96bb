//! Accounts and credentials: password hashing, login throttling, API key tokens, and the
//! rules for user names and passwords.

pub mod accounts;
mod api_keys;
mod password;
mod throttle;

pub use api_keys::{ApiToken, hash_token};
pub use password::{hash_password, session_stamp, verify_password};
pub use throttle::{LoginThrottle, ThrottlePolicy};

pub const MIN_PASSWORD_CHARS: usize = 10;
const MAX_PASSWORD_CHARS: usize = 1024;
const MAX_USERNAME_CHARS: usize = 64;

/// A user name: 1–64 letters, digits, `.`, `_`, `-` or `@`, compared as typed.
pub fn check_username(username: &str) -> Result<(), &'static str> {
    if username.is_empty() {
        return Err("Enter a username.");
    }
    if username.chars().count() > MAX_USERNAME_CHARS {
        return Err("A username has at most 64 characters.");
    }
    if !username
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err("Use letters, digits, '.', '_', '-' or '@' only.");
    }
    Ok(())
}

pub fn check_password(password: &str) -> Result<(), &'static str> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err("Use at least 10 characters.");
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err("Use at most 1024 characters.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(check_username("ops-admin@example.com").is_ok());
        assert!(check_username("").is_err());
        assert!(check_username("a b").is_err());
        assert!(check_username("<script>").is_err());
        assert!(check_username(&"x".repeat(65)).is_err());
    }

    #[test]
    fn passwords() {
        assert!(check_password("correct horse").is_ok());
        assert!(check_password("short").is_err());
        assert!(check_password(&"x".repeat(1025)).is_err());
    }
}
