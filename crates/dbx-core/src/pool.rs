//! Pool settings and the idle reaper shared by the pooled adapters (PostgreSQL, MySQL).
//!
//! deadpool checks an object only when it hands it out; the reaper here closes idle and
//! over-age connections in the background as well.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use deadpool::managed::{Manager, Pool};

/// Pool limits and timeouts.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(default, rename_all = "kebab-case", deny_unknown_fields)
)]
pub struct PoolSettings {
    /// Most connections open at once.
    ///
    /// Default: 16.
    pub max_size: usize,
    /// Connections opened at start and kept through idle reaping.
    ///
    /// Default: 0.
    pub min_idle: usize,
    /// Longest wait to open a connection.
    ///
    /// Default: 10 s.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_duration::plain"))]
    pub connect_timeout: Duration,
    /// Longest wait for a free connection when all are in use.
    ///
    /// Default: 30 s.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_duration::plain"))]
    pub acquire_timeout: Duration,
    /// A connection unused this long is closed.
    ///
    /// Default: 10 minutes.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_duration::option"))]
    pub idle_timeout: Option<Duration>,
    /// A connection older than this is closed when next returned or checked.
    ///
    /// Default: 30 minutes.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_duration::option"))]
    pub max_lifetime: Option<Duration>,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_size: 16,
            min_idle: 0,
            connect_timeout: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(30),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
        }
    }
}

/// Closes idle and over-age connections in the background, keeping `min_idle` of them;
/// deadpool itself only checks an object when it is handed out.
pub fn spawn_reaper<M: Manager + 'static>(pool: &Pool<M>, settings: &PoolSettings)
where
    M::Type: Send,
{
    if settings.idle_timeout.is_none() && settings.max_lifetime.is_none() {
        return;
    }
    let period = settings
        .idle_timeout
        .into_iter()
        .chain(settings.max_lifetime)
        .min()
        .map_or(Duration::from_secs(30), |d| {
            (d / 2).clamp(Duration::from_millis(100), Duration::from_secs(30))
        });
    let weak = pool.weak();
    let (idle, lifetime, keep) = (
        settings.idle_timeout,
        settings.max_lifetime,
        settings.min_idle,
    );
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(period).await;
            let Some(pool) = weak.upgrade() else { return };
            if pool.is_closed() {
                return;
            }
            let kept = Arc::new(AtomicUsize::new(0));
            let reaped = pool.retain(|_, metrics| {
                let stale = idle.is_some_and(|d| metrics.last_used() >= d)
                    || lifetime.is_some_and(|d| metrics.age() >= d);
                let keep_anyway = !stale || kept.load(Ordering::Relaxed) < keep;
                if keep_anyway {
                    kept.fetch_add(1, Ordering::Relaxed);
                }
                keep_anyway
            });
            drop(reaped);
        }
    });
}
