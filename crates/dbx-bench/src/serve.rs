//! `dbx serve` as a process of its own, as users run it: the load generator never shares a
//! runtime with the server it measures.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running `dbx serve`, killed if dropped before [`Served::stop`].
#[derive(Debug)]
pub(crate) struct Served {
    child: Child,
    pub(crate) addr: SocketAddr,
    pub(crate) pid: u32,
}

impl Served {
    /// Starts `dbx <global> serve --listen 127.0.0.1:0` and waits for its address line.
    pub(crate) async fn start(dbx: &Path, global: &[&str]) -> Result<Served> {
        ensure!(
            dbx.is_file(),
            "{} does not exist: build it first (`cargo xtask bench` does)",
            dbx.display()
        );
        // Only the configuration given here: none of the bench's own environment (DATABASE_URL,
        // POSTGRES_*, RUST_LOG, ...) may reach the server it measures.
        let mut child = Command::new(dbx)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .args(global)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", dbx.display()))?;
        let pid = child.id().context("dbx serve exited at once")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .context("dbx serve printed no address within 60 s")??
            .context("dbx serve exited before printing its address")?;
        let addr = first
            .strip_prefix("dbx listening on http://")
            .with_context(|| format!("unexpected first line {first:?}"))?
            .parse()?;
        // Keep reading, so that the pipe never fills and blocks the server.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Served { child, addr, pid })
    }

    /// `dbx serve` on its embedded SQLite, with `dir` as its data directory (where the caller
    /// may have prepared `dbx.db`).
    pub(crate) async fn sqlite(dbx: &Path, dir: &Path) -> Result<Served> {
        let data = dir.to_str().context("a data directory that is not UTF-8")?;
        Self::start(dbx, &["--data-dir", data]).await
    }

    /// `dbx serve` on the PostgreSQL database at `url`, its `dbx.toml` written into `dir`.
    pub(crate) async fn postgres(dbx: &Path, dir: &Path, url: &str) -> Result<Served> {
        let config = dir.join("dbx.toml");
        std::fs::write(
            &config,
            format!("[[adapters]]\nkind = \"postgres\"\n[adapters.connection]\nurl = \"{url}\"\n"),
        )?;
        let config = config.to_str().context("a directory that is not UTF-8")?;
        let data = dir.to_str().context("a directory that is not UTF-8")?;
        Self::start(dbx, &["--config", config, "--data-dir", data]).await
    }

    /// SIGTERM, then waits for a clean exit.
    pub(crate) async fn stop(mut self) -> Result<()> {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()?;
        ensure!(status.success(), "could not signal dbx serve");
        let exit = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .context("dbx serve did not stop within 30 s of SIGTERM")??;
        if !exit.success() {
            bail!("dbx serve exited with {exit} after SIGTERM");
        }
        Ok(())
    }
}
