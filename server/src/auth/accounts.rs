//! Accounts and API keys as the dashboard and the command line change them: names and
//! passwords checked, passwords hashed, keys generated, logins throttled, every change logged.

use crate::error::{Error, Result, invalid};
use crate::storage::api_keys::{self, ApiKey};
use crate::storage::users::{self, CreateUserError, Removal, User};
use crate::storage::{Db, now_millis};

use super::{
    ApiToken, LoginThrottle, check_password, check_username, hash_password, verify_password,
};

const MAX_KEY_NAME_CHARS: usize = 100;

/// Adds a user. With `only_if_none` it is the first-run setup, refused once any user exists.
pub async fn create_user(
    db: &Db,
    username: &str,
    password: String,
    is_admin: bool,
    only_if_none: bool,
) -> Result<User> {
    let username = username.trim().to_owned();
    check_username(&username).map_err(|m| invalid("username", m))?;
    check_password(&password).map_err(|m| invalid("password", m))?;
    let hash = hash_password(password).await?;
    let user = users::create(db, username, hash, is_admin, only_if_none)
        .await
        .map_err(|err| match err {
            CreateUserError::Taken => Error::Conflict {
                field: "username",
                message: "That username is taken.".into(),
            },
            CreateUserError::AlreadySetUp => {
                Error::Forbidden("hookhub is already set up. Log in instead.".into())
            }
            CreateUserError::Db(err) => Error::Db(err),
        })?;
    tracing::info!(user = %user.username, admin = user.is_admin, "user created");
    Ok(user)
}

/// Checks a login. Failures count against the user name and against `client` (the address it
/// came from) in `throttle`; an unknown name costs the same work and gets the same answer as a
/// wrong password, so neither tells which names exist.
pub async fn log_in(
    db: &Db,
    throttle: &LoginThrottle,
    username: &str,
    password: String,
    client: Option<&str>,
) -> Result<User> {
    let refused = || Error::Forbidden("That username and password do not match.".into());
    let username = username.trim();
    if check_username(username).is_err() {
        // No such user can exist: no throttle entry for a name of any length.
        verify_password(password, None).await;
        return Err(refused());
    }
    let mut keys = vec![format!("user:{username}")];
    keys.extend(client.map(|c| format!("client:{c}")));
    throttle
        .begin_attempt(db, &keys, now_millis())
        .await?
        .map_err(|retry_after_secs| Error::Throttled { retry_after_secs })?;

    let user = users::find_by_username(db, username).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let verified = verify_password(password, hash).await;
    match user {
        Some(user) if verified => {
            throttle.record_success(db, &keys).await?;
            tracing::info!(user = %user.username, "login");
            Ok(user)
        }
        Some(user) => {
            tracing::info!(user = %user.username, "failed login");
            Err(refused())
        }
        // A name no user has is often a password typed into the wrong field: never logged.
        None => {
            tracing::info!("failed login for an unknown user name");
            Err(refused())
        }
    }
}

/// Changes a user's password once the current one is proven; their other sessions end, as
/// they were bound to the old hash.
pub async fn change_password(db: &Db, user_id: i64, current: String, new: String) -> Result<User> {
    let user = users::find(db, user_id)
        .await?
        .ok_or(Error::NotFound("user"))?;
    if !verify_password(current, Some(user.password_hash.clone())).await {
        return Err(invalid("current", "That is not your current password."));
    }
    check_password(&new).map_err(|m| invalid("new", m))?;
    let hash = hash_password(new).await?;
    users::set_password_hash(db, user_id, hash.clone()).await?;
    tracing::info!(user = %user.username, "password changed; other sessions ended");
    Ok(User {
        password_hash: hash,
        ..user
    })
}

/// Removes a user. Only an admin may, never themselves; checked inside the write, so two admins
/// removing each other at once leave one.
pub async fn remove_user(db: &Db, acting_user_id: i64, id: i64) -> Result<()> {
    if acting_user_id == id {
        return Err(Error::Forbidden("You cannot remove yourself.".into()));
    }
    match users::delete(db, acting_user_id, id).await? {
        Removal::Removed => {
            tracing::info!(user_id = id, "user removed");
            Ok(())
        }
        Removal::NoSuchUser => Err(Error::NotFound("user")),
        Removal::NotAnAdmin => Err(Error::Forbidden("Only an admin can do this.".into())),
    }
}

/// Creates an API key; answers it with its token, which exists only here: it is stored as a
/// hash and shown this once.
pub async fn create_api_key(db: &Db, name: &str) -> Result<(ApiKey, String)> {
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_KEY_NAME_CHARS {
        return Err(invalid(
            "name",
            "Give the key a name of 1 to 100 characters.",
        ));
    }
    let token = ApiToken::generate();
    let key = api_keys::create(db, name, token.prefix.clone(), token.hash.clone()).await?;
    tracing::info!(api_key = %key.name, prefix = %key.prefix, "API key created");
    Ok((key, token.token))
}

pub async fn revoke_api_key(db: &Db, id: i64) -> Result<()> {
    if !api_keys::revoke(db, id).await? {
        return Err(Error::NotFound("API key"));
    }
    tracing::info!(api_key_id = id, "API key revoked");
    Ok(())
}
