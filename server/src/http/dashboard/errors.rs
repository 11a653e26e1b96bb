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
            Error::Invalid { field, message } | Error::Conflict { field, message } => {
                AppError::invalid(field, message)
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

pub(super) fn no_such_source() -> AppError {
    AppError::NotFound("There is no such source.".into())
}

pub(super) fn no_such_subscription() -> AppError {
    AppError::NotFound("There is no such subscription.".into())
}

pub(super) fn no_such_delivery() -> AppError {
    AppError::NotFound("There is no such delivery.".into())
}
