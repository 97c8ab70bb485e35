//! File-per-tenant: one `<tenant>.db` per tenant under a directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dbx_core::tenancy::{TenantCache, TenantCacheConfig, TenantCacheStats};
use dbx_core::{Adapter, Error, Result, TenancyPolicy, TenantId, TenantManager, async_trait};

use crate::adapter::SqliteAdapter;
use crate::options::SqliteOptions;

/// The files SQLite may keep beside a database.
const SIDE_FILES: [&str; 3] = ["-wal", "-shm", "-journal"];

/// SQLite tenants: `<dir>/<tenant>.db`, opened on first access and kept in an LRU.
#[derive(Debug)]
pub struct SqliteTenants {
    dir: PathBuf,
    template: SqliteOptions,
    cache: TenantCache,
    /// Serializes create, delete and open, so that an open never races a delete of the same
    /// files.
    lifecycle: tokio::sync::Mutex<()>,
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::ConnectionLost(format!("a file-system task failed: {e}")))
}

impl SqliteTenants {
    /// Tenants under `dir` (created if missing), each opened with `template`'s settings
    /// (its `path` is ignored).
    pub async fn open(
        dir: impl Into<PathBuf>,
        template: SqliteOptions,
        cache: TenantCacheConfig,
    ) -> Result<Self> {
        let dir = dir.into();
        let for_create = dir.clone();
        blocking(move || {
            std::fs::create_dir_all(&for_create).map_err(|e| Error::io(&for_create, e))
        })
        .await??;
        Ok(Self {
            dir,
            template,
            cache: TenantCache::new(cache),
            lifecycle: Default::default(),
        })
    }

    /// The directory holding the tenant files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The database file of a tenant.
    pub fn path_of(&self, id: &TenantId) -> PathBuf {
        self.dir.join(format!("{id}.db"))
    }

    /// Applies pending cache evictions now.
    pub async fn run_pending_evictions(&self) {
        self.cache.run_pending_tasks().await;
    }

    async fn exists(&self, id: &TenantId) -> Result<bool> {
        let path = self.path_of(id);
        blocking(move || path.try_exists().map_err(|e| Error::io(&path, e))).await?
    }

    async fn open_tenant(&self, id: &TenantId, create: bool) -> Result<Arc<dyn Adapter>> {
        let options = SqliteOptions {
            path: self.path_of(id),
            create_if_missing: create,
            ..self.template.clone()
        };
        Ok(Arc::new(SqliteAdapter::open(options).await?))
    }
}

#[async_trait]
impl TenantManager for SqliteTenants {
    fn policy(&self) -> TenancyPolicy {
        TenancyPolicy::FilePerTenant
    }

    async fn create_tenant(&self, id: &TenantId) -> Result<()> {
        let _lifecycle = self.lifecycle.lock().await;
        if self.exists(id).await? {
            return Err(Error::TenantExists { id: id.to_string() });
        }
        // Create the file (and set its journal mode), then close it. The cache is left alone
        // on purpose: a concurrent `tenant()` of this id may be waiting in the cache for the
        // lifecycle lock held here, and waiting on it in turn would deadlock.
        let created = self.open_tenant(id, true).await?;
        created.close().await;
        Ok(())
    }

    async fn delete_tenant(&self, id: &TenantId) -> Result<()> {
        let _lifecycle = self.lifecycle.lock().await;
        if !self.exists(id).await? {
            return Err(Error::no_such_tenant(id));
        }
        if let Some(open) = self.cache.remove(id).await {
            open.close().await;
        }
        let db = self.path_of(id);
        blocking(move || {
            let mut paths = vec![db.clone()];
            paths.extend(SIDE_FILES.iter().map(|suffix| {
                let mut p = db.clone().into_os_string();
                p.push(suffix);
                PathBuf::from(p)
            }));
            for path in paths {
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(Error::io(&path, e)),
                }
            }
            Ok(())
        })
        .await?
    }

    async fn list_tenants(&self) -> Result<Vec<TenantId>> {
        let dir = self.dir.clone();
        blocking(move || {
            let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
            let mut ids = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|e| Error::io(&dir, e))?;
                let name = entry.file_name();
                // Files that are not `<valid id>.db` are not tenants; they are left alone.
                let id = name
                    .to_str()
                    .and_then(|n| n.strip_suffix(".db"))
                    .and_then(|s| TenantId::new(s).ok());
                if let Some(id) = id {
                    ids.push(id);
                }
            }
            ids.sort();
            Ok(ids)
        })
        .await?
    }

    async fn tenant_exists(&self, id: &TenantId) -> Result<bool> {
        self.exists(id).await
    }

    async fn tenant(&self, id: &TenantId) -> Result<Arc<dyn Adapter>> {
        let adapter = self
            .cache
            .get_or_open(id, async {
                let _lifecycle = self.lifecycle.lock().await;
                if !self.exists(id).await? {
                    return Err(Error::no_such_tenant(id));
                }
                self.open_tenant(id, false).await
            })
            .await?;
        // A file deleted under an open tenant would take its writes into an unlinked inode,
        // lost at close, while new readers fail to open it. Treat it as a deleted tenant.
        // One `stat` of a local path, about a microsecond: cheaper inline than a hop to the
        // blocking pool.
        if matches!(self.path_of(id).try_exists(), Ok(false)) {
            if let Some(open) = self.cache.remove(id).await {
                open.close().await;
            }
            return Err(Error::NoSuchTenant {
                id: id.to_string(),
                advice: "its database file was deleted while it was open; nothing more is \
                         written to it. Restore the file, or delete the tenant and create it again"
                    .to_owned(),
            });
        }
        Ok(adapter)
    }

    fn cache_stats(&self) -> TenantCacheStats {
        self.cache.stats()
    }

    async fn close_all(&self) {
        self.cache.close_all().await;
    }
}
