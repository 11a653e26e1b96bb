//! The commands for scripted installs. They open the same database file as a running server
//! and go through the same use cases as the dashboard.

use crate::Config;
use crate::auth::accounts;
use crate::storage::{Db, users};

async fn open(config: &Config) -> anyhow::Result<Db> {
    Ok(Db::open_with(&config.database, config.durability).await?)
}

/// Adds a user; the first user is always an admin.
pub async fn create_user(
    config: Config,
    username: String,
    password: String,
    admin: bool,
) -> anyhow::Result<String> {
    let db = open(&config).await?;
    let first = users::count(&db).await? == 0;
    let user = accounts::create_user(&db, &username, password, admin || first, false)
        .await
        .map_err(message)?;
    Ok(format!(
        "created {} `{}`",
        if user.is_admin { "admin" } else { "user" },
        user.username
    ))
}

/// Creates an API key and returns its token, the only time it is shown.
pub async fn create_key(config: Config, name: String) -> anyhow::Result<String> {
    let db = open(&config).await?;
    let (_, token) = accounts::create_api_key(&db, &name)
        .await
        .map_err(message)?;
    Ok(token)
}

/// What the person at the terminal reads: the reason alone for what they can fix.
fn message(err: crate::error::Error) -> anyhow::Error {
    use crate::error::Error;
    match err {
        Error::Invalid { message, .. } | Error::Conflict { message, .. } => {
            anyhow::anyhow!(message)
        }
        err => err.into(),
    }
}
