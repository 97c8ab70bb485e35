//! Hrana under load: `dbx serve` as its own process on SQLite and on PostgreSQL, a Rust load
//! generator at 1, 16 and 64 clients, and the protocol's own cost per request.

mod cost;
mod load;
mod pb;

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

pub(crate) use load::{Client, Kind, check_http, http_request, send};

use crate::Scale;
use crate::databases::{PgDatabase, sqlite_file};
use crate::serve::Served;

/// Concurrent clients per cell.
pub(crate) const LEVELS: [usize; 3] = [1, 16, 64];

/// Every cell of one backend.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BackendLoad {
    pub(crate) backend: &'static str,
    pub(crate) setup: String,
    pub(crate) cells: Vec<load::Cell>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct HranaResult {
    pub(crate) backends: Vec<BackendLoad>,
    pub(crate) cost: cost::ProtocolCost,
    pub(crate) warmup_s: f64,
    pub(crate) measure_s: f64,
}

fn durations(scale: Scale) -> (Duration, Duration) {
    match scale {
        Scale::Quick => (Duration::from_millis(50), Duration::from_millis(200)),
        Scale::Full => (Duration::from_secs(1), Duration::from_secs(5)),
    }
}

async fn cells(backend: &'static str, served: &Served, scale: Scale) -> Result<Vec<load::Cell>> {
    let (warmup, measure) = durations(scale);
    let mut cells = Vec::new();
    for kind in Kind::ALL {
        for clients in LEVELS {
            cells.push(load::run_cell(kind, served.addr, clients, warmup, measure).await?);
        }
        eprintln!("  {backend}: {}", kind.title());
    }
    Ok(cells)
}

pub(crate) async fn run(scale: Scale, urls: &crate::ServerUrls, dbx: &Path) -> Result<HranaResult> {
    let dir = tempfile::tempdir()?;
    let file = sqlite_file(&dir.path().join("dbx.db"))?;
    let served = Served::sqlite(dbx, dir.path()).await?;
    let sqlite = BackendLoad {
        backend: "sqlite",
        setup: format!("dbx serve on its embedded SQLite {}", rusqlite::version()),
        cells: cells("sqlite", &served, scale).await?,
    };
    let cost = cost::measure(&file, served.addr, scale).await?;
    served.stop().await?;

    let db = PgDatabase::create(&urls.postgres, "hrana").await?;
    let served = Served::postgres(dbx, dir.path(), &db.url).await?;
    let postgres = BackendLoad {
        backend: "postgres",
        setup: format!("dbx serve on PostgreSQL {} (pool of 16)", db.version),
        cells: cells("postgres", &served, scale).await?,
    };
    served.stop().await?;
    db.drop_now().await?;

    let (warmup, measure) = durations(scale);
    Ok(HranaResult {
        backends: vec![sqlite, postgres],
        cost,
        warmup_s: warmup.as_secs_f64(),
        measure_s: measure.as_secs_f64(),
    })
}
