//! A typed view of the session, so no string keys are scattered about (ssr-only).

use tower_sessions::Session;

use crate::dto::UserDto;
use crate::error::AppError;

const USER_ID: &str = "user_id";
/// The user's [`UserDto::session_stamp`] at sign-in.
const STAMP: &str = "stamp";

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

    /// Whether this session still speaks for `user`: signed in as them, with the password
    /// they have now.
    pub async fn is_current_for(&self, user: &UserDto) -> Result<bool, AppError> {
        let stamp: Option<String> = self.0.get(STAMP).await.map_err(log_internal)?;
        Ok(self.user_id().await? == Some(user.id) && stamp.as_ref() == Some(&user.session_stamp))
    }

    /// Starts a signed-in session under a fresh id, so a session id set before login is useless.
    pub async fn log_in(&self, user: &UserDto) -> Result<(), AppError> {
        self.0.cycle_id().await.map_err(log_internal)?;
        self.0
            .insert(USER_ID, user.id)
            .await
            .map_err(log_internal)?;
        self.renew(user).await
    }

    /// Keeps this session signed in after `user`'s password changed (which ends the others).
    pub async fn renew(&self, user: &UserDto) -> Result<(), AppError> {
        let stamp = &user.session_stamp;
        self.0.insert(STAMP, stamp).await.map_err(log_internal)
    }

    pub async fn log_out(&self) -> Result<(), AppError> {
        self.0.flush().await.map_err(log_internal)
    }
}

fn log_internal(err: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %err, "session store failed");
    AppError::Internal
}
