//! Runs the README's first command exactly as a new user would, from the workspace root:
//! `cargo run --release --bin dbx -- serve`. It must come up on its default address, answer
//! Hrana, REST, OpenAPI, health and metrics over a real socket, and stop cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};

use crate::util::{cargo, project_root, run};

/// The README's first command, without the leading `cargo`.
const SERVE: [&str; 6] = ["run", "--release", "--bin", "dbx", "--", "serve"];
/// Where `serve` listens when given no `--listen`.
const DEFAULT_ADDRESS: &str = "127.0.0.1:8080";

/// The first command line of the README's first `sh` block.
fn readme_first_command() -> Result<String> {
    let readme = std::fs::read_to_string(project_root().join("README.md"))?;
    let block = readme
        .split("```sh\n")
        .nth(1)
        .context("README.md has no ```sh block")?;
    let line = block
        .lines()
        .next()
        .context("the README's first sh block is empty")?;
    Ok(line.split('#').next().unwrap_or_default().trim().to_owned())
}

/// A plain HTTP/1.1 GET; returns the status and the body.
fn get(path: &str) -> Result<(u16, String)> {
    let mut stream = TcpStream::connect(DEFAULT_ADDRESS)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {DEFAULT_ADDRESS}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("GET {path}: not an HTTP response: {response:?}"))?;
    let body = response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    Ok((status, body))
}

pub(crate) fn check() -> Result<()> {
    let expected = format!("cargo {}", SERVE.join(" "));
    let first = readme_first_command()?;
    ensure!(
        first == expected,
        "README.md's first command is `{first}`, but this check runs `{expected}`; keep them the same"
    );
    if TcpStream::connect(DEFAULT_ADDRESS).is_ok() {
        bail!(
            "something already listens on {DEFAULT_ADDRESS}, where the README's `serve` command listens; stop it and run again"
        );
    }
    // Build first, so that the wait below is for the server, not the compiler.
    run(cargo().args(["build", "--release", "--bin", "dbx"]))?;
    eprintln!("$ {expected}");
    let mut child = cargo()
        .args(SERVE)
        .stdout(Stdio::piped())
        .spawn()
        .context("starting the README's serve command")?;
    let outcome = (|| -> Result<()> {
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first_line = lines
            .next()
            .context("`dbx serve` exited before printing its address")??;
        ensure!(
            first_line == format!("dbx listening on http://{DEFAULT_ADDRESS}"),
            "unexpected first line {first_line:?}"
        );
        std::thread::spawn(move || lines.for_each(drop));
        for (path, must_contain) in [
            ("/health", "\"ok\""),
            ("/api/adapters", "\"sqlite\""),
            ("/api/databases/sqlite/tables", "\"tables\""),
            ("/api/openapi.json", "\"3.1.0\""),
            ("/studio/", "<title>dbx Studio</title>"),
            ("/metrics", "dbx_http_requests_total"),
            ("/v2", "Hrana"),
        ] {
            let (status, body) = get(path)?;
            ensure!(status == 200, "GET {path} answered {status}: {body}");
            ensure!(
                body.contains(must_contain),
                "GET {path} lacks {must_contain}: {body}"
            );
            eprintln!("  GET {path}: {status}");
        }
        Ok(())
    })();
    // `cargo run` replaces itself with the binary on Unix, so this signals `dbx` itself.
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let exit = child.wait()?;
    outcome?;
    ensure!(
        signalled.is_ok_and(|s| s.success()),
        "could not send SIGTERM"
    );
    ensure!(
        exit.success(),
        "`dbx serve` exited with {exit} after SIGTERM"
    );
    eprintln!("  stopped cleanly on SIGTERM");
    Ok(())
}
