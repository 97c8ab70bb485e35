//! `cargo xtask test`: builds everything and runs every suite.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::util::{cargo, run as run_cmd};

/// Totals over every `test result:` line cargo prints.
#[derive(Debug, Default)]
struct Tally {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl Tally {
    fn add_line(&mut self, line: &str) {
        let Some(rest) = line.strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(label), Some(count)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(n) = count.parse::<u64>() else {
                continue;
            };
            match label {
                "passed" => self.passed += n,
                "failed" => self.failed += n,
                "ignored" => self.ignored += n,
                _ => {}
            }
        }
    }
}

/// Runs a cargo test command, echoing its output and counting its results.
fn run_counted(cmd: &mut Command, tally: &mut Tally) -> Result<()> {
    let shown = format!("{cmd:?}").replace('"', "");
    eprintln!("$ {shown}");
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start `{shown}`"))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut out = std::io::stdout().lock();
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        tally.add_line(&line);
        writeln!(out, "{line}")?;
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("`{shown}` failed with {status}");
    }
    Ok(())
}

/// Installs the npm packages the suites run (`@libsql/client`, `@libsql/hrana-client`, and
/// `playwright-core` for the Studio's browser tests) from the committed lockfile.
fn install_js_clients() -> Result<()> {
    crate::util::npm_ci(&crate::util::project_root().join("tests/js"))
}

pub(crate) fn run(extra: &[String]) -> Result<()> {
    let mut tally = Tally::default();
    let outcome = (|| {
        install_js_clients()?;
        // Build first, so that the servers are not kept waiting through a compile.
        run_cmd(cargo().args(["test", "--workspace", "--all-targets", "--no-run"]))?;
        let env = crate::servers::start_all()?;
        let mut test = cargo();
        test.args(["test", "--workspace", "--all-targets"])
            .args(extra)
            .envs(env.iter().cloned());
        run_counted(&mut test, &mut tally)?;
        // Every benchmark once with tiny counts, so that the bench never rots; no timings
        // are judged.
        crate::bench::quick(&env)?;
        // Doctests are not part of `--all-targets`; the crate READMEs are doctested here.
        run_counted(cargo().args(["test", "--workspace", "--doc"]), &mut tally)?;
        run_cmd(cargo().args(["run", "--quiet", "-p", "dbx", "--example", "quickstart"]))?;
        // The README's first command, exactly: a release build of `dbx serve` on a real socket.
        crate::readme_serve::check()
    })();
    crate::servers::stop_all();
    // One closing line for people and for CI, whatever happened above.
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "xtask test: {} passed, {} failed, {} ignored",
        tally.passed, tally.failed, tally.ignored
    )?;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_sums_cargo_result_lines() {
        let mut t = Tally::default();
        t.add_line("test result: ok. 58 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out; finished in 1.16s");
        t.add_line("test result: ok. 4 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out");
        t.add_line("running 3 tests");
        assert_eq!((t.passed, t.failed, t.ignored), (62, 2, 1));
    }
}
