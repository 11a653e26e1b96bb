//! A real hookhub on a random loopback port: started in-process with `server::run`, as the
//! integration tests start it, or as a built `hookhub` binary in a child process, so that what
//! the process uses is the hub's alone.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use server::Config;
use tokio::process::Child;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub struct Hub {
    pub addr: SocketAddr,
    running: Running,
}

enum Running {
    InProcess {
        shutdown: CancellationToken,
        handle: JoinHandle<anyhow::Result<()>>,
    },
    /// The id is kept from the start: `Child::id` forgets it once the child is reaped.
    Child { child: Child, pid: u32 },
}

impl Hub {
    /// The configuration the hub runs with: documented defaults and the given database file,
    /// without the per-client connection limit, as all the load comes from this one address.
    pub fn config(database: &Path) -> anyhow::Result<Config> {
        let mut config = Config::load(None, Vec::new()).context("default configuration")?;
        config.database = database.into();
        config.max_connections_per_ip = 0;
        Ok(config)
    }

    pub async fn start(config: Config) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(server::run(config, listener, shutdown.clone()));
        let running = Running::InProcess { shutdown, handle };
        Self { addr, running }.healthy().await
    }

    /// Runs `binary`, a built `hookhub`, on `database` (a file or a URL) in the directory
    /// `dir`, with documented defaults (but, as in `config`, no per-client connection limit)
    /// and `settings` (`HOOKHUB_*` variables), as `start` runs the in-process hub: neither this
    /// process's `HOOKHUB_*` variables nor a `hookhub.toml` in its directory apply. Its logs go
    /// to `log`.
    pub async fn spawn(
        binary: &Path,
        dir: &Path,
        database: &str,
        settings: &[(&str, &str)],
        log: &Path,
    ) -> anyhow::Result<Self> {
        // A port the system has just handed out and taken back is free in practice.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let log =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        // A path with a directory in it is the bench's, not the hub's working directory's; a
        // bare name is looked up in PATH.
        let program = if binary.components().count() > 1 {
            std::path::absolute(binary)?
        } else {
            binary.to_path_buf()
        };
        let mut command = tokio::process::Command::new(program);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("HOOKHUB_") {
                command.env_remove(key);
            }
        }
        let child = command
            .arg("serve")
            .current_dir(dir)
            .env("HOOKHUB_DATABASE", database)
            .env("HOOKHUB_LISTEN", addr.to_string())
            // As for `config`: all the load comes from this one address.
            .env("HOOKHUB_MAX_CONNECTIONS_PER_IP", "0")
            .envs(settings.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let pid = child.id().context("hookhub exited at once")?;
        Self {
            addr,
            running: Running::Child { child, pid },
        }
        .healthy()
        .await
    }

    /// The hub's process id when it runs in a process of its own.
    pub fn pid(&self) -> Option<u32> {
        match &self.running {
            Running::InProcess { .. } => None,
            Running::Child { pid, .. } => Some(*pid),
        }
    }

    async fn healthy(mut self) -> anyhow::Result<Self> {
        let client = reqwest::Client::new();
        for _ in 0..400 {
            let stopped = match &mut self.running {
                Running::InProcess { handle, .. } => handle.is_finished(),
                Running::Child { child, .. } => child.try_wait()?.is_some(),
            };
            if stopped {
                bail!("hookhub stopped while starting");
            }
            if let Ok(response) = client.get(self.url("/healthz")).send().await
                && response.status().is_success()
            {
                return Ok(self);
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
        match self.running {
            Running::InProcess { shutdown, handle } => {
                shutdown.cancel();
                handle.await.context("the hub task")?
            }
            Running::Child { mut child, pid } => {
                if let Some(status) = child.try_wait()? {
                    bail!("hookhub exited during the run with {status}");
                }
                let signalled = tokio::process::Command::new("kill")
                    .args(["-TERM", &pid.to_string()])
                    .status()
                    .await?;
                ensure!(signalled.success(), "kill -TERM {pid} failed: {signalled}");
                let status = child.wait().await?;
                ensure!(status.success(), "hookhub exited with {status}");
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process;

    #[tokio::test]
    async fn runs_a_built_hookhub_in_a_process_of_its_own() {
        // The test command builds it beside this test (the server's integration tests run it).
        let exe = std::env::current_exe().unwrap();
        let binary = exe.parent().and_then(Path::parent).unwrap().join("hookhub");
        assert!(
            binary.exists(),
            "{} is missing: cargo build -p server",
            binary.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let (database, log) = (dir.path().join("hub.db"), dir.path().join("hub.log"));

        let setting = database.to_string_lossy();
        let hub = Hub::spawn(&binary, dir.path(), &setting, &[], &log)
            .await
            .unwrap();
        let pid = hub.pid().expect("a process of its own");
        assert_ne!(pid, std::process::id());
        let memory = process::memory(Some(pid)).expect("its memory is readable");
        assert!(memory.rss > 0 && memory.heap.is_none());
        let health = reqwest::get(hub.url("/healthz")).await.unwrap();
        assert!(health.status().is_success());
        hub.stop().await.expect("it stops on SIGTERM and exits 0");
        assert!(process::memory(Some(pid)).is_none(), "it has exited");
        assert!(database.exists());

        let exits = Hub::spawn(Path::new("false"), dir.path(), &setting, &[], &log).await;
        let error = exits.err().expect("a hub that exits at once").to_string();
        assert!(error.contains("stopped while starting"), "{error}");
    }
}
