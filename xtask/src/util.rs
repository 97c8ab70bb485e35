//! Small helpers shared by the tasks.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The workspace root, found from this crate's manifest directory.
pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// A `cargo` command run from the workspace root, using the same cargo that runs xtask.
pub(crate) fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(project_root());
    cmd
}

/// Runs a command, echoing it first, and fails if it fails.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}").replace('"', "");
    eprintln!("$ {shown}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed with {status}");
    }
    Ok(())
}

/// `npm ci` in `dir` from its committed lockfile, unless node_modules is newer than the lock.
pub(crate) fn npm_ci(dir: &Path) -> Result<()> {
    npm_install(dir, "ci")
}

/// `npm install` in `dir`, which installs the lockfile's versions and leaves it unchanged.
/// For lockfiles `npm ci` refuses here: the registry this project reaches lacks some
/// platforms' optional packages (rollup's Android and macOS builds, say), which npm then
/// leaves out of the lockfile and `npm ci` insists on finding there.
pub(crate) fn npm_install_locked(dir: &Path) -> Result<()> {
    npm_install(dir, "install")
}

fn npm_install(dir: &Path, command: &str) -> Result<()> {
    let installed = dir.join("node_modules/.package-lock.json");
    let lock = dir.join("package-lock.json");
    let fresh = match (std::fs::metadata(&installed), std::fs::metadata(&lock)) {
        (Ok(i), Ok(l)) => i.modified().ok() >= l.modified().ok(),
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    run(Command::new("npm")
        .args([command, "--no-audit", "--no-fund"])
        .current_dir(dir))
    .with_context(|| {
        format!(
            "npm {command} in {} failed: Node.js 20+ and npm are needed (apt-get install nodejs npm)",
            dir.display()
        )
    })
}
