//! `cargo xtask <task>`: the project's automation, in Rust instead of shell scripts.

mod bench;
mod ci;
mod config_schema;
mod fuzz;
mod readme_serve;
mod servers;
mod studio;
mod test;
mod util;

use anyhow::{Result, bail};

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  test    build everything and run every test suite (the one test command)
  bench [--quick] [--only SECTION,...]  dbx against the raw drivers, Hrana load, tenants,
          migrations and footprint; a full run rewrites docs/benchmarks.md
  lint    cargo fmt --check, clippy -D warnings and the Cargo.lock rules
  ci      lint, then test
  servers start throwaway PostgreSQL and MariaDB servers and print their URLs
  config-schema  regenerate deploy/ (JSON Schema, Helm values schema, Rancher questions)
  soak [--seconds N]  mixed Hrana and REST load at saturation on SQLite and PostgreSQL;
          fails on 5xx (but 503 with Retry-After), >10% memory growth, descriptor growth
  fuzz <target>|all [--seconds N]  run a cargo-fuzz target (hrana_json, hrana_protobuf,
          websocket, placeholders, config); needs `cargo install cargo-fuzz`
  serve-check    run the README's first command (release `dbx serve`) and probe it (part of `test`)
  studio [--check]  rebuild the Studio bundle (crates/dbx-server/studio/dist), or check it matches the sources (part of `lint`)
";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = args
        .split_first()
        .map_or(("", &[][..]), |(t, r)| (t.as_str(), r));
    match task {
        "test" => test::run(rest),
        "bench" => bench::run(rest),
        "fuzz" => fuzz::run(rest),
        "soak" => bench::soak(rest),
        "lint" => ci::lint(),
        "ci" => ci::run(rest),
        "servers" => servers::serve_until_interrupted(),
        "config-schema" => config_schema::run_task(),
        "serve-check" => readme_serve::check(),
        "studio" => studio::run(rest),
        "" | "help" | "-h" | "--help" => {
            eprint!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown task {other:?}\n\n{USAGE}"),
    }
}
