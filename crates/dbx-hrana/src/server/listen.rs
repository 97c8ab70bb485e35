//! Accepting connections with bounds that hold against clients that never finish a request:
//! a time limit on reading a request's head, and a cap on open connections that, when
//! reached, closes the connection that has waited longest without a request in flight, so
//! that a flood of idle or half-sent connections cannot lock everyone else (a health check
//! included) out.
//!
//! axum's own `serve` has no timer, so a request head may take forever; this loop runs
//! hyper's HTTP/1 server with one, connection by connection, with upgrades for WebSocket.
//! Upgraded connections count against the cap for as long as they are open; they are never
//! the ones closed to make room (the Hrana `hello` timeout deals with idle ones).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;
use tower::ServiceExt as _;

/// The bounds of a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenLimits {
    /// Connections open at once, HTTP and WebSocket; at the cap, the connection that has
    /// waited longest between requests is closed to make room for a new one.
    ///
    /// Default: 10,000.
    pub max_connections: usize,
    /// How long a client has to send a request's head, counted from the moment the server
    /// waits for it (after connecting, and between requests of a kept-alive connection).
    ///
    /// Default: 10 s.
    pub header_read_timeout: Duration,
}

impl Default for ListenLimits {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            header_read_timeout: Duration::from_secs(10),
        }
    }
}

/// One open connection, as the cap sees it.
#[derive(Debug)]
struct Tracked {
    /// Requests in flight.
    busy: AtomicUsize,
    /// When it last finished a request, or was accepted.
    idle_since: Mutex<Instant>,
    /// Upgraded to a WebSocket: no longer served by hyper, never closed to make room.
    upgraded: AtomicBool,
    /// Stops the task serving it.
    task: Mutex<Option<AbortHandle>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Every open connection.
#[derive(Debug, Default)]
struct Registry {
    open: Mutex<HashMap<u64, Arc<Tracked>>>,
    next: AtomicU64,
}

impl Registry {
    /// Makes room for one more connection: closes the one that has waited longest between
    /// requests. Returns false when every open connection is busy or upgraded.
    ///
    /// A connection already told to close stays in the map (its socket is still open) until
    /// its task is dropped, which the runtime does later; it is never picked again, or a burst
    /// of accepts would all pick it and each be refused.
    fn make_room(&self, max: usize) -> bool {
        let open = lock(&self.open);
        if open.len() < max {
            return true;
        }
        let victim = open
            .values()
            .filter_map(|t| {
                let closable =
                    t.busy.load(Ordering::Acquire) == 0 && !t.upgraded.load(Ordering::Acquire);
                let task = lock(&t.task);
                (closable && task.is_some()).then(|| (*lock(&t.idle_since), t))
            })
            .min_by_key(|(idle_since, _)| *idle_since);
        match victim.and_then(|(_, t)| lock(&t.task).take()) {
            Some(task) => {
                task.abort();
                true
            }
            None => false,
        }
    }
}

/// Removes a connection from the registry when its socket is finally closed, which for an
/// upgraded connection is when the WebSocket ends.
#[derive(Debug)]
struct Entry {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for Entry {
    fn drop(&mut self) {
        lock(&self.registry.open).remove(&self.id);
    }
}

/// The socket, carrying its registry entry wherever hyper moves it (into an upgrade too).
#[derive(Debug)]
struct Counted {
    io: TcpStream,
    _entry: Entry,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes, then lets
/// requests in flight finish (the caller bounds how long it waits for that).
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    limits: ListenLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let registry = Arc::new(Registry::default());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
            // Reap finished connection tasks so the set does not grow.
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        let (socket, _) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors, or a connection reset before it was accepted: wait a
                // moment instead of spinning, and go on.
                tracing::warn!("accepting a connection failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if !registry.make_room(limits.max_connections) {
            // Every connection is in use: this one is refused by closing it.
            drop(socket);
            continue;
        }
        let _ = socket.set_nodelay(true);
        let id = registry.next.fetch_add(1, Ordering::Relaxed);
        let tracked = Arc::new(Tracked {
            busy: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
            upgraded: AtomicBool::new(false),
            task: Mutex::new(None),
        });
        lock(&registry.open).insert(id, tracked.clone());
        let io = Counted {
            io: socket,
            _entry: Entry {
                registry: registry.clone(),
                id,
            },
        };
        let task = tasks.spawn(serve_connection(
            io,
            router.clone(),
            tracked.clone(),
            limits.header_read_timeout,
            stop_rx.clone(),
        ));
        *lock(&tracked.task) = Some(task);
    }
    // No new connections; ask the open ones to finish what they are doing.
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
    Ok(())
}

async fn serve_connection(
    io: Counted,
    router: Router,
    tracked: Arc<Tracked>,
    header_read_timeout: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let state = tracked.clone();
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let router = router.clone();
        let state = state.clone();
        async move {
            state.busy.fetch_add(1, Ordering::AcqRel);
            let response = router.oneshot(request.map(Body::new)).await;
            if let Ok(response) = &response
                && response.status() == StatusCode::SWITCHING_PROTOCOLS
            {
                state.upgraded.store(true, Ordering::Release);
            }
            *lock(&state.idle_since) = Instant::now();
            state.busy.fetch_sub(1, Ordering::AcqRel);
            response
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let connection = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = stop.wait_for(|stopping| *stopping) => {}
    }
    connection.as_mut().graceful_shutdown();
    let _ = connection.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idle_connection(registry: &Registry, task: AbortHandle) -> u64 {
        let id = registry.next.fetch_add(1, Ordering::Relaxed);
        let tracked = Arc::new(Tracked {
            busy: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
            upgraded: AtomicBool::new(false),
            task: Mutex::new(Some(task)),
        });
        lock(&registry.open).insert(id, tracked);
        id
    }

    #[tokio::test]
    async fn a_burst_of_accepts_closes_a_new_victim_each_time() {
        let registry = Registry::default();
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let task = tokio::spawn(std::future::pending::<()>());
            idle_connection(&registry, task.abort_handle());
            tasks.push(task);
        }
        // The aborted tasks are not polled in between, as in a burst: their entries stay.
        assert!(registry.make_room(3));
        assert!(registry.make_room(3));
        assert!(registry.make_room(3));
        assert!(!registry.make_room(3), "nothing left to close");
        for task in tasks {
            assert!(task.await.unwrap_err().is_cancelled());
        }
    }
}
