//! What `dbx serve` costs to keep: the binary's size, and its memory and descriptors idle and
//! after a long run of Hrana requests.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use serde::Serialize;

use crate::Scale;
use crate::databases::sqlite_file;
use crate::hrana::{Kind, send};
use crate::serve::Served;
use crate::sys::{self, ProcessUse};

/// Clients that send the requests.
const CLIENTS: usize = 16;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Footprint {
    pub(crate) binary_mib: f64,
    pub(crate) stripped_mib: f64,
    pub(crate) idle: ProcessUse,
    pub(crate) requests: usize,
    pub(crate) requests_s: f64,
    pub(crate) after: ProcessUse,
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The size of `dbx` with its symbols and line tables stripped, as a distribution would ship.
fn stripped_size(binary: &Path) -> Result<u64> {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("dbx");
    let status = std::process::Command::new("strip")
        .arg("--strip-all")
        .arg("-o")
        .arg(&out)
        .arg(binary)
        .status()
        .context("running strip (binutils)")?;
    ensure!(status.success(), "strip failed on {}", binary.display());
    Ok(std::fs::metadata(&out)?.len())
}

pub(crate) async fn run(scale: Scale, dbx: &Path) -> Result<Footprint> {
    let wanted = match scale {
        Scale::Quick => 1_000,
        Scale::Full => 100_000,
    };
    let dir = tempfile::tempdir()?;
    sqlite_file(&dir.path().join("dbx.db"))?;
    let served = Served::sqlite(dbx, dir.path()).await?;
    // Let start-up settle (lazy allocations, the first stream sweep) before reading.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pid = served.pid.to_string();
    let idle = sys::process_use(&pid)?;
    let started = Instant::now();
    let requests = send(Kind::HttpJsonV2, served.addr, CLIENTS, wanted).await?;
    let requests_s = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = sys::process_use(&pid)?;
    served.stop().await?;
    Ok(Footprint {
        binary_mib: mib(std::fs::metadata(dbx)?.len()),
        stripped_mib: mib(stripped_size(dbx)?),
        idle,
        requests,
        requests_s,
        after,
    })
}
