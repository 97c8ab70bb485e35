//! A dbx Hrana server on a real loopback socket, for suites that need a libSQL server.

use std::sync::Arc;

use dbx_core::Adapter;
use dbx_hrana::{Config, ServerState};

/// A running server; dropping it shuts the server down.
#[derive(Debug)]
pub struct HranaServer {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The server's state, for its counters.
    pub state: Arc<ServerState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    serving: Option<tokio::task::JoinHandle<()>>,
    _dir: Option<tempfile::TempDir>,
}

impl HranaServer {
    /// Serves `adapter`; `dir` (the database's directory, if any) lives as long as the server.
    pub async fn start(
        adapter: Arc<dyn Adapter>,
        config: Config,
        dir: Option<tempfile::TempDir>,
    ) -> Self {
        Self::serve(ServerState::new(adapter, config), dir).await
    }

    /// Serves `state` (for example one with namespaces).
    pub async fn serve(state: Arc<ServerState>, dir: Option<tempfile::TempDir>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("a bound address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state_for_task = state.clone();
        let serving = tokio::spawn(async move {
            let _ = dbx_hrana::serve(listener, state_for_task, async move {
                let _ = stopped.await;
            })
            .await;
        });
        Self {
            url,
            state,
            stop: Some(stop),
            serving: Some(serving),
            _dir: dir,
        }
    }

    /// A server over a fresh SQLite file.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        let db = dbx_sqlite::SqliteAdapter::open(dbx_sqlite::SqliteOptions::new(
            dir.path().join("served.db"),
        ))
        .await
        .expect("open SQLite");
        Self::start(Arc::new(db), Config::default(), Some(dir)).await
    }

    /// Stops serving: new connections are refused.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Stops serving and waits until the server has let go of its socket and its
    /// connections, so that what follows meets a server that is gone.
    pub async fn stop_and_wait(&mut self) {
        self.stop();
        if let Some(serving) = self.serving.take() {
            tokio::time::timeout(std::time::Duration::from_secs(20), serving)
                .await
                .expect("the server did not stop within 20 s")
                .expect("the server task failed");
        }
    }
}

impl Drop for HranaServer {
    fn drop(&mut self) {
        self.stop();
    }
}
