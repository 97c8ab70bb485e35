//! dbx against the raw drivers: the same workloads, side by side in one process, in
//! interleaved rounds so that drift of a shared machine lands on every side alike.

mod dbx_side;
mod mysql;
mod postgres;
mod sqlite;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use serde::Serialize;

use crate::Scale;
use crate::stats::{self, Samples, SplitMix, Summary};

/// Rows in the `bench` table that reads go to.
pub(crate) const TABLE_ROWS: i64 = 10_000;
/// Rows one scan reads.
pub(crate) const SCAN_ROWS: i64 = 1_000;
/// Inserts in the one-transaction workload.
pub(crate) const TX_INSERTS: usize = 100;
/// Tasks in the concurrent workload.
pub(crate) const CONCURRENT_TASKS: usize = 16;

pub(crate) const POINT_SELECT: &str = "SELECT id, name, score FROM bench WHERE id = ?";
pub(crate) const SCAN: &str =
    "SELECT id, name, score FROM bench WHERE id > ? ORDER BY id LIMIT 1000";

/// One row of the `bench` table, as every side returns it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Person {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) score: f64,
}

impl Person {
    /// The row the table was filled with for `id`; every read is checked against it.
    pub(crate) fn expected(id: i64) -> Person {
        Person {
            id,
            name: format!("user{id}"),
            score: score_of(id),
        }
    }
}

/// The score stored for `id`: exact in every backend's double type.
pub(crate) fn score_of(id: i64) -> f64 {
    (id % 1000) as f64 / 4.0
}

/// What each side of the comparison can do. Implementations are called in tight loops with
/// static dispatch, so the trait adds nothing to the time measured.
pub(crate) trait Driver: Send + Sync + 'static {
    /// One row by primary key.
    fn point_select(&self, id: i64) -> impl Future<Output = Result<Person>> + Send;
    /// One row into this side's insert table, in autocommit.
    fn insert_one(&self, n: i64) -> impl Future<Output = Result<()>> + Send;
    /// `count` rows in one transaction.
    fn insert_in_transaction(
        &self,
        n: i64,
        count: usize,
    ) -> impl Future<Output = Result<()>> + Send;
    /// [`SCAN_ROWS`] rows with ids above `after`, decoded.
    fn scan(&self, after: i64) -> impl Future<Output = Result<Vec<Person>>> + Send;
    /// `count` rows sent at once and committed together. A raw driver has no such call, so
    /// its transaction stands in; dbx sends one `batch()`.
    fn insert_batch(&self, n: i64, count: usize) -> impl Future<Output = Result<()>> + Send {
        self.insert_in_transaction(n, count)
    }
}

/// The row numbers of the `n`th multi-row insert, unique across workloads and rounds.
pub(crate) fn insert_numbers(n: i64, count: usize) -> impl Iterator<Item = i64> {
    let first = n * 1000;
    (0..count).map(move |i| first + i64::try_from(i).unwrap_or(0))
}

/// The workloads, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Workload {
    PointSelect,
    InsertAutocommit,
    InsertsInTransaction,
    InsertsInBatch,
    Scan,
    Concurrent,
}

impl Workload {
    pub(crate) const ALL: [Workload; 6] = [
        Workload::PointSelect,
        Workload::InsertAutocommit,
        Workload::InsertsInTransaction,
        Workload::InsertsInBatch,
        Workload::Scan,
        Workload::Concurrent,
    ];

    pub(crate) fn title(self) -> &'static str {
        match self {
            Workload::PointSelect => "point select by primary key (10k rows)",
            Workload::InsertAutocommit => "single-row insert, autocommit",
            Workload::InsertsInTransaction => "100 inserts in one transaction",
            Workload::InsertsInBatch => "100 inserts: dbx batch(), raw one transaction",
            Workload::Scan => "1,000-row scan",
            Workload::Concurrent => "16 tasks of point selects (time per select)",
        }
    }

    /// Operations per timed batch, and rounds.
    fn size(self, scale: Scale) -> (usize, usize) {
        let quick = scale == Scale::Quick;
        let ops = match self {
            Workload::PointSelect => 300,
            Workload::InsertAutocommit => 100,
            Workload::InsertsInTransaction | Workload::InsertsInBatch => 4,
            Workload::Scan => 10,
            Workload::Concurrent => CONCURRENT_TASKS * 40,
        };
        if quick {
            ((ops / 20).max(1), 2)
        } else {
            (ops, 40)
        }
    }
}

/// One side, boxed only at the batch level.
#[async_trait::async_trait]
trait Side: Send + Sync {
    /// Runs `ops` operations of `workload` and records each one's time (for the concurrent
    /// workload, the batch's wall time divided by its operations, once).
    async fn run(&self, workload: Workload, keys: &[i64], out: &mut Samples) -> Result<()>;
}

struct Measured<D>(Arc<D>);

#[async_trait::async_trait]
impl<D: Driver> Side for Measured<D> {
    async fn run(&self, workload: Workload, keys: &[i64], out: &mut Samples) -> Result<()> {
        let d = &self.0;
        match workload {
            Workload::PointSelect => {
                for &id in keys {
                    let t = Instant::now();
                    let row = d.point_select(id).await?;
                    out.push(t.elapsed());
                    ensure!(
                        row == Person::expected(id),
                        "wrong row for id {id}: {row:?}"
                    );
                }
            }
            Workload::InsertAutocommit => {
                for &n in keys {
                    let t = Instant::now();
                    d.insert_one(n).await?;
                    out.push(t.elapsed());
                }
            }
            Workload::InsertsInTransaction => {
                for &n in keys {
                    let t = Instant::now();
                    d.insert_in_transaction(n, TX_INSERTS).await?;
                    out.push(t.elapsed());
                }
            }
            Workload::InsertsInBatch => {
                for &n in keys {
                    let t = Instant::now();
                    d.insert_batch(n, TX_INSERTS).await?;
                    out.push(t.elapsed());
                }
            }
            Workload::Scan => {
                for &after in keys {
                    let t = Instant::now();
                    let rows = d.scan(after).await?;
                    out.push(t.elapsed());
                    check_scan(after, &rows)?;
                }
            }
            Workload::Concurrent => {
                let per_task = keys.len() / CONCURRENT_TASKS;
                let t = Instant::now();
                let tasks: Vec<_> = keys
                    .chunks(per_task.max(1))
                    .map(|chunk| {
                        let (d, chunk) = (d.clone(), chunk.to_vec());
                        tokio::spawn(async move {
                            for id in chunk {
                                let row = d.point_select(id).await?;
                                ensure!(row.id == id, "wrong row for id {id}");
                            }
                            Ok(())
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.context("a concurrent task panicked")??;
                }
                let per_op = t.elapsed() / u32::try_from(keys.len().max(1)).unwrap_or(u32::MAX);
                out.push(per_op);
            }
        }
        Ok(())
    }
}

fn check_scan(after: i64, rows: &[Person]) -> Result<()> {
    let want = usize::try_from(SCAN_ROWS.min(TABLE_ROWS - after)).unwrap_or(0);
    ensure!(
        rows.len() == want,
        "scan after {after}: {} rows, want {want}",
        rows.len()
    );
    for (i, row) in rows.iter().enumerate() {
        let id = after + 1 + i64::try_from(i).unwrap_or(0);
        ensure!(
            *row == Person::expected(id),
            "scan after {after}: row {i} is {row:?}"
        );
    }
    Ok(())
}

/// A named side of one backend's comparison.
pub(crate) struct Contender {
    label: &'static str,
    side: Box<dyn Side>,
    /// Whether this side answers the concurrent workload (a blocking call cannot).
    concurrent: bool,
}

impl Contender {
    pub(crate) fn new<D: Driver>(label: &'static str, driver: D) -> Self {
        Self {
            label,
            side: Box::new(Measured(Arc::new(driver))),
            concurrent: true,
        }
    }

    /// A side that blocks its caller, measured only one operation at a time.
    pub(crate) fn sequential_only(mut self) -> Self {
        self.concurrent = false;
        self
    }
}

/// One side's figures for one workload.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SideResult {
    pub(crate) label: &'static str,
    pub(crate) summary: Summary,
}

/// One workload on one backend: every side, and dbx's ratio to each other side.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WorkloadResult {
    pub(crate) workload: Workload,
    pub(crate) sides: Vec<SideResult>,
    /// dbx's time over the other side's, per other side: the median of the per-round ratios
    /// of medians, with their 10th and 90th percentiles, which show how steady it was.
    pub(crate) ratios: Vec<Ratio>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Ratio {
    pub(crate) against: &'static str,
    pub(crate) ratio: f64,
    pub(crate) round_p10: f64,
    pub(crate) round_p90: f64,
}

/// One backend's comparison.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BackendResult {
    pub(crate) backend: &'static str,
    pub(crate) setup: String,
    pub(crate) workloads: Vec<WorkloadResult>,
}

/// Keys for one batch: random ids for reads, fresh numbers for writes.
fn keys_for(workload: Workload, ops: usize, rng: &mut SplitMix, next: &mut i64) -> Vec<i64> {
    (0..ops)
        .map(|_| match workload {
            Workload::PointSelect | Workload::Concurrent => rng.one_to(TABLE_ROWS.unsigned_abs()),
            Workload::Scan => rng.one_to((TABLE_ROWS - SCAN_ROWS).unsigned_abs()) - 1,
            Workload::InsertAutocommit
            | Workload::InsertsInTransaction
            | Workload::InsertsInBatch => {
                *next += 1;
                *next
            }
        })
        .collect()
}

/// Runs every workload over `contenders` (the first is dbx). Each round runs every side once,
/// the order rotating from round to round (A B, B A, ...), so that neither side always runs
/// on caches the other warmed.
pub(crate) async fn compare(
    backend: &'static str,
    setup: String,
    contenders: &[Contender],
    scale: Scale,
) -> Result<BackendResult> {
    let mut workloads = Vec::new();
    let mut next_insert = 0i64;
    for workload in Workload::ALL {
        let sides: Vec<&Contender> = contenders
            .iter()
            .filter(|c| workload != Workload::Concurrent || c.concurrent)
            .collect();
        let (ops, rounds) = workload.size(scale);
        let mut rng = SplitMix::new(0xDB5 + workload as u64);
        // A round that is not counted: statements get prepared, pools fill.
        let warm = keys_for(workload, ops.min(20), &mut rng, &mut next_insert);
        for side in &sides {
            side.side
                .run(workload, &warm, &mut Samples::default())
                .await?;
        }
        let mut all: Vec<Samples> = vec![Samples::default(); sides.len()];
        let mut per_round: Vec<Vec<f64>> = vec![Vec::new(); sides.len()];
        for round in 0..rounds {
            // The same reads on every side; fresh numbers for each side's writes.
            let keys = keys_for(workload, ops, &mut rng, &mut next_insert);
            for k in 0..sides.len() {
                let i = (k + round) % sides.len();
                let mut batch = Samples::with_capacity(ops);
                let side = sides[i];
                side.side
                    .run(workload, &keys, &mut batch)
                    .await
                    .with_context(|| {
                        format!("{backend}: {} on {}", workload.title(), side.label)
                    })?;
                per_round[i].push(batch.summary().p50_us);
                all[i].extend(&batch);
            }
        }
        let summaries: Vec<Summary> = all.iter().map(Samples::summary).collect();
        let ratios = (1..sides.len())
            .map(|i| {
                let rounds: Vec<f64> = per_round[0]
                    .iter()
                    .zip(&per_round[i])
                    .map(|(d, o)| d / o)
                    .collect();
                Ratio {
                    against: sides[i].label,
                    // The median of per-round ratios: each round compares the sides a moment
                    // apart, so drift of the machine between rounds cancels out.
                    ratio: stats::quantile(&rounds, 0.5),
                    round_p10: stats::quantile(&rounds, 0.1),
                    round_p90: stats::quantile(&rounds, 0.9),
                }
            })
            .collect();
        workloads.push(WorkloadResult {
            workload,
            sides: sides
                .iter()
                .zip(summaries)
                .map(|(c, summary)| SideResult {
                    label: c.label,
                    summary,
                })
                .collect(),
            ratios,
        });
        eprintln!("  {backend}: {}", workload.title());
    }
    Ok(BackendResult {
        backend,
        setup,
        workloads,
    })
}

/// Every backend in turn.
pub(crate) async fn run(scale: Scale, urls: &crate::ServerUrls) -> Result<Vec<BackendResult>> {
    let dir = tempfile::tempdir()?;
    let mut results = vec![sqlite::compare(dir.path(), scale).await?];
    results.push(postgres::compare(&urls.postgres, scale).await?);
    results.push(mysql::compare(&urls.mysql, scale).await?);
    Ok(results)
}

/// The rows every side's `bench` table holds, in chunks of `chunk` for multi-row inserts.
pub(crate) fn fill_rows(chunk: usize) -> impl Iterator<Item = Vec<Person>> {
    let all: Vec<Person> = (1..=TABLE_ROWS).map(Person::expected).collect();
    let chunks: Vec<Vec<Person>> = all.chunks(chunk).map(<[Person]>::to_vec).collect();
    chunks.into_iter()
}

/// The time one run of the whole section took, for the log.
pub(crate) fn elapsed_note(started: Instant) -> String {
    let d: Duration = started.elapsed();
    format!("{:.1} s", d.as_secs_f64())
}

/// A multi-row `INSERT ... VALUES` of generated rows (no user input, so spliced safely).
pub(crate) fn values_insert(table: &str, rows: &[Person]) -> String {
    let values: Vec<String> = rows
        .iter()
        .map(|p| format!("({}, '{}', {})", p.id, p.name, p.score))
        .collect();
    format!(
        "INSERT INTO {table} (id, name, score) VALUES {}",
        values.join(", ")
    )
}
