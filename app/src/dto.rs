//! Data that crosses the wire between the server functions and the pages.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDto {
    pub id: i64,
    pub username: String,
    pub is_admin: bool,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyDto {
    pub id: i64,
    pub name: String,
    /// The first characters of the key, enough to recognise it.
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A key as created: the only time its full text is ever shown.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiKeyDto {
    pub key: ApiKeyDto,
    pub token: String,
}

impl std::fmt::Debug for NewApiKeyDto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewApiKeyDto")
            .field("key", &self.key)
            .field("token", &"[redacted]")
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewDto {
    pub version: String,
    pub started_at: i64,
    pub users: u64,
    pub active_api_keys: u64,
    pub database_path: String,
    pub database_bytes: u64,
}
