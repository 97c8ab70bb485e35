//! `cargo xtask studio [--check]`: builds the Studio (crates/dbx-server/studio) into its
//! committed `dist/`, or, with `--check`, builds it aside and fails when `dist/` differs, so a
//! change to the sources cannot land without the bundle that `dbx serve` embeds.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::util::{npm_install_locked, project_root, run as run_cmd};

fn studio_dir() -> PathBuf {
    project_root().join("crates/dbx-server/studio")
}

pub(crate) fn run(args: &[String]) -> Result<()> {
    match args {
        [] => build(&studio_dir().join("dist")),
        [flag] if flag == "--check" => check(),
        _ => bail!("usage: cargo xtask studio [--check]"),
    }
}

/// Type-checks the sources and builds the bundle into `out`.
fn build(out: &Path) -> Result<()> {
    let dir = studio_dir();
    npm_install_locked(&dir)?;
    run_cmd(
        Command::new("npx")
            .args(["tsc", "--noEmit"])
            .current_dir(&dir),
    )?;
    run_cmd(
        Command::new("npx")
            .args([
                "vite",
                "build",
                "--emptyOutDir",
                "--logLevel",
                "warn",
                "--outDir",
            ])
            .arg(out)
            .current_dir(&dir),
    )
}

fn check() -> Result<()> {
    let committed = studio_dir().join("dist");
    let fresh = project_root().join("target/studio-check");
    build(&fresh)?;
    let (want, have) = (files(&fresh)?, files(&committed)?);
    fs::remove_dir_all(&fresh)?;
    let mut differences = Vec::new();
    for (name, bytes) in &want {
        match have.get(name) {
            None => differences.push(format!("missing: {name}")),
            Some(b) if b != bytes => differences.push(format!("differs: {name}")),
            Some(_) => {}
        }
    }
    differences.extend(
        have.keys()
            .filter(|n| !want.contains_key(*n))
            .map(|n| format!("stale: {n}")),
    );
    if !differences.is_empty() {
        bail!(
            "the committed Studio bundle does not match its sources:\n  {}\nrun `cargo xtask studio` and commit crates/dbx-server/studio/dist",
            differences.join("\n  ")
        );
    }
    eprintln!("Studio bundle: {} files match the sources", want.len());
    Ok(())
}

/// Every file under `root`, by its path relative to `root`.
fn files(root: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut found = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path.strip_prefix(root)?.to_string_lossy().into_owned();
                found.insert(name, fs::read(&path)?);
            }
        }
    }
    Ok(found)
}
