//! Starts the database servers the suites need, and stops them however xtask ends.

use std::sync::Mutex;

use anyhow::{Result, anyhow};

#[path = "../../tests/src/servers.rs"]
#[allow(dead_code, unreachable_pub)]
mod imp;

pub(crate) use imp::{MariaServer, PgServer};

/// The servers of this run, reachable from the Ctrl-C handler.
static RUNNING: Mutex<Vec<Running>> = Mutex::new(Vec::new());

#[allow(dead_code)] // Held only so that dropping them stops the servers.
enum Running {
    Pg(PgServer),
    Maria(MariaServer),
}

/// Environment variables that point the suites at servers: `(name, url)`.
pub(crate) fn start_all() -> Result<Vec<(&'static str, String)>> {
    install_interrupt_handler();
    let mut env = Vec::new();
    match std::env::var("DBX_TEST_POSTGRES_URL") {
        Ok(url) => eprintln!("using PostgreSQL at DBX_TEST_POSTGRES_URL={url}"),
        Err(_) => {
            let pg = PgServer::start()
                .map_err(|e| anyhow!("cannot start PostgreSQL for the tests: {e}"))?;
            eprintln!("started PostgreSQL at {}", pg.url());
            env.push(("DBX_TEST_POSTGRES_URL", pg.url()));
            RUNNING
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(Running::Pg(pg));
        }
    }
    match std::env::var("DBX_TEST_MYSQL_URL") {
        Ok(url) => eprintln!("using MySQL at DBX_TEST_MYSQL_URL={url}"),
        Err(_) => {
            let my = MariaServer::start()
                .map_err(|e| anyhow!("cannot start MariaDB for the tests: {e}"))?;
            eprintln!("started MariaDB at {}", my.url());
            env.push(("DBX_TEST_MYSQL_URL", my.url()));
            RUNNING
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(Running::Maria(my));
        }
    }
    Ok(env)
}

/// Stops every server started by [`start_all`].
pub(crate) fn stop_all() {
    let servers: Vec<Running> =
        std::mem::take(&mut *RUNNING.lock().unwrap_or_else(|e| e.into_inner()));
    drop(servers);
}

fn install_interrupt_handler() {
    // A second install fails harmlessly; the first handler is the one that matters.
    let _ = ctrlc::set_handler(|| {
        eprintln!("interrupted: stopping test servers");
        stop_all();
        std::process::exit(130);
    });
}

/// `cargo xtask servers`: starts both servers and keeps them up until Ctrl-C.
pub(crate) fn serve_until_interrupted() -> Result<()> {
    let env = start_all()?;
    // The point of this task is to print the exports, for a shell to `eval`.
    #[allow(clippy::print_stdout)]
    for (name, url) in &env {
        println!("export {name}={url}");
    }
    eprintln!("servers are up; press Ctrl-C to stop them");
    loop {
        std::thread::park();
    }
}
