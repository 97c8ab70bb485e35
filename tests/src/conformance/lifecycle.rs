//! Health checks and closing.

use dbx_core::Error;

use crate::Harness;

pub async fn health_reports_latency_and_pool<H: Harness>(h: &H) {
    let db = h.database().await;
    let health = db.health().await.unwrap();
    assert!(health.pool.max >= 1, "{health:?}");
    assert!(health.pool.in_use <= health.pool.max, "{health:?}");
    assert!(health.latency.as_secs() < 60, "{health:?}");
}

pub async fn closed_adapter_refuses_work<H: Harness>(h: &H) {
    let db = h.database().await;
    db.execute("CREATE TABLE t (x INTEGER)".into())
        .await
        .unwrap();
    db.close().await;
    for result in [
        db.query("SELECT 1".into()).await.map(|_| ()),
        db.transaction().await.map(|_| ()),
    ] {
        let err = result.unwrap_err();
        assert!(matches!(err, Error::Closed(_)), "{err}");
        assert!(err.to_string().contains("closed"), "{err}");
    }
}
