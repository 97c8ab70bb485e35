//! Handles that count what runs through them, so that the service can report queries and
//! errors whatever the caller does with the adapter it was given.

use std::sync::Arc;

use dbx_core::{
    Adapter, AdapterKind, Connection, ExecResult, Health, Result, ResultSet, Statement, TableInfo,
    TableSchema, Transaction, async_trait,
};

use crate::stats::Counters;

/// An adapter whose statements are counted.
#[derive(Debug)]
pub(crate) struct Counted {
    inner: Arc<dyn Adapter>,
    counters: Arc<Counters>,
}

impl Counted {
    pub(crate) fn wrap(inner: Arc<dyn Adapter>, counters: Arc<Counters>) -> Arc<dyn Adapter> {
        Arc::new(Self { inner, counters })
    }
}

fn counted<T>(counters: &Counters, result: Result<T>) -> Result<T> {
    counters.record(&result);
    result
}

#[async_trait]
impl Adapter for Counted {
    fn kind(&self) -> AdapterKind {
        self.inner.kind()
    }

    async fn query(&self, stmt: Statement) -> Result<ResultSet> {
        counted(&self.counters, self.inner.query(stmt).await)
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult> {
        counted(&self.counters, self.inner.execute(stmt).await)
    }

    async fn batch(&self, stmts: Vec<Statement>) -> Result<Vec<ResultSet>> {
        counted(&self.counters, self.inner.batch(stmts).await)
    }

    async fn transaction(&self) -> Result<Box<dyn Transaction>> {
        let inner = self.inner.transaction().await?;
        Ok(Box::new(CountedTx {
            inner,
            counters: self.counters.clone(),
        }))
    }

    async fn connection(&self) -> Result<Box<dyn Connection>> {
        let inner = self.inner.connection().await?;
        Ok(Box::new(CountedConn {
            inner,
            counters: self.counters.clone(),
        }))
    }

    async fn tables(&self) -> Result<Vec<TableInfo>> {
        self.inner.tables().await
    }

    async fn table(&self, name: &str) -> Result<TableSchema> {
        self.inner.table(name).await
    }

    async fn health(&self) -> Result<Health> {
        self.inner.health().await
    }

    async fn close(&self) {
        self.inner.close().await;
    }
}

#[derive(Debug)]
struct CountedConn {
    inner: Box<dyn Connection>,
    counters: Arc<Counters>,
}

#[async_trait]
impl Connection for CountedConn {
    fn kind(&self) -> AdapterKind {
        self.inner.kind()
    }

    async fn query(&mut self, stmt: Statement) -> Result<ResultSet> {
        counted(&self.counters, self.inner.query(stmt).await)
    }

    async fn execute(&mut self, stmt: Statement) -> Result<ExecResult> {
        counted(&self.counters, self.inner.execute(stmt).await)
    }

    async fn batch(&mut self, stmts: Vec<Statement>) -> Result<Vec<ResultSet>> {
        counted(&self.counters, self.inner.batch(stmts).await)
    }

    fn is_autocommit(&self) -> bool {
        self.inner.is_autocommit()
    }

    fn set_read_only(&mut self, read_only: bool) {
        self.inner.set_read_only(read_only);
    }

    async fn describe(&mut self, sql: &str) -> Result<dbx_core::Description> {
        counted(&self.counters, self.inner.describe(sql).await)
    }

    async fn transaction(&mut self) -> Result<Box<dyn Transaction + '_>> {
        let counters = self.counters.clone();
        let inner = self.inner.transaction().await?;
        Ok(Box::new(CountedTx { inner, counters }))
    }
}

#[derive(Debug)]
struct CountedTx<'a> {
    inner: Box<dyn Transaction + 'a>,
    counters: Arc<Counters>,
}

#[async_trait]
impl Transaction for CountedTx<'_> {
    async fn query(&mut self, stmt: Statement) -> Result<ResultSet> {
        counted(&self.counters, self.inner.query(stmt).await)
    }

    async fn execute(&mut self, stmt: Statement) -> Result<ExecResult> {
        counted(&self.counters, self.inner.execute(stmt).await)
    }

    async fn savepoint(&mut self) -> Result<Box<dyn Transaction + '_>> {
        let counters = self.counters.clone();
        let inner = self.inner.savepoint().await?;
        Ok(Box::new(CountedTx { inner, counters }))
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        self.inner.commit().await
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        self.inner.rollback().await
    }
}
