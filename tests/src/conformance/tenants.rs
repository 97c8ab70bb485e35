//! Tenant lifecycle, isolation and id validation.

use dbx_core::{ErrorKind, Statement, TenantId};

use crate::Harness;

fn id(s: &str) -> TenantId {
    TenantId::new(s).unwrap()
}

pub async fn create_list_delete<H: Harness>(h: &H) {
    let tenants = h.tenants().await;
    assert!(tenants.list_tenants().await.unwrap().is_empty());
    for name in ["beta", "alpha", "c-3_po"] {
        tenants.create_tenant(&id(name)).await.unwrap();
    }
    assert_eq!(
        tenants.list_tenants().await.unwrap(),
        [id("alpha"), id("beta"), id("c-3_po")]
    );
    assert!(tenants.tenant_exists(&id("beta")).await.unwrap());
    tenants.delete_tenant(&id("beta")).await.unwrap();
    assert!(!tenants.tenant_exists(&id("beta")).await.unwrap());
    assert_eq!(
        tenants.list_tenants().await.unwrap(),
        [id("alpha"), id("c-3_po")]
    );
}

pub async fn tenants_are_isolated<H: Harness>(h: &H) {
    let tenants = h.tenants().await;
    let t = h.types();
    for name in ["acme", "globex"] {
        tenants.create_tenant(&id(name)).await.unwrap();
        let db = tenants.tenant(&id(name)).await.unwrap();
        db.execute(format!("CREATE TABLE secrets (owner {})", t.key_text).into())
            .await
            .unwrap();
        db.execute(Statement::with_args(
            "INSERT INTO secrets (owner) VALUES (?)",
            [name],
        ))
        .await
        .unwrap();
    }
    for name in ["acme", "globex"] {
        let db = tenants.tenant(&id(name)).await.unwrap();
        let rows = db.query("SELECT owner FROM secrets".into()).await.unwrap();
        let owners: Vec<String> = rows.rows.iter().map(|r| r.get(0).unwrap()).collect();
        assert_eq!(owners, [name], "tenant {name} sees another tenant's rows");
    }
}

pub async fn hostile_ids_are_rejected<H: Harness>(h: &H) {
    let tenants = h.tenants().await;
    let long = "a".repeat(64);
    let hostile = [
        "../etc",
        "..",
        ".",
        "a/b",
        "a\\b",
        "/abs",
        "a'b",
        "a\"b",
        "a;b",
        "x; DROP TABLE t",
        "a\0b",
        "Upper",
        "a b",
        " ",
        "",
        &long,
        "ünïcode",
        "a.b",
        "-leading",
        "_leading",
        "a%00",
        "a\nb",
        "t`x",
    ];
    assert!(hostile.len() >= 15);
    for bad in hostile {
        let err = TenantId::new(bad).expect_err(bad);
        assert_eq!(err.kind(), ErrorKind::InvalidTenant, "{bad:?}");
        assert!(
            err.to_string().contains("a-z, 0-9"),
            "the rule is stated for {bad:?}: {err}"
        );
    }
    // Nothing reached the backend.
    assert!(tenants.list_tenants().await.unwrap().is_empty());
}

pub async fn duplicate_create_and_missing_tenant_are_errors<H: Harness>(h: &H) {
    let tenants = h.tenants().await;
    tenants.create_tenant(&id("once")).await.unwrap();
    let err = tenants.create_tenant(&id("once")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TenantExists, "{err}");
    assert!(err.to_string().contains("already exists"), "{err}");
    for err in [
        tenants.delete_tenant(&id("never")).await.unwrap_err(),
        tenants.tenant(&id("never")).await.unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::NoSuchTenant, "{err}");
        assert!(err.to_string().contains("create it first"), "{err}");
    }
    assert!(!tenants.tenant_exists(&id("never")).await.unwrap());
}

pub async fn recreated_tenant_starts_empty<H: Harness>(h: &H) {
    let tenants = h.tenants().await;
    let t = h.types();
    tenants.create_tenant(&id("phoenix")).await.unwrap();
    let db = tenants.tenant(&id("phoenix")).await.unwrap();
    db.execute(format!("CREATE TABLE ashes (x {})", t.integer).into())
        .await
        .unwrap();
    tenants.delete_tenant(&id("phoenix")).await.unwrap();
    tenants.create_tenant(&id("phoenix")).await.unwrap();
    let fresh = tenants.tenant(&id("phoenix")).await.unwrap();
    assert!(fresh.tables().await.unwrap().is_empty());
}

pub async fn isolation_under_concurrency<H: Harness>(h: &H) {
    let tenants = h.tenants().await;
    let t = h.types();
    let ids: Vec<TenantId> = (0..20).map(|i| id(&format!("iso{i:02}"))).collect();
    for tenant in &ids {
        tenants.create_tenant(tenant).await.unwrap();
        let db = tenants.tenant(tenant).await.unwrap();
        db.execute(
            format!(
                "CREATE TABLE entries (owner {} NOT NULL, n {})",
                t.key_text, t.integer
            )
            .into(),
        )
        .await
        .unwrap();
    }
    crate::isolation::hammer(tenants, &ids, 10, 5).await;
}
