//! `dbx sql`, `dbx tenants` and `dbx config`: the small commands.
// These commands print their results; that is their job.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use dbx_core::tenancy::TenantId;
use dbx_core::{AdapterKind, Statement};

use super::{Cli, open_service, output};

/// `dbx sql`.
#[derive(Debug, Args)]
pub struct SqlArgs {
    /// Which configured adapter; the default one otherwise.
    #[arg(long, value_name = "KIND")]
    adapter: Option<AdapterKind>,
    /// Run it in this tenant instead of the adapter's own database.
    #[arg(long, value_name = "ID")]
    tenant: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// The statement (SQLite-style placeholders are not bound here: give literal values).
    sql: String,
}

/// `dbx tenants`.
#[derive(Debug, Args)]
pub struct TenantsArgs {
    /// Which configured adapter; the default one otherwise.
    #[arg(long, global = true, value_name = "KIND")]
    adapter: Option<AdapterKind>,
    #[command(subcommand)]
    command: TenantsCommand,
}

#[derive(Debug, Subcommand)]
enum TenantsCommand {
    /// List the tenants.
    List,
    /// Create a tenant.
    Create {
        /// The tenant id: 1 to 63 of a-z, 0-9, '_' and '-', starting with a letter or digit.
        id: String,
    },
    /// Delete a tenant and all its data.
    Delete {
        /// The tenant id.
        id: String,
    },
}

/// `dbx config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the JSON Schema of dbx.toml.
    Schema,
    /// Check the configuration (a file, and the environment applied over it) without
    /// opening anything, and print what each environment variable became.
    Check {
        /// The file; without it, `--config`, or the environment and defaults alone.
        file: Option<PathBuf>,
    },
}

pub(super) async fn sql(cli: &Cli, args: &SqlArgs) -> Result<ExitCode> {
    let service = open_service(cli, args.adapter).await?;
    let adapter = match &args.tenant {
        Some(id) => {
            let id = TenantId::new(id).context("--tenant")?;
            service.tenant(&id, args.adapter).await?
        }
        None => service.root(args.adapter)?,
    };
    let outcome = adapter.query(Statement::new(args.sql.as_str())).await;
    service.shutdown().await;
    let result = outcome?;
    let rows: Vec<Vec<serde_json::Value>> = result
        .rows
        .iter()
        .map(|r| r.values().iter().map(crate::serve::value_json).collect())
        .collect();
    let columns: Vec<&str> = result.column_names().collect();
    if args.json {
        let body = serde_json::json!({
            "columns": columns,
            "rows": rows,
            "rows_affected": result.rows_affected,
            "last_insert_id": result.last_insert_id,
        });
        println!("{}", serde_json::to_string_pretty(&body)?);
    } else if columns.is_empty() {
        println!("{} row(s) affected", result.rows_affected);
    } else {
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|v| match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => "NULL".to_owned(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .collect();
        output::table(&columns, &cells);
        println!("({} row(s))", cells.len());
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn tenants(cli: &Cli, args: &TenantsArgs) -> Result<ExitCode> {
    let service = open_service(cli, args.adapter).await?;
    let outcome = async {
        match &args.command {
            TenantsCommand::List => {
                for id in service.list_tenants(args.adapter).await? {
                    println!("{id}");
                }
            }
            TenantsCommand::Create { id } => {
                let id = TenantId::new(id)?;
                service.create_tenant(&id, args.adapter).await?;
                println!("created tenant {id}");
            }
            TenantsCommand::Delete { id } => {
                let id = TenantId::new(id)?;
                service.delete_tenant(&id, args.adapter).await?;
                println!("deleted tenant {id}");
            }
        }
        anyhow::Ok(())
    }
    .await;
    service.shutdown().await;
    outcome.map(|()| ExitCode::SUCCESS)
}

pub(super) fn config(cli: &Cli, args: &ConfigArgs) -> Result<ExitCode> {
    match &args.command {
        ConfigCommand::Schema => {
            let schema = dbx_service::deploy::config_schema();
            println!("{}", serde_json::to_string_pretty(&schema)?);
        }
        ConfigCommand::Check { file } => {
            let overrides = dbx_service::Overrides {
                data_dir: cli.data_dir.clone(),
                default_adapter: None,
            };
            let env = |name: &str| std::env::var(name).ok();
            let file = file.as_deref().or(cli.config.as_deref());
            let config = dbx_service::config::load(file, &env, &overrides)?;
            let kinds: Vec<String> = config
                .adapters
                .iter()
                .map(|a| {
                    if a.is_default() {
                        format!("{} (default)", a.kind())
                    } else {
                        a.kind().to_string()
                    }
                })
                .collect();
            println!(
                "{}: valid; adapters: {}; data-dir: {}; serve listens on {} {}",
                file.map_or_else(
                    || "the environment and defaults".to_owned(),
                    |f| f.display().to_string()
                ),
                kinds.join(", "),
                config.data_dir.display(),
                config.server.listen,
                config.server.auth_keys.as_ref().map_or_else(
                    || "without tokens".to_owned(),
                    |keys| format!("with the keys in {}", keys.display())
                ),
            );
            for line in dbx_service::config::explain_env(&config, &env) {
                println!("{line}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
