//! `cargo xtask ci`: everything CI checks, runnable locally.

use std::fs;

use anyhow::{Context, Result, bail};

use crate::util::{cargo, project_root, run as run_cmd};

/// `cargo xtask lint`: formatting, clippy, the lockfile rule and the Studio bundle check,
/// without the tests.
pub(crate) fn lint() -> Result<()> {
    run_cmd(cargo().args(["fmt", "--all", "--", "--check"]))?;
    // The fuzz targets are a workspace of their own, which `--all` does not reach.
    run_cmd(cargo().args([
        "fmt",
        "--manifest-path",
        "fuzz/Cargo.toml",
        "--all",
        "--",
        "--check",
    ]))?;
    run_cmd(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    check_lockfile()?;
    crate::studio::run(&["--check".to_owned()])
}

pub(crate) fn run(args: &[String]) -> Result<()> {
    lint()?;
    crate::test::run(args)
}

/// libsql's `core`, `replication` and `sync` features build `libsql-ffi`, a second SQLite
/// whose C symbols collide with rusqlite's bundled one and break every binary at link time.
fn check_lockfile() -> Result<()> {
    let path = project_root().join("Cargo.lock");
    let lock = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    if lock.lines().any(|l| l.trim() == "name = \"libsql-ffi\"") {
        bail!(
            "Cargo.lock contains libsql-ffi: some crate enables libsql's core, replication or sync \
             feature. Depend on libsql with default-features = false, features = [\"remote\"] only"
        );
    }
    eprintln!("Cargo.lock: no libsql-ffi");
    Ok(())
}
