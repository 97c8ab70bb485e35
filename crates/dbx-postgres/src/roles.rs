//! A login role per tenant (`tenant-login = "per-tenant"`).
//!
//! Each tenant's SQL runs on connections that log in as the tenant's own role. The role owns
//! the tenant's schema and everything in it, is a member of no other role and has none of
//! the server's special attributes, so the server refuses it any other tenant's schema, the
//! root database's tables and signals to other roles' backends. It cannot switch back to
//! dbx's login: `SET ROLE` needs membership and `SET SESSION AUTHORIZATION` a superuser,
//! and it has neither.
//!
//! dbx makes each role's password and keeps it in `_dbx.tenant_roles`, a schema no tenant
//! role may use. The server is only ever sent the password's SCRAM verifier, so that a
//! server logging its DDL logs nothing that logs in.

use dbx_core::pool::LoginSecret;
use dbx_core::{Error, Result, TenantId};
use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use crate::error::map_err;

/// Where dbx keeps the tenant roles' passwords: a schema of its own, never a tenant's.
pub(crate) const STORE_SCHEMA: &str = "_dbx";

const STORE: &str = "CREATE SCHEMA IF NOT EXISTS _dbx; \
     REVOKE ALL ON SCHEMA _dbx FROM PUBLIC; \
     CREATE TABLE IF NOT EXISTS _dbx.tenant_roles (role text PRIMARY KEY, password text NOT NULL); \
     REVOKE ALL ON _dbx.tenant_roles FROM PUBLIC;";

/// Creates the password store once per database. Two dbx instances starting together may
/// race on `IF NOT EXISTS` (a duplicate name, or "tuple concurrently updated" from the
/// `REVOKE`s); the loser tries again and finds the store there.
pub(crate) async fn ensure_store(client: &Client) -> Result<()> {
    let mut attempts = 0;
    loop {
        let present: bool = client
            .query_one("SELECT to_regclass('_dbx.tenant_roles') IS NOT NULL", &[])
            .await
            .map_err(map_err)?
            .get(0);
        if present {
            return Ok(());
        }
        match client.batch_execute(STORE).await {
            Ok(()) => return Ok(()),
            Err(e)
                if attempts < 3
                    && e.code().is_some_and(|c| {
                        ["23505", "42P06", "42P07", "XX000"].contains(&c.code())
                    }) =>
            {
                attempts += 1;
            }
            Err(e) => return Err(map_err(e)),
        }
    }
}

/// The role of a tenant schema in database `dbname`. Roles belong to the whole cluster
/// while schemas belong to one database, so the name carries a digest of the database's:
/// two dbx databases on one cluster never share a role.
pub(crate) fn role_of(schema: &str, dbname: &str, id: &TenantId) -> Result<String> {
    let digest = Sha256::digest(dbname.as_bytes());
    let tag: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    let role = format!("{schema}@{tag}");
    if role.len() > 63 {
        return Err(Error::InvalidTenant {
            id: id.to_string(),
            reason: format!(
                "its login role {role:?} would pass PostgreSQL's 63-byte limit; use a shorter \
                 id or prefix"
            ),
        });
    }
    Ok(role)
}

fn quoted(name: &str) -> String {
    // Schema and role names come from the id and prefix rules plus '@' and hex digits:
    // nothing to escape.
    format!("\"{name}\"")
}

/// `PASSWORD '<verifier>'`: the SCRAM-SHA-256 verifier of `password`, never the password.
fn password_clause(password: &LoginSecret) -> String {
    let verifier = postgres_protocol::password::scram_sha_256(password.expose().as_bytes());
    format!("PASSWORD '{verifier}'")
}

/// The attributes of a tenant role: it may log in, and nothing else of note. The
/// connection limit is a server-side backstop above the tenant's pool share (a cancelled
/// statement's backend may linger a moment beside its replacement).
fn attributes(share: usize) -> String {
    format!(
        "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS \
         CONNECTION LIMIT {}",
        share * 2 + 2
    )
}

/// Creates `role` and its schema, owned by it, and stores its password: all or nothing.
pub(crate) async fn create(
    client: &mut Client,
    schema: &str,
    role: &str,
    share: usize,
    password: &LoginSecret,
) -> std::result::Result<(), tokio_postgres::Error> {
    let (r, s) = (quoted(role), quoted(schema));
    let tx = client.transaction().await?;
    tx.batch_execute(&format!(
        "CREATE ROLE {r} {} {}; GRANT {r} TO CURRENT_USER; CREATE SCHEMA {s} AUTHORIZATION {r}; \
         ALTER ROLE {r} SET search_path TO {s};",
        attributes(share),
        password_clause(password)
    ))
    .await?;
    tx.execute(
        "INSERT INTO _dbx.tenant_roles (role, password) VALUES ($1, $2)",
        &[&role, &password.expose()],
    )
    .await?;
    tx.commit().await
}

/// The password of `role`, making the role first, with password `fresh`, if the schema
/// predates per-tenant logins (it then takes over the schema and everything in it). The
/// role's password is set again from the store each time, so a tenant that changed its
/// own locks itself out only until dbx next opens it.
pub(crate) async fn login(
    client: &mut Client,
    schema: &str,
    role: &str,
    share: usize,
    fresh: LoginSecret,
) -> std::result::Result<LoginSecret, tokio_postgres::Error> {
    let stored = client
        .query_opt(
            "SELECT password FROM _dbx.tenant_roles WHERE role = $1",
            &[&role],
        )
        .await?;
    let (r, s) = (quoted(role), quoted(schema));
    if let Some(row) = stored {
        let password = LoginSecret::from_stored(row.get(0));
        client
            .batch_execute(&format!("ALTER ROLE {r} {}", password_clause(&password)))
            .await?;
        return Ok(password);
    }
    let password = fresh;
    let tx = client.transaction().await?;
    let exists = tx
        .query_opt(
            "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1",
            &[&role],
        )
        .await?
        .is_some();
    let verb = if exists { "ALTER" } else { "CREATE" };
    tx.batch_execute(&format!(
        "{verb} ROLE {r} {} {}; GRANT {r} TO CURRENT_USER; ALTER ROLE {r} SET search_path TO {s};",
        attributes(share),
        password_clause(&password)
    ))
    .await?;
    tx.batch_execute(&adopt(schema, role)).await?;
    tx.execute(
        "INSERT INTO _dbx.tenant_roles (role, password) VALUES ($1, $2)",
        &[&role, &password.expose()],
    )
    .await?;
    tx.commit().await?;
    Ok(password)
}

/// Hands a schema made before per-tenant logins, and everything in it, to its role.
/// Sequences owned by a table's column move with their table.
fn adopt(schema: &str, role: &str) -> String {
    let (r, s) = (quoted(role), quoted(schema));
    format!(
        "ALTER SCHEMA {s} OWNER TO {r};
        DO $adopt$ DECLARE o record; BEGIN
          FOR o IN SELECT c.oid::regclass AS name FROM pg_catalog.pg_class c
              WHERE c.relnamespace = '{s}'::regnamespace AND c.relkind IN ('r','p','v','m','f')
          LOOP EXECUTE format('ALTER TABLE %s OWNER TO %I', o.name, '{role}'); END LOOP;
          FOR o IN SELECT c.oid::regclass AS name FROM pg_catalog.pg_class c
              WHERE c.relnamespace = '{s}'::regnamespace AND c.relkind = 'S'
                AND c.relowner <> '{r}'::regrole
                AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                    WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a','i'))
          LOOP EXECUTE format('ALTER SEQUENCE %s OWNER TO %I', o.name, '{role}'); END LOOP;
          FOR o IN SELECT p.oid::regprocedure AS name FROM pg_catalog.pg_proc p
              WHERE p.pronamespace = '{s}'::regnamespace
          LOOP EXECUTE format('ALTER ROUTINE %s OWNER TO %I', o.name, '{role}'); END LOOP;
          FOR o IN SELECT t.oid::regtype AS name FROM pg_catalog.pg_type t
              WHERE t.typnamespace = '{s}'::regnamespace AND t.typtype IN ('e','d','r','m')
          LOOP EXECUTE format('ALTER TYPE %s OWNER TO %I', o.name, '{role}'); END LOOP;
        END $adopt$;"
    )
}

/// Ends the role's sessions, drops its schema and the role, and forgets its password.
pub(crate) async fn drop(
    client: &mut Client,
    schema: &str,
    role: &str,
) -> std::result::Result<(), tokio_postgres::Error> {
    client
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE usename = $1",
            &[&role],
        )
        .await?;
    let (r, s) = (quoted(role), quoted(schema));
    let has_role = client
        .query_opt(
            "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1",
            &[&role],
        )
        .await?
        .is_some();
    let tx = client.transaction().await?;
    tx.batch_execute(&format!("DROP SCHEMA {s} CASCADE"))
        .await?;
    if has_role {
        tx.batch_execute(&format!("DROP OWNED BY {r}; DROP ROLE {r}"))
            .await?;
    }
    tx.execute("DELETE FROM _dbx.tenant_roles WHERE role = $1", &[&role])
        .await?;
    tx.commit().await
}
