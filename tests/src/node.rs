//! `node --test` files in `tests/js`, run as processes: the npm libSQL clients against the
//! Hrana server, and the Studio's browser tests.

use std::path::PathBuf;
use std::process::Command;

/// `tests/js`, where the scripts and their `node_modules` live.
pub fn js_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/js"))
}

/// Runs `node --test <file>` in `tests/js` with `env` added, and panics with node's whole
/// report unless it ran at least one test and none failed. Returns how many passed.
pub fn run_node_test(file: &str, env: &[(&str, String)]) -> u32 {
    assert!(
        js_dir().join("node_modules/.package-lock.json").is_file(),
        "the npm packages of tests/js are not installed: run `cargo xtask test`, or `npm ci` in tests/js"
    );
    // A failed test can leave a socket open that keeps node alive; the suite must end with
    // its report instead of hanging: every test gets five minutes, and the runner exits when
    // the tests are done.
    let out = Command::new("node")
        .args(["--test", "--test-force-exit", "--test-timeout=300000"])
        .arg(file)
        .current_dir(js_dir())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("node runs (install Node.js 20 or newer)");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "node --test {file} failed:\n{report}");
    let count = |prefix: &str| {
        report
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|n| n.trim().parse::<u32>().ok())
    };
    let (passed, failed) = (count("# pass ").unwrap_or(0), count("# fail "));
    // A run that executed nothing must not pass.
    assert!(
        passed > 0 && failed == Some(0),
        "node ran no test, or some failed:\n{report}"
    );
    passed
}
