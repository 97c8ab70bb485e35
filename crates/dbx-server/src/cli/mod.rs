//! The command line: global options, subcommands, and how errors reach the user.

mod admin;
mod migrate;
mod output;
mod token;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use dbx_core::AdapterKind;
use dbx_service::{DatabaseService, DbxConfig, Overrides};

/// dbx: one database layer for SQLite, PostgreSQL, MySQL/MariaDB and libSQL.
#[derive(Debug, Parser)]
#[command(name = "dbx", version, propagate_version = true)]
pub struct Cli {
    /// The configuration file (dbx.toml). Without it, the environment and the embedded SQLite
    /// default decide.
    #[arg(long, global = true, value_name = "FILE", env = "DBX_CONFIG")]
    pub config: Option<PathBuf>,

    /// Where SQLite files live (default ./dbx-data).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve Hrana (libSQL clients), the REST API, /health and /metrics on one port.
    Serve(crate::serve::ServeArgs),
    /// Apply, revert and inspect migrations, on one database or on every tenant.
    Migrate(migrate::MigrateArgs),
    /// Run one SQL statement and print the result.
    Sql(admin::SqlArgs),
    /// List, create and delete tenants.
    Tenants(admin::TenantsArgs),
    /// Print the configuration's JSON Schema, or check a configuration file.
    Config(admin::ConfigArgs),
    /// Make the key pair for access tokens, and tokens signed with it.
    Token(token::TokenArgs),
}

/// Parses the arguments, runs the command and turns an error into a message and exit code 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_)) {
        die_quietly_on_a_closed_pipe();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(run(cli));
    // Blocking work still running (a statement the shutdown stopped, finishing its last
    // step) gets a moment; the process does not wait on it beyond that.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `dbx migrate status --json | head`: when the reader goes away, end as every Unix tool
/// does (killed by SIGPIPE, silently) instead of panicking in `println!`. Rust ignores
/// SIGPIPE so that servers see `EPIPE` as an error on a socket; `dbx serve` keeps that.
#[cfg(unix)]
#[allow(unsafe_code)]
fn die_quietly_on_a_closed_pipe() {
    // SAFETY: restores a signal's default disposition, with no handler and no pointers,
    // before the runtime starts any thread.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn die_quietly_on_a_closed_pipe() {}

async fn run(cli: Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::Serve(args) => crate::serve::run(&cli, args).await,
        Command::Migrate(args) => migrate::run(&cli, args).await,
        Command::Sql(args) => admin::sql(&cli, args).await,
        Command::Tenants(args) => admin::tenants(&cli, args).await,
        Command::Config(args) => admin::config(&cli, args),
        Command::Token(args) => token::run(args),
    }
}

/// Loads the configuration with the global options and opens its databases.
pub(crate) fn load_config(cli: &Cli, adapter: Option<AdapterKind>) -> Result<DbxConfig> {
    let overrides = Overrides {
        data_dir: cli.data_dir.clone(),
        default_adapter: adapter,
    };
    dbx_service::config::load(
        cli.config.as_deref(),
        &|name| std::env::var(name).ok(),
        &overrides,
    )
    .context("loading the configuration")
}

pub(crate) async fn open_service(
    cli: &Cli,
    adapter: Option<AdapterKind>,
) -> Result<Arc<DatabaseService>> {
    let config = load_config(cli, adapter)?;
    DatabaseService::open(&config)
        .await
        .context("opening the databases")
}

/// Sends tracing output to stderr; `RUST_LOG` overrides `default`.
pub(crate) fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}
