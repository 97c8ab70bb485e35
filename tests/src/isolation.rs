//! Many tenants, many tasks, one shared manager: nobody may see another tenant's rows.

use std::sync::Arc;

use dbx_core::{Statement, TenantId, TenantManager};

/// Runs `tasks` tasks per tenant, each doing `rounds` insert-then-read rounds on a table
/// `entries (owner, n)` that every tenant has, and asserts that every read sees only its own
/// tenant's rows and the row it has just written, and that each tenant ends with exactly
/// its own rows.
pub async fn hammer<M: TenantManager + ?Sized + 'static>(
    manager: Arc<M>,
    ids: &[TenantId],
    tasks: usize,
    rounds: usize,
) {
    let mut set = tokio::task::JoinSet::new();
    for id in ids {
        for task in 0..tasks {
            let (manager, id) = (manager.clone(), id.clone());
            set.spawn(async move {
                for round in 0..rounds {
                    let db = manager.tenant(&id).await.unwrap();
                    let n = i64::try_from(task * 1000 + round).unwrap();
                    db.execute(Statement::with_args(
                        "INSERT INTO entries (owner, n) VALUES (?, ?)",
                        [id.as_str().into(), dbx_core::Value::Integer(n)],
                    ))
                    .await
                    .unwrap();
                    let rs = db
                        .query("SELECT owner, n FROM entries".into())
                        .await
                        .unwrap();
                    let mut saw_own_write = false;
                    for row in &rs.rows {
                        let owner: String = row.get(0).unwrap();
                        assert_eq!(owner, id.as_str(), "tenant {id} saw a row of {owner}");
                        saw_own_write |= row.get::<i64>(1).unwrap() == n;
                    }
                    assert!(saw_own_write, "tenant {id} did not see its row {n}");
                }
            });
        }
    }
    while let Some(done) = set.join_next().await {
        done.unwrap();
    }
    for id in ids {
        let count: i64 = manager
            .tenant(id)
            .await
            .unwrap()
            .query("SELECT COUNT(*) FROM entries".into())
            .await
            .unwrap()
            .scalar()
            .unwrap();
        assert_eq!(
            count,
            i64::try_from(tasks * rounds).unwrap(),
            "tenant {id} lost or gained rows"
        );
    }
}
