//! The one error type that crosses the wire from server functions to the browser.
//!
//! Users see a message they can act on; anything internal is logged on the server and shown
//! only as "something went wrong".

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please log in to continue.")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    /// A form value the user can fix; `field` names the input the message belongs beside.
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("Too many failed attempts. Try again in {retry_after_secs} s.")]
    Throttled { retry_after_secs: u64 },
    #[error("{0}")]
    NotFound(String),
    #[error("Something went wrong. The details are in the server log.")]
    Internal,
    /// The database cannot take changes (a full disk, usually); nothing was saved.
    #[error("The hub cannot save changes right now, so nothing was saved. Try again in a moment.")]
    Unavailable,
    #[error("The request could not be completed: {0}")]
    Request(String),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The refusal of something only an admin may do.
    pub fn admin_only() -> Self {
        Self::Forbidden("Only an admin can do this.".into())
    }

    /// The HTTP status this error is answered with: 4xx for what the caller can change, 500
    /// only for the hub's own failures (which are logged as errors where they happen).
    pub fn status(&self) -> u16 {
        match self {
            Self::Request(_) => 400,
            Self::Unauthorized => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::Invalid { .. } => 422,
            Self::Throttled { .. } => 429,
            Self::Internal => 500,
            Self::Unavailable => 503,
        }
    }

    /// The message for `field`, when this error is about that form field.
    pub fn for_field(&self, field: &str) -> Option<&str> {
        match self {
            Self::Invalid { field: f, message } if f == field => Some(message),
            _ => None,
        }
    }

    /// The form field this error is about, if it is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    /// A message that does not belong beside any one field.
    pub fn is_general(&self) -> bool {
        !matches!(self, Self::Invalid { .. })
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(message)
            | ServerFnErrorErr::Deserialization(message)
            | ServerFnErrorErr::Serialization(message) => Self::Request(message),
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => {
                Self::Request("the server could not be reached".into())
            }
            _ => Self::Internal,
        }
    }
}
