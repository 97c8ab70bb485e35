//! `cargo xtask test`: builds everything and runs every suite.

use anyhow::Result;

use crate::util::{cargo, run as run_cmd};

pub(crate) fn run(extra: &[String]) -> Result<()> {
    run_cmd(cargo().args(["test", "--workspace", "--all-targets"]).args(extra))?;
    // Doctests are not part of `--all-targets`; the crate READMEs are doctested here.
    run_cmd(cargo().args(["test", "--workspace", "--doc"]))?;
    run_cmd(cargo().args(["run", "--quiet", "-p", "dbx", "--example", "quickstart"]))?;
    Ok(())
}
