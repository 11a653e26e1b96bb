//! The commands for scripted installs. They open the same database file as a running server
//! and go through the same checks as the dashboard.

use app::backend::Backend;

use crate::backend::HubBackend;
use crate::storage::{Db, users};
use crate::{AppState, Config};

async fn open(config: Config) -> anyhow::Result<AppState> {
    let db = Db::open_with(&config.database, config.durability).await?;
    AppState::new(config, db, Vec::new())
}

/// Adds a user; the first user is always an admin.
pub async fn create_user(
    config: Config,
    username: String,
    password: String,
    admin: bool,
) -> anyhow::Result<String> {
    let state = open(config).await?;
    let first = users::count(&state.hub.db).await? == 0;
    let user = HubBackend(state)
        .add_user(username, password, admin || first)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(format!(
        "created {} `{}`",
        if user.is_admin { "admin" } else { "user" },
        user.username
    ))
}

/// Creates an API key and returns its token, the only time it is shown.
pub async fn create_key(config: Config, name: String) -> anyhow::Result<String> {
    let state = open(config).await?;
    let created = HubBackend(state)
        .create_api_key(name)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(created.token)
}
