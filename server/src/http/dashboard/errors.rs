//! The use cases' error as the dashboard shows it. Faults are logged here, once, and reach the
//! browser only as "try again" (storage) or "something went wrong".

use app::error::AppError;

use crate::error::Error;

/// A failure of the hub's own: logged, and shown as a storage failure (503, try again) or as
/// "something went wrong".
pub(super) fn internal(err: impl Into<Error>) -> AppError {
    AppError::from(err.into())
}

impl From<Error> for AppError {
    fn from(err: Error) -> Self {
        match err {
            Error::Invalid { field, message }
            | Error::Conflict { field, message }
            | Error::Mismatched { field, message, .. } => {
                AppError::invalid(field, sentence(&message))
            }
            Error::NotFound(what) => AppError::NotFound(format!("There is no such {what}.")),
            Error::Forbidden(message) => AppError::Forbidden(message),
            Error::Throttled { retry_after_secs } => AppError::Throttled { retry_after_secs },
            Error::Db(err) if crate::storage::is_storage_failure(&err) => {
                tracing::error!(error = %err, "dashboard request failed: the database cannot take writes");
                AppError::Unavailable
            }
            Error::Db(err) => {
                tracing::error!(error = %err, "dashboard request failed");
                AppError::Internal
            }
            Error::Internal(err) => {
                tracing::error!(error = %err, "dashboard request failed");
                AppError::Internal
            }
        }
    }
}

/// The domain's messages are written for the REST API's JSON (`"the URL must be http or
/// https"`); beside a form field each reads as a sentence: capitalised, with a full stop.
pub(super) fn sentence(message: &str) -> String {
    let mut chars = message.trim().chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut sentence: String = first.to_uppercase().chain(chars).collect();
    if !sentence.ends_with(['.', '!', '?', ')']) {
        sentence.push('.');
    }
    sentence
}

pub(super) fn no_such_source() -> AppError {
    AppError::NotFound("There is no such source.".into())
}

pub(super) fn no_such_subscription() -> AppError {
    AppError::NotFound("There is no such subscription.".into())
}

pub(super) fn no_such_delivery() -> AppError {
    AppError::NotFound("There is no such delivery.".into())
}

#[cfg(test)]
mod tests {
    use super::sentence;

    #[test]
    fn messages_read_as_sentences_beside_a_field() {
        assert_eq!(
            sentence("the URL must be http or https"),
            "The URL must be http or https."
        );
        assert_eq!(sentence("Already a sentence."), "Already a sentence.");
        assert_eq!(sentence("é accentuée"), "É accentuée.");
        assert_eq!(sentence("  "), "");
    }
}
