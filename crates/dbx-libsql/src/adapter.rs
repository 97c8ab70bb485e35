//! [`LibsqlAdapter`]: a primary and its read replicas, reached over Hrana.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use dbx_core::txn::{SqlTransaction, run_atomically};
use dbx_core::{
    Adapter, AdapterKind, Connection, Error, Health, PoolStatus, Result, ResultSet, Statement,
    TableInfo, TableSchema, Transaction, async_trait,
};

use crate::config::LibsqlConfig;
use crate::error::map_err;
use crate::exec::RemoteConn;
use crate::route::{Rotation, reads_only};
use crate::session::LibsqlConnection;

/// A libSQL database: writes and transactions on the primary, plain reads spread over the
/// replicas (falling back to the primary when none answers).
#[derive(Debug)]
pub struct LibsqlAdapter {
    primary: libsql::Database,
    replicas: Rotation<libsql::Database>,
    budget: Arc<Semaphore>,
    max_connections: usize,
}

async fn open(url: &str, config: &LibsqlConfig) -> Result<libsql::Database> {
    let builder = libsql::Builder::new_remote(
        url.to_owned(),
        config.auth_token.clone().unwrap_or_default(),
    );
    let mut builder = if url.starts_with("http://") {
        builder.connector(hyper_014::client::HttpConnector::new())
    } else if url.starts_with("https://") {
        #[cfg(feature = "tls")]
        {
            builder.connector(crate::tls::connector(config.tls_ca_file.as_deref())?)
        }
        #[cfg(not(feature = "tls"))]
        {
            return Err(Error::Config(format!(
                "{url:?} needs TLS, and dbx-libsql is built without its `tls` feature: \
                 enable it, or use an http:// URL"
            )));
        }
    } else {
        return Err(Error::Config(format!(
            "{url:?}: a libSQL URL starts with http:// or https://"
        )));
    };
    if let Some(ns) = &config.namespace {
        builder = builder.namespace(ns.clone());
    }
    builder.build().await.map_err(map_err)
}

impl LibsqlAdapter {
    /// Opens the primary and the replicas; nothing is sent until the first statement.
    pub async fn connect(config: LibsqlConfig) -> Result<Self> {
        let primary = open(&config.url, &config).await?;
        let mut replicas = Vec::with_capacity(config.replicas.len());
        for url in &config.replicas {
            replicas.push(open(url, &config).await?);
        }
        if config.max_connections == 0 {
            return Err(Error::Config(
                "max_connections is 0: a libSQL adapter needs at least one connection".into(),
            ));
        }
        Ok(Self {
            primary,
            replicas: Rotation::new(replicas, config.replica_back_off),
            budget: Arc::new(Semaphore::new(config.max_connections)),
            max_connections: config.max_connections,
        })
    }

    /// A permit from the connection budget; fails once the adapter is closed.
    async fn permit(&self) -> Result<OwnedSemaphorePermit> {
        self.budget
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Closed(AdapterKind::Libsql))
    }

    async fn primary_conn(&self) -> Result<RemoteConn> {
        let permit = self.permit().await?;
        let conn = self.primary.connect().map_err(map_err)?;
        Ok(RemoteConn::new(conn, Some(permit)))
    }

    /// A read on the next replica that answers, with its outcome; `None` when none answers.
    async fn read_on_replica(&self, stmt: &Statement) -> Option<Result<ResultSet>> {
        while let Some((i, replica)) = self.replicas.pick() {
            let permit = self.permit().await.ok()?;
            let outcome = match replica.connect() {
                Ok(conn) => {
                    RemoteConn::new(conn, Some(permit))
                        .run_statement(stmt.clone())
                        .await
                }
                Err(e) => Err(map_err(e)),
            };
            match outcome {
                // Only an unreachable replica is skipped; a statement error would fail on the
                // primary too, so it is the answer.
                Err(Error::ConnectionLost(_)) => self.replicas.sit_out(i),
                answered => return Some(answered),
            }
        }
        None
    }
}

#[async_trait]
impl Adapter for LibsqlAdapter {
    fn kind(&self) -> AdapterKind {
        AdapterKind::Libsql
    }

    async fn query(&self, stmt: Statement) -> Result<ResultSet> {
        dbx_core::sql::refuse_transaction_control(&stmt.sql, dbx_core::sql::Dialect::Sqlite)?;
        if !self.replicas.is_empty()
            && reads_only(&stmt.sql)
            && let Some(answered) = self.read_on_replica(&stmt).await
        {
            return answered;
        }
        self.primary_conn().await?.run_statement(stmt).await
    }

    async fn batch(&self, stmts: Vec<Statement>) -> Result<Vec<ResultSet>> {
        let mut conn = self.primary_conn().await?;
        run_atomically(&mut conn, stmts).await
    }

    async fn transaction(&self) -> Result<Box<dyn Transaction>> {
        let conn = Box::new(self.primary_conn().await?);
        let tx: SqlTransaction<'static, RemoteConn, Box<RemoteConn>> =
            SqlTransaction::begin(conn).await?;
        Ok(Box::new(tx))
    }

    async fn connection(&self) -> Result<Box<dyn Connection>> {
        Ok(Box::new(LibsqlConnection::new(self.primary_conn().await?)))
    }

    async fn tables(&self) -> Result<Vec<TableInfo>> {
        crate::introspect::tables(&self.primary_conn().await?).await
    }

    async fn table(&self, name: &str) -> Result<TableSchema> {
        crate::introspect::table(&self.primary_conn().await?, name).await
    }

    async fn health(&self) -> Result<Health> {
        let started = Instant::now();
        self.primary_conn()
            .await?
            .run_statement(Statement::new("SELECT 1"))
            .await?;
        let available = self.budget.available_permits();
        Ok(Health {
            latency: started.elapsed(),
            pool: PoolStatus {
                in_use: self.max_connections.saturating_sub(available),
                idle: 0,
                max: self.max_connections,
            },
        })
    }

    /// Refuses new work from now on; connections already handed out finish what they do.
    async fn close(&self) {
        self.budget.close();
    }
}
