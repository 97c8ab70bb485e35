//! `cargo xtask bench`: dbx against the raw drivers, Hrana under load, tenants, migrations
//! and footprint, measured by the `dbx-bench` harness against throwaway database servers.

use std::process::Command;

use anyhow::Result;

use crate::util::{cargo, project_root, run as run_cmd};

/// Builds and runs the harness. `--quick` uses the debug build the tests already made and
/// tiny counts, and leaves docs/benchmarks.md alone; a full run builds in release and
/// rewrites it, keeping the previous run's tables below the new ones.
pub(crate) fn run(args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    build(quick)?;
    let env = crate::servers::start_all()?;
    let outcome = run_harness(quick, args, &env);
    crate::servers::stop_all();
    outcome
}

/// `--quick` inside `cargo xtask test`, on the servers the tests already use, and a short
/// soak (too short to judge memory, long enough to fail on any failed request).
pub(crate) fn quick(env: &[(&'static str, String)]) -> Result<()> {
    build(true)?;
    run_harness(true, &["--quick".to_owned()], env)?;
    let bin = project_root().join("target/debug");
    run_cmd(
        Command::new(bin.join("dbx-bench"))
            .current_dir(project_root())
            .arg("--dbx")
            .arg(bin.join("dbx"))
            .args(["--soak", "3", "--out", "target/soak/quick"])
            .envs(env.iter().cloned()),
    )
}

fn build(quick: bool) -> Result<()> {
    if quick {
        // A no-op after the tests' build, which made every binary already.
        return run_cmd(cargo().args(["build", "--workspace", "--bins"]));
    }
    // The `dbx` binary exactly as the README's first command builds it, so that the
    // footprint is that binary's and the build is shared with `serve-check`.
    run_cmd(cargo().args(["build", "--release", "--bin", "dbx"]))?;
    run_cmd(cargo().args(["build", "--release", "-p", "dbx-bench"]))
}

fn run_harness(quick: bool, args: &[String], env: &[(&'static str, String)]) -> Result<()> {
    let root = project_root();
    let bin = root
        .join("target")
        .join(if quick { "debug" } else { "release" });
    let mut bench = Command::new(bin.join("dbx-bench"));
    bench
        .current_dir(&root)
        .arg("--dbx")
        .arg(bin.join("dbx"))
        .args(args)
        .envs(env.iter().cloned());
    if quick {
        bench.args(["--out", "target/bench/quick"]);
    } else {
        bench.args(["--docs", "docs/benchmarks.md"]);
    }
    run_cmd(&mut bench)
}

/// `cargo xtask soak --seconds N`: the harness's soak, in release, against the same throwaway
/// servers; its figures go to `target/soak/`.
pub(crate) fn soak(args: &[String]) -> Result<()> {
    let mut seconds = "60".to_owned();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match (arg.as_str(), it.next()) {
            ("--seconds", Some(value)) => seconds = value.clone(),
            _ => anyhow::bail!("usage: cargo xtask soak [--seconds N]  (default 60)"),
        }
    }
    build(false)?;
    let env = crate::servers::start_all()?;
    let root = project_root();
    let bin = root.join("target/release");
    let outcome = run_cmd(
        Command::new(bin.join("dbx-bench"))
            .current_dir(&root)
            .arg("--dbx")
            .arg(bin.join("dbx"))
            .args(["--soak", &seconds, "--out", "target/soak"])
            .envs(env.iter().cloned()),
    );
    crate::servers::stop_all();
    outcome
}
