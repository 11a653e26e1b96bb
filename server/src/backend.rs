//! The dashboard's port, implemented over storage and auth. Maps domain results to the DTOs and
//! errors the browser sees; internal failures are logged here and reach the user only as
//! `AppError::Internal`.

use std::time::Instant;

use app::backend::Backend;
use app::dto::{ApiKeyDto, NewApiKeyDto, OverviewDto, UserDto};
use app::error::AppError;

use crate::AppState;
use crate::auth::{self, ApiToken};
use crate::storage::{
    api_keys::{self, ApiKey},
    users::{self, CreateUserError, User},
};

pub struct HubBackend(pub AppState);

fn internal(err: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %err, "dashboard request failed");
    AppError::Internal
}

fn user_dto(user: User) -> UserDto {
    UserDto {
        id: user.id,
        username: user.username,
        is_admin: user.is_admin,
        created_at: user.created_at,
    }
}

fn key_dto(key: ApiKey) -> ApiKeyDto {
    ApiKeyDto {
        id: key.id,
        name: key.name,
        prefix: key.prefix,
        created_at: key.created_at,
        last_used_at: key.last_used_at,
        revoked_at: key.revoked_at,
    }
}

fn check_new_account(username: &str, password: &str) -> Result<(), AppError> {
    auth::check_username(username).map_err(|m| AppError::invalid("username", m))?;
    auth::check_password(password).map_err(|m| AppError::invalid("password", m))
}

impl HubBackend {
    fn refuse_login(&self, keys: &[String], username: &str) -> Result<UserDto, AppError> {
        self.0.throttle.record_failure(keys, Instant::now());
        tracing::info!(user = %username, "failed login");
        Err(AppError::Forbidden(
            "That username and password do not match.".into(),
        ))
    }

    async fn create_user(
        &self,
        username: String,
        password: String,
        is_admin: bool,
        only_if_none: bool,
    ) -> Result<UserDto, AppError> {
        let username = username.trim().to_owned();
        check_new_account(&username, &password)?;
        let hash = auth::hash_password(password).await.map_err(internal)?;
        match users::create(&self.0.db, username, hash, is_admin, only_if_none).await {
            Ok(user) => {
                tracing::info!(user = %user.username, admin = user.is_admin, "user created");
                Ok(user_dto(user))
            }
            Err(CreateUserError::Taken) => {
                Err(AppError::invalid("username", "That username is taken."))
            }
            Err(CreateUserError::AlreadySetUp) => Err(AppError::Forbidden(
                "hookhub is already set up. Log in instead.".into(),
            )),
            Err(CreateUserError::Db(err)) => Err(internal(err)),
        }
    }
}

#[async_trait::async_trait]
impl Backend for HubBackend {
    async fn needs_setup(&self) -> Result<bool, AppError> {
        Ok(users::count(&self.0.db).await.map_err(internal)? == 0)
    }

    async fn set_up_admin(&self, username: String, password: String) -> Result<UserDto, AppError> {
        self.create_user(username, password, true, true).await
    }

    async fn authenticate(
        &self,
        username: String,
        password: String,
        client: Option<String>,
    ) -> Result<UserDto, AppError> {
        let username = username.trim().to_owned();
        let mut keys = vec![format!("user:{username}")];
        keys.extend(client.map(|c| format!("client:{c}")));
        let throttle = &self.0.throttle;
        throttle
            .check(&keys, Instant::now())
            .map_err(|retry_after_secs| AppError::Throttled { retry_after_secs })?;

        let user = users::find_by_username(&self.0.db, &username)
            .await
            .map_err(internal)?;
        // Unknown users are checked against a dummy hash: the same work and the same answer.
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let verified = auth::verify_password(password, hash).await;
        match user {
            Some(user) if verified => {
                throttle.record_success(&keys);
                tracing::info!(user = %user.username, "login");
                Ok(user_dto(user))
            }
            _ => self.refuse_login(&keys, &username),
        }
    }

    async fn find_user(&self, id: i64) -> Result<Option<UserDto>, AppError> {
        Ok(users::find(&self.0.db, id)
            .await
            .map_err(internal)?
            .map(user_dto))
    }

    async fn change_password(
        &self,
        user_id: i64,
        current: String,
        new: String,
    ) -> Result<(), AppError> {
        let user = users::find(&self.0.db, user_id)
            .await
            .map_err(internal)?
            .ok_or(AppError::Unauthorized)?;
        if !auth::verify_password(current, Some(user.password_hash)).await {
            return Err(AppError::invalid(
                "current",
                "That is not your current password.",
            ));
        }
        auth::check_password(&new).map_err(|m| AppError::invalid("new", m))?;
        let hash = auth::hash_password(new).await.map_err(internal)?;
        users::set_password_hash(&self.0.db, user_id, hash)
            .await
            .map_err(internal)?;
        tracing::info!(user = %user.username, "password changed");
        Ok(())
    }

    async fn list_users(&self) -> Result<Vec<UserDto>, AppError> {
        Ok(users::list(&self.0.db)
            .await
            .map_err(internal)?
            .into_iter()
            .map(user_dto)
            .collect())
    }

    async fn add_user(
        &self,
        username: String,
        password: String,
        is_admin: bool,
    ) -> Result<UserDto, AppError> {
        self.create_user(username, password, is_admin, false).await
    }

    async fn remove_user(&self, acting_user_id: i64, id: i64) -> Result<(), AppError> {
        if acting_user_id == id {
            return Err(AppError::Forbidden("You cannot remove yourself.".into()));
        }
        if !users::delete(&self.0.db, id).await.map_err(internal)? {
            return Err(AppError::NotFound("There is no such user.".into()));
        }
        tracing::info!(user_id = id, "user removed");
        Ok(())
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyDto>, AppError> {
        Ok(api_keys::list(&self.0.db)
            .await
            .map_err(internal)?
            .into_iter()
            .map(key_dto)
            .collect())
    }

    async fn create_api_key(&self, name: String) -> Result<NewApiKeyDto, AppError> {
        let name = name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::invalid(
                "name",
                "Give the key a name of 1 to 100 characters.",
            ));
        }
        let (key, token) = create_api_key(&self.0.db, name).await.map_err(internal)?;
        Ok(NewApiKeyDto {
            key: key_dto(key),
            token,
        })
    }

    async fn revoke_api_key(&self, id: i64) -> Result<(), AppError> {
        if !api_keys::revoke(&self.0.db, id).await.map_err(internal)? {
            return Err(AppError::NotFound("There is no such API key.".into()));
        }
        tracing::info!(api_key_id = id, "API key revoked");
        Ok(())
    }

    async fn overview(&self) -> Result<OverviewDto, AppError> {
        let db = &self.0.db;
        Ok(OverviewDto {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at: self.0.started_at,
            users: users::count(db).await.map_err(internal)?,
            active_api_keys: api_keys::count_active(db).await.map_err(internal)?,
            database_path: db.path().display().to_string(),
            database_bytes: db.size_bytes(),
        })
    }
}

/// Makes and stores a new key; returns it with its token, the only time the token exists.
pub async fn create_api_key(
    db: &crate::storage::Db,
    name: String,
) -> Result<(ApiKey, String), sea_orm::DbErr> {
    let token = ApiToken::generate();
    let key = api_keys::create(db, name, token.prefix.clone(), token.hash.clone()).await?;
    tracing::info!(api_key = %key.name, prefix = %key.prefix, "API key created");
    Ok((key, token.token))
}
