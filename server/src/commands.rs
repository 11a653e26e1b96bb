//! The commands for scripted installs. They open the same database as a running server and go
//! through the same use cases as the dashboard.

use anyhow::Context;

use crate::Config;
use crate::auth::accounts;
use crate::storage::{Db, Location, copy, users};

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

/// Copies the database at `from` (the configured one when `None`) into the empty one at `to`,
/// telling standard error how far it got; answers the rows copied per table.
pub async fn copy_database(
    config: Config,
    from: Option<String>,
    to: String,
) -> anyhow::Result<String> {
    let location = |setting: &str, flag: &str| {
        Location::parse(setting).map_err(|e| anyhow::anyhow!("--{flag}: {e}"))
    };
    let from = match from {
        Some(from) => location(&from, "from")?,
        None => config.database.clone(),
    };
    let to = location(&to, "to")?;
    if from == to {
        anyhow::bail!("--from and --to name the same database ({from})");
    }
    let source = Db::open(&from)
        .await
        .with_context(|| format!("opening {from}"))?;
    let target = Db::open(&to)
        .await
        .with_context(|| format!("opening {to}"))?;
    eprintln!("copying {from} to {to}");
    let copied = copy::copy_database(&source, &target, |progress| {
        eprintln!(
            "  {}: {} of {}",
            progress.table, progress.copied, progress.total
        );
    })
    .await?;
    let mut report = format!("copied {from} to {to}:");
    for (table, rows) in copied {
        report.push_str(&format!("\n  {table}: {rows}"));
    }
    Ok(report)
}

/// What the person at the terminal reads: the reason alone for what they can fix.
fn message(err: crate::error::Error) -> anyhow::Error {
    use crate::error::Error;
    match err {
        Error::Invalid { message, .. }
        | Error::Conflict { message, .. }
        | Error::Mismatched { message, .. } => {
            anyhow::anyhow!(message)
        }
        err => err.into(),
    }
}
