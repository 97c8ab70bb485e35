//! `cargo xtask fuzz <target>|all --seconds N`: runs the cargo-fuzz targets under `fuzz/`
//! with libFuzzer and records each run's executions and crashes in `target/fuzz/<target>.json`.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use anyhow::{Context, Result, bail, ensure};

use crate::util::{cargo, project_root};

/// The targets, as named in `fuzz/Cargo.toml`.
const TARGETS: [&str; 5] = [
    "hrana_json",
    "hrana_protobuf",
    "websocket",
    "placeholders",
    "config",
];

const USAGE: &str = "usage: cargo xtask fuzz <target>|all [--seconds N]  (targets: hrana_json, hrana_protobuf, websocket, placeholders, config; default 60 s each)";

pub(crate) fn run(args: &[String]) -> Result<()> {
    let mut target = None;
    let mut seconds = 60u64;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = it.next().context(USAGE)?;
                seconds = value
                    .parse()
                    .with_context(|| format!("--seconds takes a whole number, not {value:?}"))?;
            }
            name if target.is_none() && !name.starts_with('-') => target = Some(name.to_owned()),
            other => bail!("unexpected argument {other:?}\n{USAGE}"),
        }
    }
    let target = target.context(USAGE)?;
    let targets: Vec<&str> = if target == "all" {
        TARGETS.to_vec()
    } else {
        let known = TARGETS.iter().find(|t| **t == target);
        vec![*known.with_context(|| format!("unknown fuzz target {target:?}\n{USAGE}"))?]
    };
    check_cargo_fuzz()?;
    for target in targets {
        fuzz_one(target, seconds)?;
    }
    Ok(())
}

fn check_cargo_fuzz() -> Result<()> {
    let found = cargo()
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ensure!(
        found,
        "cargo-fuzz is not installed: run `cargo install cargo-fuzz --locked` (it builds \
         libFuzzer with the C++ compiler, g++ here) and try again"
    );
    Ok(())
}

/// What one run reports.
#[derive(Debug, Default)]
struct Run {
    executions: u64,
    seconds: u64,
    crash: Option<String>,
}

fn fuzz_one(target: &str, seconds: u64) -> Result<()> {
    let root = project_root();
    let corpus = root.join("fuzz/corpus").join(target);
    let seeds = root.join("fuzz/seeds").join(target);
    std::fs::create_dir_all(&corpus)?;
    let mut cmd = cargo();
    // `-s none`: no sanitizer, which needs a nightly compiler; the targets are safe Rust, so
    // libFuzzer's coverage guidance is what matters. New inputs go to the first directory;
    // the committed seeds are read only.
    cmd.args(["fuzz", "run", "-s", "none", target])
        .arg(&corpus)
        .arg(&seeds)
        .args([
            "--",
            &format!("-max_total_time={seconds}"),
            "-print_final_stats=1",
        ])
        .stderr(Stdio::piped());
    eprintln!("$ cargo fuzz run -s none {target} ... -max_total_time={seconds}");
    let mut child = cmd.spawn().context("starting cargo fuzz")?;
    let stderr = child.stderr.take().context("no stderr")?;
    let mut run = Run::default();
    for line in BufReader::new(stderr).lines() {
        let line = line?;
        if let Some(n) = line.strip_prefix("stat::number_of_executed_units:") {
            run.executions = n.trim().parse().unwrap_or(0);
        }
        if let Some(rest) = line.strip_prefix("Done ") {
            // "Done 993480 runs in 21 second(s)"
            run.seconds = rest
                .split_whitespace()
                .nth(3)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
        }
        if line.contains("Test unit written to") || line.contains("panicked at") {
            run.crash.get_or_insert_with(|| line.clone());
        }
        if line.starts_with('#') || line.starts_with("Done") || line.contains("panicked") {
            eprintln!("{line}");
        }
    }
    let status = child.wait()?;
    let record = format!(
        "{{\"target\": \"{target}\", \"seconds\": {}, \"executions\": {}, \"crashes\": {}}}\n",
        run.seconds,
        run.executions,
        u8::from(run.crash.is_some() || !status.success())
    );
    let out = root.join("target/fuzz");
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join(format!("{target}.json")), &record)?;
    eprintln!(
        "{target}: {} executions in {} s",
        run.executions, run.seconds
    );
    if let Some(crash) = run.crash {
        bail!(
            "{target} crashed: {crash}\nthe input is under fuzz/artifacts/{target}/; turn it into a regression test"
        );
    }
    ensure!(
        status.success(),
        "cargo fuzz run {target} failed with {status}"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_is_declared_in_the_fuzz_manifest() {
        let manifest = std::fs::read_to_string(project_root().join("fuzz/Cargo.toml")).unwrap();
        for target in TARGETS {
            assert!(
                manifest.contains(&format!("name = \"{target}\"")),
                "{target}"
            );
            assert!(
                project_root()
                    .join(format!("fuzz/fuzz_targets/{target}.rs"))
                    .exists(),
                "{target}"
            );
            assert!(
                project_root().join(format!("fuzz/seeds/{target}")).is_dir(),
                "seeds for {target}"
            );
        }
    }
}
