//! `cargo xtask config-schema`: regenerates the JSON Schema of `dbx.toml`, the Helm chart's
//! `values.schema.json` and Rancher's `questions.yaml` from the configuration types.
//!
//! The generator is the test that checks the committed files; in write mode it rewrites
//! them instead, so the check and the generator cannot disagree.

use anyhow::Result;

use crate::util::{cargo, run};

pub(crate) fn run_task() -> Result<()> {
    run(cargo()
        .args([
            "test",
            "-q",
            "-p",
            "dbx-tests",
            "--test",
            "service",
            "generated_files_are_current",
        ])
        .env("DBX_UPDATE_GENERATED", "1"))?;
    eprintln!(
        "wrote deploy/dbx.schema.json, deploy/helm/dbx/values.schema.json and deploy/helm/dbx/questions.yaml"
    );
    Ok(())
}
