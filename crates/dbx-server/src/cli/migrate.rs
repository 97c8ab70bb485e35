//! `dbx migrate`: the migrator on the command line.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use dbx_core::AdapterKind;
use dbx_core::tenancy::TenantId;
use dbx_migrate::{
    DownTarget, FanOut, LockOptions, Migrator, OpenTenant, Options, Resolution, TenantOutcome,
};
use dbx_service::DatabaseService;

use super::output::{self, Printer};
use super::{Cli, init_logging, load_config, open_service};
use crate::sources::Sources;

/// Options shared by every `dbx migrate` subcommand.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The migrations directory [config: server.migrations; default ./migrations].
    #[arg(long, global = true, value_name = "DIR")]
    source: Option<PathBuf>,

    /// The modules directory (modules/*/database/) [config: server.modules; default
    /// ./modules when it exists].
    #[arg(long, global = true, value_name = "DIR")]
    modules: Option<PathBuf>,

    /// Which configured adapter (sqlite, postgres, mysql, libsql); the default one otherwise.
    #[arg(long, global = true, value_name = "KIND")]
    adapter: Option<AdapterKind>,

    /// Migrate this tenant instead of the adapter's own database.
    #[arg(long, global = true, value_name = "ID", conflicts_with = "all_tenants")]
    tenant: Option<String>,

    /// Migrate every tenant of the adapter (up and status only).
    #[arg(long, global = true)]
    all_tenants: bool,

    /// With --all-tenants: how many tenants at once.
    #[arg(long, global = true, value_name = "N", default_value_t = 4)]
    jobs: usize,

    /// With --all-tenants: stop starting tenants after the first failure (the default is to
    /// go on and report every failure).
    #[arg(long, global = true)]
    fail_fast: bool,

    /// Execute in a transaction that is rolled back, and print the statements.
    #[arg(long, global = true)]
    dry_run: bool,

    /// Apply pending migrations older than the newest applied one.
    #[arg(long, global = true)]
    allow_out_of_order: bool,

    /// Seconds to wait for another runner's lock before giving up.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 600)]
    lock_timeout: u64,

    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,

    /// What to do.
    #[command(subcommand)]
    command: MigrateCommand,
}

/// The `dbx migrate` subcommands.
#[derive(Debug, Subcommand)]
enum MigrateCommand {
    /// Apply pending migrations (initializing modules first).
    Up {
        /// Stop after this version.
        #[arg(long, value_name = "VERSION")]
        to: Option<i64>,
    },
    /// Revert applied migrations, newest first (one by default).
    Down {
        /// How many to revert.
        #[arg(long, value_name = "N", conflicts_with = "to")]
        steps: Option<usize>,
        /// Revert every migration newer than this version (0 reverts all).
        #[arg(long, value_name = "VERSION")]
        to: Option<i64>,
    },
    /// Show each migration as applied, pending, modified, missing or dirty.
    Status,
    /// Revert every applied migration, then apply every migration (only reverting is
    /// `down --to 0`).
    Reset,
    /// Revert the newest migrations and apply them again.
    Redo {
        /// How many.
        #[arg(long, value_name = "N", default_value_t = 1)]
        steps: usize,
    },
    /// Create <version>_<name>.up.sql and .down.sql in the source directory.
    New {
        /// What the migration does, e.g. "add user email".
        name: String,
    },
    /// Record the current checksums of modified applied migrations (deliberately).
    Repair,
    /// Settle a dirty migration after checking the database by hand.
    Resolve {
        /// The dirty migration's version.
        #[arg(value_name = "VERSION")]
        migration: i64,
        /// The migration's module, for a module migration.
        #[arg(long, value_name = "NAME", default_value = "")]
        module: String,
        /// Nothing of it remains: forget it, so that it runs again. Without this flag it is
        /// marked as fully applied.
        #[arg(long)]
        not_applied: bool,
    },
}

/// The migrator for `adapter` over the same files `dbx serve` reports and applies.
fn load_sources(
    cli: &Cli,
    args: &MigrateArgs,
    adapter: Arc<dyn dbx_core::Adapter>,
) -> Result<Migrator> {
    let config = load_config(cli, args.adapter)?;
    let sources = Sources::new(args.source.clone(), args.modules.clone(), &config.server);
    let options = Options {
        allow_out_of_order: args.allow_out_of_order,
        lock: LockOptions {
            timeout: Duration::from_secs(args.lock_timeout),
            ..LockOptions::default()
        },
    };
    Ok(sources.migrator(adapter, options, true)?)
}

pub(super) async fn run(cli: &Cli, args: &MigrateArgs) -> Result<ExitCode> {
    let printer = Printer::new(args.json);
    if let MigrateCommand::New { name } = &args.command {
        let config = load_config(cli, args.adapter)?;
        let sources = Sources::new(args.source.clone(), None, &config.server);
        let (up, down) = dbx_migrate::create_migration_files(&sources.migrations, name)?;
        printer.created(&up, &down);
        return Ok(ExitCode::SUCCESS);
    }
    init_logging(if args.all_tenants || args.json {
        "warn"
    } else {
        "warn,dbx_migrate=info"
    });
    let service = open_service(cli, args.adapter).await?;
    let template = load_sources(cli, args, service.root(args.adapter)?)?;
    let outcome = if args.all_tenants {
        all_tenants(&service, args, &template, &printer).await
    } else {
        let adapter = match &args.tenant {
            Some(id) => {
                let id = TenantId::new(id).context("--tenant")?;
                service.tenant(&id, args.adapter).await?
            }
            None => service.root(args.adapter)?,
        };
        let quiet = args.json;
        let migrator = template.for_adapter(adapter).on_lock_wait(move |holder| {
            if !quiet {
                eprintln!("waiting for the migration lock, held by {holder} ...");
            }
        });
        one_database(&migrator, args, &printer).await
    };
    service.shutdown().await;
    outcome
}

async fn one_database(
    migrator: &Migrator,
    args: &MigrateArgs,
    printer: &Printer,
) -> Result<ExitCode> {
    match &args.command {
        MigrateCommand::Up { to } if args.dry_run => {
            let dry = migrator.dry_run_up(*to).await?;
            printer.dry_run(&dry);
            return Ok(dry_run_exit(&dry));
        }
        MigrateCommand::Up { to } => printer.report(&migrator.up(*to).await?),
        MigrateCommand::Down { steps, to } => {
            let target = match (steps, to) {
                (_, Some(0)) => DownTarget::All,
                (_, Some(v)) => DownTarget::To(*v),
                (Some(n), None) => DownTarget::Steps(*n),
                (None, None) => DownTarget::Steps(1),
            };
            if args.dry_run {
                let dry = migrator.dry_run_down(target).await?;
                printer.dry_run(&dry);
                return Ok(dry_run_exit(&dry));
            } else {
                printer.report(&migrator.down(target).await?)
            }
        }
        MigrateCommand::Reset if args.dry_run => {
            bail!(
                "--dry-run is not available for reset; dry-run `down --to 0` and `up` separately"
            );
        }
        MigrateCommand::Reset => printer.report(&migrator.reset().await?),
        MigrateCommand::Redo { steps } => {
            if args.dry_run {
                bail!("--dry-run is not available for redo; dry-run `down` and `up` separately");
            }
            printer.report(&migrator.redo(*steps).await?)
        }
        MigrateCommand::Status => {
            let status = migrator.status().await?;
            printer.status(&status);
            let dirty = status.count(dbx_migrate::State::Dirty) > 0;
            return Ok(if dirty {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            });
        }
        MigrateCommand::Repair => printer.repaired(&migrator.repair().await?),
        MigrateCommand::Resolve {
            migration: version,
            module,
            not_applied,
        } => {
            let resolution = if *not_applied {
                Resolution::NotApplied
            } else {
                Resolution::Applied
            };
            migrator.resolve(module, *version, resolution).await?;
            printer.resolved(*version, resolution);
        }
        MigrateCommand::New { .. } => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// A dry run in which a statement failed exits with 1, so scripts can gate on it.
fn dry_run_exit(dry: &dbx_migrate::DryRun) -> ExitCode {
    if dry.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn all_tenants(
    service: &Arc<DatabaseService>,
    args: &MigrateArgs,
    template: &Migrator,
    printer: &Printer,
) -> Result<ExitCode> {
    let to = match &args.command {
        MigrateCommand::Up { to } if !args.dry_run => *to,
        MigrateCommand::Status => {
            return tenant_status(service, args, template, printer).await;
        }
        _ => bail!(
            "--all-tenants works with `up` and `status`; run other commands per tenant with --tenant ID"
        ),
    };
    let tenants = service.list_tenants(args.adapter).await?;
    let bar = output::progress_bar(tenants.len(), std::io::stderr().is_terminal() && !args.json);
    let open_service = service.clone();
    let kind = args.adapter;
    let open: OpenTenant = Arc::new(move |id: TenantId| {
        let service = open_service.clone();
        Box::pin(async move { service.tenant(&id, kind).await })
    });
    let fan_out = FanOut {
        jobs: args.jobs,
        fail_fast: args.fail_fast,
    };
    let results = dbx_migrate::migrate_tenants(template, tenants, to, fan_out, open, &|r| {
        bar.inc(1);
        if let TenantOutcome::Failed { error, .. } = &r.outcome {
            bar.println(format!("tenant {} failed: {error}", r.tenant));
        }
    })
    .await;
    bar.finish_and_clear();
    printer.tenant_results(&results);
    let failed = results.iter().any(|r| {
        matches!(
            r.outcome,
            TenantOutcome::Failed { .. } | TenantOutcome::Skipped
        )
    });
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn tenant_status(
    service: &Arc<DatabaseService>,
    args: &MigrateArgs,
    template: &Migrator,
    printer: &Printer,
) -> Result<ExitCode> {
    let mut rows = Vec::new();
    for id in service.list_tenants(args.adapter).await? {
        let adapter = service.tenant(&id, args.adapter).await?;
        let status = template.for_adapter(adapter).status().await?;
        rows.push((id.to_string(), status));
    }
    printer.tenant_status(&rows);
    Ok(ExitCode::SUCCESS)
}
