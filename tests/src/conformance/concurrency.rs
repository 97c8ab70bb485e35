//! Many tasks sharing one adapter.

use dbx_core::Statement;
use tokio::task::JoinSet;

use super::transactions::{items, names};
use crate::Harness;

pub async fn concurrent_inserts_all_land<H: Harness>(h: &H) {
    const TASKS: usize = 32;
    const PER_TASK: usize = 50;
    let db = items(h).await;
    let mut tasks = JoinSet::new();
    for task in 0..TASKS {
        let db = db.clone();
        tasks.spawn(async move {
            for n in 0..PER_TASK {
                let stmt = Statement::with_args(
                    "INSERT INTO items (name) VALUES (?)",
                    [format!("t{task:02}-{n:02}")],
                );
                // Any error, Busy included, fails the test: writers must queue, not collide.
                db.execute(stmt)
                    .await
                    .unwrap_or_else(|e| panic!("task {task} insert {n}: {e}"));
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let all = names(&*db).await;
    assert_eq!(all.len(), TASKS * PER_TASK);
    let distinct: std::collections::BTreeSet<_> = all.iter().collect();
    assert_eq!(distinct.len(), TASKS * PER_TASK);
}

pub async fn reads_during_writes_see_committed_rows<H: Harness>(h: &H) {
    let db = items(h).await;
    let writer = {
        let db = db.clone();
        tokio::spawn(async move {
            for n in 0..200 {
                db.execute(Statement::with_args(
                    "INSERT INTO items (name) VALUES (?)",
                    [format!("w{n:03}")],
                ))
                .await
                .unwrap();
            }
        })
    };
    let mut readers = JoinSet::new();
    for _ in 0..8 {
        let db = db.clone();
        readers.spawn(async move {
            let mut last = 0i64;
            for _ in 0..50 {
                let count: i64 = db
                    .query("SELECT COUNT(*) FROM items".into())
                    .await
                    .unwrap()
                    .scalar()
                    .unwrap();
                // Committed rows never disappear from a later read.
                assert!(count >= last, "count went from {last} to {count}");
                last = count;
            }
        });
    }
    while let Some(done) = readers.join_next().await {
        done.unwrap();
    }
    writer.await.unwrap();
    assert_eq!(names(&*db).await.len(), 200);
}
