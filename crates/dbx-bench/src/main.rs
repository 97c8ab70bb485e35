#![doc = include_str!("../README.md")]

mod databases;
mod footprint;
mod hrana;
mod isolation;
mod migrations;
mod overhead;
mod report;
mod serve;
mod soak;
mod stats;
mod sys;
mod tenants;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::Serialize;

const USAGE: &str = "\
usage: dbx-bench [--quick] [--only SECTION,...] [--out DIR] [--dbx PATH] [--docs FILE]
       dbx-bench --soak SECONDS [--out DIR] [--dbx PATH]

  --quick        every benchmark with tiny counts (what `cargo xtask test` runs)
  --only         some of: overhead, hrana, tenants, migrations, footprint, isolation (default: all)
  --out DIR      where the JSON results go (default: target/bench)
  --dbx PATH     the `dbx` binary to serve and migrate with (default: beside this one)
  --docs FILE    rewrite this Markdown file with the results, keeping the previous ones
  --soak SECONDS instead of the benchmarks, mixed Hrana and REST load at saturation for that
                 long on SQLite and on PostgreSQL; fails on 5xx (but 503 with Retry-After),
                 failed requests, >10% memory growth after the middle, descriptor growth

PostgreSQL and MariaDB come from DBX_TEST_POSTGRES_URL and DBX_TEST_MYSQL_URL, which
`cargo xtask bench` sets after starting throwaway servers.
";

/// How big a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Scale {
    /// Tiny counts: proves every benchmark still runs, measures nothing worth quoting.
    Quick,
    /// The counts the published tables come from.
    Full,
}

/// The servers the overhead and Hrana sections compare on.
#[derive(Debug, Clone)]
pub(crate) struct ServerUrls {
    pub(crate) postgres: String,
    pub(crate) mysql: String,
}

impl ServerUrls {
    fn from_env() -> Result<Self> {
        let var = |name: &str, what: &str| {
            std::env::var(name).with_context(|| {
                format!(
                    "{name} is not set: the bench needs a {what} server; run it through \
                     `cargo xtask bench`, which starts one, or set {name}"
                )
            })
        };
        Ok(Self {
            postgres: var("DBX_TEST_POSTGRES_URL", "PostgreSQL")?,
            mysql: var("DBX_TEST_MYSQL_URL", "MySQL/MariaDB")?,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Overhead,
    Hrana,
    Tenants,
    Migrations,
    Footprint,
    Isolation,
}

impl Section {
    const ALL: [Section; 6] = [
        Section::Overhead,
        Section::Hrana,
        Section::Tenants,
        Section::Migrations,
        Section::Footprint,
        Section::Isolation,
    ];

    fn name(self) -> &'static str {
        match self {
            Section::Overhead => "overhead",
            Section::Hrana => "hrana",
            Section::Tenants => "tenants",
            Section::Migrations => "migrations",
            Section::Footprint => "footprint",
            Section::Isolation => "isolation",
        }
    }
}

#[derive(Debug)]
struct Args {
    scale: Scale,
    sections: Vec<Section>,
    out: PathBuf,
    dbx: PathBuf,
    docs: Option<PathBuf>,
    soak: Option<u64>,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        scale: Scale::Full,
        sections: Section::ALL.to_vec(),
        out: PathBuf::from("target/bench"),
        dbx: std::env::current_exe()?.with_file_name("dbx"),
        docs: None,
        soak: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .with_context(|| format!("{flag} needs a value\n\n{USAGE}"))
        };
        match arg.as_str() {
            "--quick" => args.scale = Scale::Quick,
            "--only" => {
                let list = value("--only")?;
                args.sections = list
                    .split(',')
                    .map(|name| {
                        Section::ALL
                            .into_iter()
                            .find(|s| s.name() == name.trim())
                            .with_context(|| format!("unknown section {name:?}\n\n{USAGE}"))
                    })
                    .collect::<Result<_>>()?;
            }
            "--out" => args.out = value("--out")?.into(),
            "--dbx" => args.dbx = value("--dbx")?.into(),
            "--docs" => args.docs = Some(value("--docs")?.into()),
            "--soak" => {
                let secs = value("--soak")?;
                args.soak = Some(
                    secs.parse()
                        .with_context(|| format!("--soak takes whole seconds, not {secs:?}"))?,
                );
            }
            "-h" | "--help" => {
                eprint!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}\n\n{USAGE}"),
        }
    }
    Ok(args)
}

/// Everything one run measured.
#[derive(Debug, Serialize)]
struct Results {
    machine: sys::Machine,
    scale: Scale,
    overhead: Option<Vec<overhead::BackendResult>>,
    hrana: Option<hrana::HranaResult>,
    tenants: Option<tenants::TenantsResult>,
    migrations: Option<Vec<migrations::JobsRun>>,
    footprint: Option<footprint::Footprint>,
    isolation: Option<Vec<isolation::IsolationResult>>,
}

/// Writes one section's JSON beside the others.
fn write_json(out: &std::path::Path, name: &str, value: &impl Serialize) -> Result<()> {
    let path = out.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(value)?)
        .with_context(|| format!("writing {}", path.display()))
}

async fn run(args: &Args) -> Result<Results> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut results = Results {
        machine: sys::Machine::read(),
        scale: args.scale,
        overhead: None,
        hrana: None,
        tenants: None,
        migrations: None,
        footprint: None,
        isolation: None,
    };
    let urls = ServerUrls::from_env()?;
    for &section in &args.sections {
        let started = Instant::now();
        eprintln!("bench: {}", section.name());
        match section {
            Section::Overhead => {
                let r = overhead::run(args.scale, &urls).await?;
                write_json(&args.out, section.name(), &r)?;
                results.overhead = Some(r);
            }
            Section::Hrana => {
                let r = hrana::run(args.scale, &urls, &args.dbx).await?;
                write_json(&args.out, section.name(), &r)?;
                results.hrana = Some(r);
            }
            Section::Tenants => {
                let r = tenants::run(args.scale).await?;
                write_json(&args.out, section.name(), &r)?;
                results.tenants = Some(r);
            }
            Section::Migrations => {
                let r = migrations::run(args.scale, &args.dbx).await?;
                write_json(&args.out, section.name(), &r)?;
                results.migrations = Some(r);
            }
            Section::Footprint => {
                let r = footprint::run(args.scale, &args.dbx).await?;
                write_json(&args.out, section.name(), &r)?;
                results.footprint = Some(r);
            }
            Section::Isolation => {
                let r = isolation::run(args.scale, &urls).await?;
                write_json(&args.out, section.name(), &r)?;
                results.isolation = Some(r);
            }
        }
        eprintln!(
            "bench: {} took {}",
            section.name(),
            overhead::elapsed_note(started)
        );
    }
    write_json(&args.out, "results", &results)?;
    Ok(results)
}

/// `--soak`: the load, its figures in `soak.json` and `soak.md`, and the verdict.
async fn soak_only(args: &Args, seconds: u64) -> Result<()> {
    std::fs::create_dir_all(&args.out)?;
    let urls = ServerUrls::from_env()?;
    let results = soak::run(seconds, &urls, &args.dbx).await?;
    write_json(&args.out, "soak", &results)?;
    let table = report::render_soak(&results, &sys::Machine::read());
    let path = args.out.join("soak.md");
    std::fs::write(&path, &table).with_context(|| format!("writing {}", path.display()))?;
    eprint!("{table}");
    soak::judge(&results)
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if let Some(seconds) = args.soak {
        return runtime.block_on(soak_only(&args, seconds));
    }
    let results = runtime.block_on(run(&args))?;
    let mut command = "cargo xtask bench".to_owned();
    if args.scale == Scale::Quick {
        command.push_str(" --quick");
    }
    if args.sections.len() < Section::ALL.len() {
        let names: Vec<&str> = args.sections.iter().map(|s| s.name()).collect();
        command.push_str(&format!(" --only {}", names.join(",")));
    }
    let tables = report::render(&results, &command);
    let report = args.out.join("report.md");
    std::fs::write(&report, &tables).with_context(|| format!("writing {}", report.display()))?;
    eprintln!("bench: tables in {}", report.display());
    if let Some(docs) = &args.docs {
        let page = std::fs::read_to_string(docs).unwrap_or_else(|_| "# Benchmarks\n".to_owned());
        std::fs::write(docs, report::splice(&page, &tables))
            .with_context(|| format!("writing {}", docs.display()))?;
        eprintln!("bench: {} rewritten", docs.display());
    }
    Ok(())
}
