//! The lock that lets one runner migrate a database while others wait.
//!
//! - PostgreSQL: a session advisory lock keyed by the schema, on a connection held for the run.
//! - MySQL: `GET_LOCK` named after the database, on a connection held for the run.
//! - SQLite and libSQL: a lease row in `_dbx_migrations_lock`, taken inside `BEGIN IMMEDIATE`,
//!   renewed by a heartbeat and checked again inside every migration's own transaction.
//!
//! A crashed holder cannot keep the lock: the server drops a dead client's session locks, and
//! a lease whose process is gone (same host) or whose time has run out is taken over.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dbx_core::{Adapter, AdapterKind, Connection, Statement};
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;

use lease::{acquire_lease, renew_statement};

use crate::error::{Context, Error, Result};

mod lease;

/// The lease table for SQLite-family backends.
pub const LOCK_TABLE: &str = "_dbx_migrations_lock";

/// How the lock waits and how long a lease lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockOptions {
    /// How long to wait for another runner before giving up.
    pub timeout: Duration,
    /// How long a SQLite/libSQL lease lasts without a heartbeat.
    pub lease: Duration,
    /// How often to look again while waiting.
    pub poll: Duration,
}

impl Default for LockOptions {
    fn default() -> Self {
        LockOptions {
            timeout: Duration::from_secs(600),
            lease: Duration::from_secs(30),
            poll: Duration::from_millis(100),
        }
    }
}

pub(super) enum Held {
    Session {
        conn: Box<dyn Connection>,
        unlock: Statement,
    },
    Lease {
        adapter: Arc<dyn Adapter>,
        holder: String,
        lease: Duration,
        heartbeat: JoinHandle<()>,
    },
}

/// A held lock. Call [`release`](MigrationLock::release); dropping it releases in the
/// background as a fallback.
pub(crate) struct MigrationLock {
    pub(super) held: Option<Held>,
    /// Whether another runner held it when this one first asked.
    pub(crate) waited: bool,
}

impl std::fmt::Debug for MigrationLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MigrationLock")
            .field("waited", &self.waited)
            .finish()
    }
}

/// Takes the lock for `adapter`'s database (or tenant), waiting up to `options.timeout`.
/// `on_wait` is told once who holds it when this runner has to wait.
pub(crate) async fn acquire(
    adapter: &Arc<dyn Adapter>,
    options: LockOptions,
    on_wait: &(dyn Fn(&str) + Send + Sync),
) -> Result<MigrationLock> {
    match adapter.kind() {
        AdapterKind::Postgres | AdapterKind::Mysql => {
            acquire_session(adapter, options, on_wait).await
        }
        AdapterKind::Sqlite | AdapterKind::Libsql => acquire_lease(adapter, options, on_wait).await,
    }
}

fn lock_key(scope: &str) -> [u8; 8] {
    let digest = Sha256::digest(format!("dbx-migrate:{scope}").as_bytes());
    let mut key = [0u8; 8];
    key.copy_from_slice(&digest[..8]);
    key
}

async fn acquire_session(
    adapter: &Arc<dyn Adapter>,
    options: LockOptions,
    on_wait: &(dyn Fn(&str) + Send + Sync),
) -> Result<MigrationLock> {
    let kind = adapter.kind();
    let mut conn = adapter
        .connection()
        .await
        .context(|| "opening a connection for the migration lock".to_owned())?;
    let scope_sql = if kind == AdapterKind::Postgres {
        "SELECT current_schema()"
    } else {
        "SELECT DATABASE()"
    };
    let scope: String = conn
        .query(Statement::new(scope_sql))
        .await
        .and_then(|r| r.scalar::<Option<String>>())
        .context(|| "finding the schema to lock".to_owned())?
        .unwrap_or_default();
    let key = lock_key(&scope);
    let (try_lock, unlock, who) = if kind == AdapterKind::Postgres {
        let id = i64::from_be_bytes(key);
        (
            Statement::with_args("SELECT pg_try_advisory_lock(?)", [id]),
            Statement::with_args("SELECT pg_advisory_unlock(?)", [id]),
            Statement::with_args(
                "SELECT 'PostgreSQL backend ' || pid::text || ' (' || coalesce(application_name, '') || ')' \
                 FROM pg_stat_activity WHERE pid = (SELECT pid FROM pg_locks WHERE locktype = 'advisory' \
                 AND granted AND ((classid::bigint << 32) | objid::bigint) = ? LIMIT 1)",
                [id],
            ),
        )
    } else {
        // MySQL lock names are at most 64 characters.
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        let name = format!("dbx_migrate_{hex}");
        (
            Statement::with_args("SELECT GET_LOCK(?, 0)", [name.as_str()]),
            Statement::with_args("SELECT RELEASE_LOCK(?)", [name.as_str()]),
            Statement::with_args(
                "SELECT CONCAT('MySQL connection ', IS_USED_LOCK(?))",
                [name.as_str()],
            ),
        )
    };
    let started = Instant::now();
    let mut waited = false;
    loop {
        let got: bool = conn
            .query(try_lock.clone())
            .await
            .and_then(|r| r.scalar::<Option<bool>>())
            .context(|| "taking the migration lock".to_owned())?
            .unwrap_or(false);
        if got {
            return Ok(MigrationLock {
                held: Some(Held::Session { conn, unlock }),
                waited,
            });
        }
        let holder = conn
            .query(who.clone())
            .await
            .ok()
            .and_then(|r| r.scalar::<Option<String>>().ok().flatten())
            .unwrap_or_else(|| "another runner".to_owned());
        if !waited {
            waited = true;
            on_wait(&holder);
        }
        check_timeout(started, options, &holder)?;
        tokio::time::sleep(options.poll).await;
    }
}

pub(super) fn check_timeout(started: Instant, options: LockOptions, holder: &str) -> Result<()> {
    if started.elapsed() >= options.timeout {
        return Err(Error::LockTimeout {
            waited_secs: started.elapsed().as_secs(),
            holder: holder.to_owned(),
        });
    }
    Ok(())
}

impl MigrationLock {
    /// For a lease: the statement that renews it, to run inside each migration's own
    /// transaction (or session) so that a runner that lost its lease stops. It must affect
    /// one row; see [`lost`](Self::lost).
    pub(crate) fn fence(&self) -> Option<Statement> {
        match &self.held {
            Some(Held::Lease { holder, lease, .. }) => Some(renew_statement(holder, *lease)),
            _ => None,
        }
    }

    /// Checks the outcome of running [`fence`](Self::fence): an error when the lease was
    /// taken over.
    pub(crate) async fn check_fence(
        &self,
        renewed: dbx_core::Result<dbx_core::ExecResult>,
    ) -> Result<()> {
        let renewed = renewed.context(|| "renewing the migration lease".to_owned())?;
        if renewed.rows_affected == 1 {
            Ok(())
        } else {
            Err(self.lost().await)
        }
    }

    /// The error for a fence that affected no row.
    async fn lost(&self) -> Error {
        let (adapter, lease) = match &self.held {
            Some(Held::Lease { adapter, lease, .. }) => (adapter.clone(), *lease),
            _ => return Error::Invalid("the migration lock was lost".to_owned()),
        };
        let holder = adapter
            .query(Statement::new(format!(
                "SELECT holder FROM {LOCK_TABLE} WHERE id = 1"
            )))
            .await
            .ok()
            .and_then(|r| r.scalar::<Option<String>>().ok().flatten())
            .unwrap_or_else(|| "nobody".to_owned());
        Error::LockLost {
            holder,
            lease_secs: lease.as_secs(),
        }
    }

    /// Releases the lock.
    pub(crate) async fn release(mut self) {
        if let Some(held) = self.held.take() {
            release_held(held).await;
        }
    }
}

async fn release_held(held: Held) {
    match held {
        Held::Session { mut conn, unlock } => {
            if let Err(e) = conn.query(unlock).await {
                tracing::warn!(error = %e, "could not release the migration lock; it ends with the connection");
            }
        }
        Held::Lease {
            adapter,
            holder,
            heartbeat,
            ..
        } => {
            heartbeat.abort();
            let release = Statement::with_args(
                format!("DELETE FROM {LOCK_TABLE} WHERE id = 1 AND holder = ?"),
                [holder.as_str()],
            );
            if let Err(e) = adapter.execute(release).await {
                tracing::warn!(error = %e, "could not release the migration lease; it expires on its own");
            }
        }
    }
}

impl Drop for MigrationLock {
    fn drop(&mut self) {
        // Reached only when a run was cancelled mid-way: release from a task.
        if let Some(held) = self.held.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(release_held(held));
        }
    }
}
