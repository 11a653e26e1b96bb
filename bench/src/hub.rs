//! A real hookhub, started in-process with `server::run` on a random loopback port, as the
//! integration tests start it.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use server::Config;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub struct Hub {
    pub addr: SocketAddr,
    shutdown: CancellationToken,
    handle: JoinHandle<anyhow::Result<()>>,
}

impl Hub {
    /// The configuration the hub runs with: documented defaults and the given database file.
    pub fn config(database: &Path) -> anyhow::Result<Config> {
        let mut config = Config::load(None, Vec::new()).context("default configuration")?;
        config.database = database.to_path_buf();
        Ok(config)
    }

    pub async fn start(config: Config) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(server::run(config, listener, shutdown.clone()));
        let hub = Self {
            addr,
            shutdown,
            handle,
        };
        hub.wait_until_healthy().await?;
        Ok(hub)
    }

    async fn wait_until_healthy(&self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        for _ in 0..400 {
            if self.handle.is_finished() {
                bail!("hookhub stopped while starting");
            }
            if let Ok(response) = client.get(self.url("/healthz")).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        bail!("hookhub did not become healthy on {}", self.addr)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops gracefully: in-flight requests finish first.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.handle.await.context("the hub task")?
    }
}
