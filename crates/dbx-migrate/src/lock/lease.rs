//! The SQLite/libSQL lease: a row in `_dbx_migrations_lock` naming its holder (host, pid and a
//! random run id) and when it expires. It is taken inside `BEGIN IMMEDIATE`, renewed by a
//! heartbeat, and taken over when it expires or its process is gone.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dbx_core::{Adapter, Statement, Value};
use tokio::task::JoinHandle;

use super::{Held, LOCK_TABLE, LockOptions, MigrationLock, check_timeout};
use crate::error::{Context, Error, Result};

fn now_ms() -> i64 {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".to_owned())
}

/// Whether a process on this host is still running. Only Linux can tell; elsewhere the
/// lease's expiry is the only way to take over.
fn process_alive(pid: i64) -> bool {
    if cfg!(target_os = "linux") {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

pub(super) async fn acquire_lease(
    adapter: &Arc<dyn Adapter>,
    options: LockOptions,
    on_wait: &(dyn Fn(&str) + Send + Sync),
) -> Result<MigrationLock> {
    let started = Instant::now();
    let host = host_name();
    let pid = i64::from(std::process::id());
    let nonce = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let holder = format!("{host} pid {pid} run {nonce:016x}");
    let mut waited = false;
    loop {
        // Look first with a plain read, which a running migration does not block; taking the
        // lease needs the write lock, which a running migration holds for its whole length.
        let seen = match live_holder(adapter.as_ref(), &host, pid).await {
            Err(Error::Database { source, .. })
                if source.kind() == dbx_core::ErrorKind::UndefinedTable =>
            {
                if !create_lock_table(adapter.as_ref()).await? {
                    waited = true;
                    check_timeout(started, options, "another writer")?;
                    tokio::time::sleep(options.poll).await;
                    continue;
                }
                None
            }
            other => other?,
        };
        if let Some(current) = seen {
            if !waited {
                waited = true;
                on_wait(&current);
            }
            check_timeout(started, options, &current)?;
            tokio::time::sleep(options.poll).await;
            continue;
        }
        let taken = try_take_lease(adapter.as_ref(), &holder, &host, pid, options.lease).await;
        // SQLite blocks the lease table's creation and the lease's `BEGIN IMMEDIATE` while
        // another process writes (a runner that started a moment earlier and is migrating):
        // that is waiting for it too, though no holder was ever seen.
        if started.elapsed() > options.poll * 5 && !waited {
            waited = true;
            on_wait("another process writing to the database");
        }
        match taken {
            Ok(None) => {
                let heartbeat = spawn_heartbeat(adapter.clone(), holder.clone(), options.lease);
                return Ok(MigrationLock {
                    held: Some(Held::Lease {
                        adapter: adapter.clone(),
                        holder,
                        lease: options.lease,
                        heartbeat,
                    }),
                    waited,
                });
            }
            Ok(Some(current)) => {
                if !waited {
                    waited = true;
                    on_wait(&current);
                }
                check_timeout(started, options, &current)?;
            }
            // Another process is writing (perhaps migrating): that is waiting too.
            Err(e) if e.kind() == dbx_core::ErrorKind::Busy => {
                if !waited {
                    waited = true;
                    on_wait("another writer");
                }
                check_timeout(started, options, "another writer")?;
            }
            Err(e) => return Err(e).context(|| "taking the migration lease".to_owned()),
        }
        tokio::time::sleep(options.poll).await;
    }
}

/// Creates the lease table. Even `CREATE TABLE IF NOT EXISTS` needs the write lock, which a
/// running migration holds, so it is only run when the table is missing; a busy database
/// here (`false`) means another runner is ahead, and the caller waits as for a held lease.
async fn create_lock_table(adapter: &dyn Adapter) -> Result<bool> {
    let created = adapter
        .execute(Statement::new(format!(
            "CREATE TABLE IF NOT EXISTS {LOCK_TABLE} (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                holder TEXT NOT NULL,
                host TEXT NOT NULL,
                pid INTEGER NOT NULL,
                expires_at_ms INTEGER NOT NULL
            )"
        )))
        .await;
    match created {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == dbx_core::ErrorKind::Busy => Ok(false),
        Err(e) => Err(e).context(|| format!("creating {LOCK_TABLE}")),
    }
}

/// Whether a lease is held by a live runner, and by whom.
fn live_lease(row: &dbx_core::Row, host: &str, pid: i64) -> dbx_core::Result<Option<String>> {
    let (other, other_host, other_pid, expires): (String, String, i64, i64) =
        (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
    let dead = other_host == host && other_pid != pid && !process_alive(other_pid);
    Ok((expires > now_ms() && !dead).then_some(other))
}

const SELECT_LEASE: &str =
    "SELECT holder, host, pid, expires_at_ms FROM _dbx_migrations_lock WHERE id = 1";

async fn live_holder(adapter: &dyn Adapter, host: &str, pid: i64) -> Result<Option<String>> {
    let rows = adapter
        .query(Statement::new(SELECT_LEASE))
        .await
        .context(|| "reading the migration lease".to_owned())?;
    match rows.first() {
        Some(row) => {
            live_lease(row, host, pid).context(|| "reading the migration lease".to_owned())
        }
        None => Ok(None),
    }
}

/// Takes the lease when it is free, expired or held by a dead process on this host.
/// Returns the current holder when it is not.
async fn try_take_lease(
    adapter: &dyn Adapter,
    holder: &str,
    host: &str,
    pid: i64,
    lease: Duration,
) -> dbx_core::Result<Option<String>> {
    let mut tx = adapter.transaction().await?;
    let current = tx.query(Statement::new(SELECT_LEASE)).await?;
    if let Some(row) = current.first() {
        if let Some(other) = live_lease(row, host, pid)? {
            tx.rollback().await?;
            return Ok(Some(other));
        }
        let previous: String = row.get(0)?;
        tracing::warn!(%previous, "taking over a migration lease that its runner did not release");
    }
    tx.execute(Statement::with_args(
        format!(
            "INSERT OR REPLACE INTO {LOCK_TABLE} (id, holder, host, pid, expires_at_ms) \
             VALUES (1, ?, ?, ?, ?)"
        ),
        [
            Value::from(holder),
            Value::from(host),
            Value::from(pid),
            Value::from(now_ms() + duration_ms(lease)),
        ],
    ))
    .await?;
    tx.commit().await?;
    Ok(None)
}

pub(super) fn renew_statement(holder: &str, lease: Duration) -> Statement {
    Statement::with_args(
        format!("UPDATE {LOCK_TABLE} SET expires_at_ms = ? WHERE id = 1 AND holder = ?"),
        [
            Value::from(now_ms() + duration_ms(lease)),
            Value::from(holder),
        ],
    )
}

fn spawn_heartbeat(adapter: Arc<dyn Adapter>, holder: String, lease: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(lease / 3).await;
            if let Err(e) = adapter.execute(renew_statement(&holder, lease)).await {
                tracing::warn!(error = %e, "could not renew the migration lease");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::acquire;

    async fn sqlite(path: &std::path::Path) -> Arc<dyn Adapter> {
        Arc::new(
            dbx_sqlite::SqliteAdapter::open(dbx_sqlite::SqliteOptions::new(path))
                .await
                .unwrap(),
        )
    }

    fn quiet(_: &str) {}

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_runner_that_lost_its_lease_is_fenced_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        // Two adapters on one file: two processes, as far as SQLite can tell.
        let (a, b) = (sqlite(&path).await, sqlite(&path).await);
        let options = LockOptions {
            lease: Duration::from_millis(300),
            timeout: Duration::from_secs(10),
            poll: Duration::from_millis(20),
        };
        let first = acquire(&a, options, &quiet).await.unwrap();
        // The first runner stalls: no heartbeat, and its lease runs out.
        if let Some(Held::Lease { heartbeat, .. }) = &first.held {
            heartbeat.abort();
        }
        let second = acquire(&b, options, &quiet).await.unwrap();
        assert!(
            second.waited,
            "the second runner waited for the lease to run out"
        );

        // The first runner's next migration checks its lease in its own transaction.
        let fence = first.fence().unwrap();
        let outcome = a.execute(fence).await;
        let err = first.check_fence(outcome).await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::LockLost, "{err}");
        assert!(
            err.to_string().contains("pid"),
            "names the new holder: {err}"
        );

        // The second runner still holds it, and its fence passes.
        let outcome = b.execute(second.fence().unwrap()).await;
        second.check_fence(outcome).await.unwrap();
        let leases = async || {
            b.query(Statement::new(format!("SELECT COUNT(*) FROM {LOCK_TABLE}")))
                .await
                .unwrap()
                .scalar::<i64>()
                .unwrap()
        };
        first.release().await;
        assert_eq!(
            leases().await,
            1,
            "the loser's release leaves the winner's lease alone"
        );
        second.release().await;
        assert_eq!(leases().await, 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lease_left_by_a_dead_process_is_taken_over_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite(&dir.path().join("db.sqlite")).await;
        let options = LockOptions::default();
        // Take and drop a lease, then rewrite it as held for an hour by a pid that is gone.
        acquire(&db, options, &quiet).await.unwrap().release().await;
        let gone = i64::from(u32::MAX - 7);
        db.execute(Statement::with_args(
            format!("INSERT INTO {LOCK_TABLE} (id, holder, host, pid, expires_at_ms) VALUES (1, 'ghost', ?, ?, ?)"),
            [Value::from(host_name()), Value::from(gone), Value::from(now_ms() + 3_600_000)],
        ))
        .await
        .unwrap();
        let lock = acquire(&db, options, &quiet).await.unwrap();
        assert!(!lock.waited, "a dead holder is not waited for");
        lock.release().await;
    }
}
