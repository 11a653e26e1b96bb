//! The `hookhub` binary: parses the command line, loads configuration, sets up logs and calls
//! the library.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use server::{Config, commands, telemetry};
use tokio_util::sync::CancellationToken;

/// jemalloc, for SQLite's C allocations as well as Rust's. Under glibc's allocator an hour of
/// mixed load grew RSS about 0.6 MiB a minute, in the per-thread arenas of SQLite's connection
/// threads. Under jemalloc the same load's heap (its count of what is allocated) stays level,
/// so that was freed memory kept, not a leak. With a background thread returning pages unused
/// for a second (`.cargo/config.toml`), RSS grew a third as fast (README, "Reliability").
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(name = "hookhub", version, about = "A self-hosted webhook hub")]
struct Cli {
    /// Configuration file (default: ./hookhub.toml when it exists).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Add a dashboard user; the first user is always an admin.
    CreateUser {
        #[arg(long)]
        username: String,
        /// Read the password from standard input (required, so it never shows in `ps`).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[arg(long)]
        admin: bool,
    },
    /// Create an API key for the REST API and print it.
    CreateApiKey {
        #[arg(long)]
        name: String,
    },
    /// Relay a source's webhooks from a running hub to a local URL while you develop: each
    /// event is replayed with its original method, headers and exact body.
    Listen {
        /// The hub's base URL, such as http://127.0.0.1:3000.
        #[arg(long)]
        hub: String,
        /// An API key of that hub (or HOOKHUB_API_KEY).
        #[arg(long, env = "HOOKHUB_API_KEY", hide_env_values = true)]
        key: String,
        /// The source's id.
        #[arg(long)]
        source: String,
        /// Where to replay each event, such as http://localhost:4000/webhook.
        #[arg(long)]
        forward: String,
        /// First replay what was received since this time (RFC 3339, or 2026-12-07T09:30 as UTC).
        #[arg(long)]
        since: Option<String>,
    },
    /// Copy every row of one database into another, empty one (stop the hubs first), e.g.
    /// from the SQLite file to PostgreSQL.
    CopyDatabase {
        /// The database to copy: a SQLite file's path or a postgres:// URL; the configured
        /// `database` when left out.
        #[arg(long)]
        from: Option<String>,
        /// The empty database to copy into, made ready by the copy.
        #[arg(long)]
        to: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref(), std::env::vars())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::CreateUser {
            username, admin, ..
        } => {
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            println!(
                "{}",
                commands::create_user(config, username, password, admin).await?
            );
            Ok(())
        }
        Command::CreateApiKey { name } => {
            println!("{}", commands::create_key(config, name).await?);
            Ok(())
        }
        Command::Listen {
            hub,
            key,
            source,
            forward,
            since,
        } => {
            let stop = CancellationToken::new();
            tokio::spawn({
                let stop = stop.clone();
                async move {
                    server::stop_signal().await;
                    stop.cancel();
                }
            });
            let listen = server::listen::Listen {
                hub,
                key,
                source,
                forward,
                since,
            };
            server::listen::run(listen, stop).await
        }
        Command::CopyDatabase { from, to } => {
            println!("{}", commands::copy_database(config, from, to).await?);
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    telemetry::init(config.log_format, &config.log);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    server::run(config, listener, shutdown).await
}

async fn cancel_on_signal(shutdown: CancellationToken) {
    server::stop_signal().await;
    tracing::info!("shutting down");
    shutdown.cancel();
}
