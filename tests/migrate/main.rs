//! dbx-migrate on SQLite, PostgreSQL and MariaDB: locking between processes, atomicity and
//! dirty state, checksums, down/reset, modules, dry runs, Rust migrations and every tenant.
//! The `dbx` command runs as real processes (`dbx-under-test`); PostgreSQL and MariaDB are the
//! throwaway servers `cargo xtask test` starts.

mod atomicity;
mod checksums;
mod crash;
mod down_reset;
mod features;
mod locking;
mod modules;
mod support;
mod tenants;
