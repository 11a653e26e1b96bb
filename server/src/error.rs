//! The one error of hookhub's use cases. Each edge converts it once: the dashboard into its
//! `AppError` (`http/dashboard/errors.rs`), the REST API into its JSON error (`http/error.rs`).
//! What the caller can fix carries a message for them; a database failure is logged at the
//! edge, and a full or failing disk is told apart there (503) from a fault of ours (500).

use sea_orm::DbErr;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value the caller can fix; `field` names it.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// A value the caller can fix, wrong in several places: each with where and why (a
    /// payload against its event type's schema).
    #[error("{field}: {message}")]
    Mismatched {
        field: &'static str,
        message: String,
        details: Vec<Detail>,
    },
    /// There is no such thing: `"source"`, `"subscription"`, …
    #[error("no such {0}")]
    NotFound(&'static str),
    /// The value of `field` is taken (a name that must be unique).
    #[error("{field}: {message}")]
    Conflict {
        field: &'static str,
        message: String,
    },
    /// Not allowed to the one asking, with why.
    #[error("{0}")]
    Forbidden(String),
    /// Too many failed attempts: try again after this many seconds.
    #[error("too many attempts; try again in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    #[error(transparent)]
    Db(#[from] DbErr),
    /// A fault of ours outside the database (password hashing, say).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// One place a value is wrong: a JSON Pointer into it (empty for the whole value), and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Detail {
    pub path: String,
    pub message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub fn invalid(field: &'static str, message: impl Into<String>) -> Error {
    Error::Invalid {
        field,
        message: message.into(),
    }
}
