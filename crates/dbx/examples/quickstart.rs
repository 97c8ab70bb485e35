//! Creates a file database, writes to it, reads it back and prints the rows.
//!
//! Run with `cargo run -p dbx --example quickstart`.

use anyhow::Result;
use dbx::{Adapter, SqliteAdapter, SqliteOptions, Statement};

#[tokio::main]
async fn main() -> Result<()> {
    let dir = std::path::Path::new("dbx-data");
    std::fs::create_dir_all(dir)?;
    let path = dir.join("quickstart.db");
    let db = SqliteAdapter::open(SqliteOptions::new(&path)).await?;

    db.execute("CREATE TABLE IF NOT EXISTS visits (id INTEGER PRIMARY KEY, who TEXT NOT NULL, at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)".into())
        .await?;
    let who = std::env::var("USER").unwrap_or_else(|_| "someone".to_owned());
    let inserted = db
        .execute(Statement::with_args(
            "INSERT INTO visits (who) VALUES (?)",
            [who],
        ))
        .await?;

    let rows = db
        .query("SELECT id, who, at FROM visits ORDER BY id".into())
        .await?;
    // This example's whole job is to print.
    #[allow(clippy::print_stdout)]
    {
        println!("database: {}", path.display());
        println!(
            "inserted row {}",
            inserted.last_insert_id.unwrap_or_default()
        );
        println!("  id  who          at");
        for row in &rows.rows {
            println!(
                "{:>4}  {:<12} {}",
                row.get::<i64>("id")?,
                row.get::<String>("who")?,
                row.get::<String>("at")?
            );
        }
    }
    db.close().await;
    Ok(())
}
