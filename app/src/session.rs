//! A typed view of the session, so no string keys are scattered about (ssr-only).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tower_sessions::Session;

use crate::dto::UserDto;
use crate::error::AppError;

const USER_ID: &str = "user_id";
/// The user's [`UserDto::session_stamp`] at sign-in.
const STAMP: &str = "stamp";
/// When the user signed in, in Unix milliseconds: the absolute cap counts from here.
const SIGNED_IN_AT: &str = "signed_in_at";
/// When the session's expiry was last pushed back, in Unix milliseconds.
const SEEN_AT: &str = "seen_at";

/// How long a signed-in session lasts.
#[derive(Clone, Copy, Debug)]
pub struct Lifetime {
    /// Ends after this long without a request.
    pub idle: Duration,
    /// Ends this long after login, however active.
    pub max: Duration,
}

impl Lifetime {
    /// How often a request pushes the idle expiry back. The store only writes a session that
    /// changed, so an unchanged one would expire `idle` after login whatever its use; writing
    /// it on every request would put a database write behind every page. A push at most once
    /// a minute (or a tenth of the idle time, if shorter) costs one write a minute per person.
    fn refresh_every(self) -> Duration {
        (self.idle / 10).min(Duration::from_secs(60))
    }
}

#[derive(Clone, Debug)]
pub struct AuthSession(pub Session);

/// The consumer a request's portal session speaks for: put in the request's extensions by the
/// server's portal gate, which alone reads the portal cookie.
#[derive(Clone, Debug)]
pub struct PortalConsumer(pub String);

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
        let now = now_millis();
        self.0
            .insert(SIGNED_IN_AT, now)
            .await
            .map_err(log_internal)?;
        self.0.insert(SEEN_AT, now).await.map_err(log_internal)?;
        self.renew(user).await
    }

    /// Called on each request of a signed-in session: false (and the session ended) once it is
    /// older than `lifetime.max`; otherwise its idle expiry is pushed back when due.
    pub async fn keep_alive(&self, lifetime: Lifetime) -> Result<bool, AppError> {
        let now = now_millis();
        let millis = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let signed_in_at: Option<i64> = self.0.get(SIGNED_IN_AT).await.map_err(log_internal)?;
        let Some(signed_in_at) = signed_in_at else {
            // Signed in before sessions recorded it: count from now.
            self.0
                .insert(SIGNED_IN_AT, now)
                .await
                .map_err(log_internal)?;
            self.0.insert(SEEN_AT, now).await.map_err(log_internal)?;
            return Ok(true);
        };
        if now.saturating_sub(signed_in_at) >= millis(lifetime.max) {
            self.log_out().await?;
            return Ok(false);
        }
        let seen_at: i64 = self
            .0
            .get(SEEN_AT)
            .await
            .map_err(log_internal)?
            .unwrap_or(signed_in_at);
        if now.saturating_sub(seen_at) >= millis(lifetime.refresh_every()) {
            // A change makes the store save the session, with a fresh `idle` expiry.
            self.0.insert(SEEN_AT, now).await.map_err(log_internal)?;
        }
        Ok(true)
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

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_millis()).ok())
        .unwrap_or(0)
}

fn log_internal(err: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %err, "session store failed");
    AppError::Internal
}
