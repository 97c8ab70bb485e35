//! Counters kept by the server itself, served at `GET /v1/stats` with the admin API: what
//! operators and tests read to see where statements went.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::extract::State;
use dbx_core::sql::{Dialect, is_read_only};
use serde::Serialize;

use super::ServerState;

/// Statements executed, and how many of them may write (by dbx's conservative reading).
#[derive(Debug, Default)]
pub(crate) struct Stats {
    statements: AtomicU64,
    writes: AtomicU64,
    streams_open: AtomicU64,
}

impl Stats {
    pub(crate) fn stream_opened(&self) {
        self.streams_open.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stream_closed(&self) {
        self.streams_open.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn count(&self, sql: &str, dialect: Dialect) {
        self.statements.fetch_add(1, Ordering::Relaxed);
        if !is_read_only(sql, dialect) {
            self.writes.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The counters at one moment, as `GET /v1/stats` returns them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StatsSnapshot {
    /// Statements executed through `execute`, batches and cursors.
    pub statements: u64,
    /// Of those, statements that may write (transaction control counts as reading).
    pub writes: u64,
    /// Streams open now, over HTTP and WebSocket.
    #[serde(default)]
    pub streams_open: u64,
}

impl ServerState {
    /// The server's counters now.
    pub fn stats(&self) -> StatsSnapshot {
        StatsSnapshot {
            statements: self.stats.statements.load(Ordering::Relaxed),
            writes: self.stats.writes.load(Ordering::Relaxed),
            streams_open: self.stats.streams_open.load(Ordering::Relaxed),
        }
    }
}

/// `GET /v1/stats`.
pub(crate) async fn report(State(state): State<Arc<ServerState>>) -> Json<StatsSnapshot> {
    Json(state.stats())
}
