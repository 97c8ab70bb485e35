//! What the protocol itself costs per request: one point select as a direct dbx-sqlite call,
//! through the Hrana router in this process (decode, stream, dispatch, encode; no socket),
//! and through `dbx serve` over loopback by HTTP and by WebSocket. Interleaved, one client.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use axum::body::Body;
use dbx_core::{Adapter, Statement};
use dbx_sqlite::{SqliteAdapter, SqliteOptions};
use http_body_util::BodyExt;
use serde::Serialize;
use tower::ServiceExt;

use super::load::{Client, Kind, SQL, http_request};
use crate::Scale;
use crate::stats::{Samples, SplitMix, Summary};

/// One way of running the statement, and its cost beyond the direct call.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WayCost {
    pub(crate) label: &'static str,
    pub(crate) summary: Summary,
    /// p50 minus the direct call's p50, µs.
    pub(crate) over_direct_us: f64,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ProtocolCost {
    pub(crate) paths: Vec<WayCost>,
}

enum Way {
    Direct(SqliteAdapter),
    Router(axum::Router),
    Socket(Box<Client>),
}

impl Way {
    async fn once(&mut self, rng: &mut SplitMix) -> Result<()> {
        match self {
            Way::Direct(db) => {
                let id = rng.one_to(crate::overhead::TABLE_ROWS.unsigned_abs());
                let rows = db.query(Statement::new(SQL).bind(id)).await?;
                ensure!(rows.rows.len() == 1, "no row {id}");
                Ok(())
            }
            Way::Router(router) => {
                let (path, content_type, body, ids) = http_request(Kind::HttpJsonV2, rng);
                let request = axum::http::Request::post(path)
                    .header("content-type", content_type)
                    .body(Body::from(body))?;
                let response = router.clone().oneshot(request).await?;
                ensure!(response.status() == 200, "HTTP {}", response.status());
                let bytes = response.into_body().collect().await?.to_bytes();
                let text = std::str::from_utf8(&bytes)?;
                ensure!(
                    text.contains(&format!("\"user{}\"", ids[0])),
                    "wrong answer {text}"
                );
                Ok(())
            }
            Way::Socket(client) => client.request(rng).await,
        }
    }
}

/// Measures every way on the database file `dbx serve` at `addr` serves.
pub(crate) async fn measure(file: &Path, addr: SocketAddr, scale: Scale) -> Result<ProtocolCost> {
    let open = || SqliteAdapter::open(SqliteOptions::new(file));
    let state = dbx_hrana::ServerState::new(Arc::new(open().await?), dbx_hrana::Config::default());
    let mut ways = [
        ("direct dbx-sqlite call", Way::Direct(open().await?)),
        (
            "Hrana router in-process (HTTP v2 JSON, no socket)",
            Way::Router(dbx_hrana::router(state)),
        ),
        (
            "dbx serve over loopback: HTTP v2 JSON",
            Way::Socket(Box::new(Client::connect(Kind::HttpJsonV2, addr).await?)),
        ),
        (
            "dbx serve over loopback: WebSocket",
            Way::Socket(Box::new(Client::connect(Kind::WebSocket, addr).await?)),
        ),
    ];
    let (rounds, per_round) = match scale {
        Scale::Quick => (2, 10),
        Scale::Full => (40, 250),
    };
    let mut samples = vec![Samples::default(); ways.len()];
    let mut rng = SplitMix::new(0xC057);
    for (_, way) in &mut ways {
        for _ in 0..20 {
            way.once(&mut rng).await.context("warming up")?;
        }
    }
    for round in 0..rounds {
        for k in 0..ways.len() {
            let i = (k + round) % ways.len();
            let (label, way) = &mut ways[i];
            for _ in 0..per_round {
                let t = Instant::now();
                way.once(&mut rng).await.with_context(|| label.to_owned())?;
                samples[i].push(t.elapsed());
            }
        }
    }
    let summaries: Vec<Summary> = samples.iter().map(Samples::summary).collect();
    let direct = summaries[0].p50_us;
    Ok(ProtocolCost {
        paths: ways
            .iter()
            .zip(summaries)
            .map(|((label, _), summary)| WayCost {
                label,
                over_direct_us: summary.p50_us - direct,
                summary,
            })
            .collect(),
    })
}
