//! The `dbx` command, for tests that run it as separate processes (`CARGO_BIN_EXE_dbx-under-test`).

fn main() -> std::process::ExitCode {
    dbx_server::cli::main()
}
