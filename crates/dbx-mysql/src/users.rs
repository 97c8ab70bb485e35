//! A login user per tenant (`tenant-login = "per-tenant"`).
//!
//! Each tenant's SQL runs on connections that log in as the tenant's own user, which has
//! every right on the tenant's database and none anywhere else: the server refuses it other
//! tenants' databases, dbx's own, `mysql.*`, the process list of other users and `KILL` of
//! their threads. The user is named after the database (both are server-wide names, so one
//! never collides where the other does not).
//!
//! dbx makes each user's password and keeps it in `_dbx.tenant_users`, which no tenant user
//! may read. The server is only ever sent the password's `mysql_native_password` hash, so
//! that a server logging its statements logs nothing that logs in.

use dbx_core::pool::LoginSecret;
use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use sha1::{Digest, Sha1};

/// Where dbx keeps the tenant users' passwords: a database of its own, never a tenant's.
pub(crate) const STORE_DATABASE: &str = "_dbx";

const STORE: &str = "CREATE DATABASE IF NOT EXISTS _dbx CHARACTER SET utf8mb4; \
     CREATE TABLE IF NOT EXISTS _dbx.tenant_users \
     (user VARCHAR(80) NOT NULL PRIMARY KEY, password VARCHAR(64) NOT NULL)";

/// Creates the password store (`IF NOT EXISTS`: safe for two dbx instances at once).
pub(crate) async fn ensure_store(conn: &mut Conn) -> Result<(), mysql_async::Error> {
    conn.query_drop(STORE).await
}

/// `'*' + hex(SHA1(SHA1(password)))`: what `mysql_native_password` stores.
fn native_hash(password: &LoginSecret) -> String {
    let inner = Sha1::digest(password.expose().as_bytes());
    let outer = Sha1::digest(inner);
    let hex: String = outer.iter().map(|b| format!("{b:02X}")).collect();
    format!("*{hex}")
}

/// A database name as a `GRANT` pattern: `_` and `%` are wildcards there, and unescaped
/// they would give tenant `a_b` the database of tenant `a-b` as well.
fn grant_pattern(database: &str) -> String {
    database.replace('_', "\\_").replace('%', "\\%")
}

/// The password of `user` (the tenant database's name), making the user first, with
/// password `fresh`, if there is none yet (a new tenant, or one made before per-tenant
/// logins). The user's password and grant are set again from the store each time, so a
/// tenant that changed its own password locks itself out only until dbx next opens it.
pub(crate) async fn login(
    conn: &mut Conn,
    user: &str,
    share: usize,
    fresh: LoginSecret,
) -> Result<LoginSecret, mysql_async::Error> {
    // The store decides: of two dbx instances making the same user at once, the first
    // password stored is the one both set.
    conn.exec_drop(
        "INSERT IGNORE INTO _dbx.tenant_users (user, password) VALUES (?, ?)",
        (user, fresh.expose()),
    )
    .await?;
    let stored: Option<String> = conn
        .exec_first(
            "SELECT password FROM _dbx.tenant_users WHERE user = ?",
            (user,),
        )
        .await?;
    let password = stored.map_or(fresh, LoginSecret::from_stored);
    let hash = native_hash(&password);
    // The id and prefix rules leave nothing to escape in the names; the hash is hex.
    conn.query_drop(format!(
        "CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED WITH mysql_native_password AS '{hash}'"
    ))
    .await?;
    conn.query_drop(format!(
        "ALTER USER '{user}'@'%' IDENTIFIED WITH mysql_native_password AS '{hash}' \
         WITH MAX_USER_CONNECTIONS {}",
        share * 2 + 2
    ))
    .await?;
    conn.query_drop(format!(
        "GRANT ALL PRIVILEGES ON `{}`.* TO '{user}'@'%'",
        grant_pattern(user)
    ))
    .await?;
    Ok(password)
}

/// Ends the user's connections, drops the user and forgets its password. The database
/// itself is the caller's to drop.
pub(crate) async fn drop(conn: &mut Conn, user: &str) -> Result<(), mysql_async::Error> {
    let threads: Vec<u64> = conn
        .exec(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?",
            (user,),
        )
        .await?;
    for thread in threads {
        // The thread may have ended since: ignore "unknown thread".
        let _ = conn.query_drop(format!("KILL CONNECTION {thread}")).await;
    }
    conn.query_drop(format!("DROP USER IF EXISTS '{user}'@'%'"))
        .await?;
    conn.exec_drop("DELETE FROM _dbx.tenant_users WHERE user = ?", (user,))
        .await
}
