//! A typed view of the session, so no string keys are scattered about (ssr-only).

use tower_sessions::Session;

use crate::error::AppError;

const USER_ID: &str = "user_id";

#[derive(Clone, Debug)]
pub struct AuthSession(pub Session);

impl AuthSession {
    pub async fn extract() -> Result<Self, AppError> {
        leptos_axum::extract::<Session>()
            .await
            .map(Self)
            .map_err(|_| AppError::Internal)
    }

    pub async fn user_id(&self) -> Result<Option<i64>, AppError> {
        self.0.get(USER_ID).await.map_err(log_internal)
    }

    /// Starts a signed-in session under a fresh id, so a session id set before login is useless.
    pub async fn log_in(&self, user_id: i64) -> Result<(), AppError> {
        self.0.cycle_id().await.map_err(log_internal)?;
        self.0.insert(USER_ID, user_id).await.map_err(log_internal)
    }

    pub async fn log_out(&self) -> Result<(), AppError> {
        self.0.flush().await.map_err(log_internal)
    }
}

fn log_internal(err: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %err, "session store failed");
    AppError::Internal
}
