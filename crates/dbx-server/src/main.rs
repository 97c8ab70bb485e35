//! The `dbx` command.

fn main() -> std::process::ExitCode {
    dbx_server::cli::main()
}
