//! Throwaway PostgreSQL and MariaDB servers, each in a temp dir on a free loopback port.
//!
//! Used by `cargo xtask test` (which includes this file as a module, so it needs nothing but
//! std) and by fault-injection tests that kill and restart a server of their own. A server is
//! stopped and its directory removed when its handle is dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Why a server could not be started: says what is missing and how to get it.
pub type StartError = String;

fn free_port() -> Result<u16, StartError> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free loopback port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

fn temp_dir(prefix: &str) -> Result<PathBuf, StartError> {
    let base = std::env::temp_dir();
    for attempt in 0..100u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = base.join(format!("{prefix}-{}-{nanos}-{attempt}", std::process::id()));
        if std::fs::create_dir(&dir).is_ok() {
            return Ok(dir);
        }
    }
    Err(format!(
        "could not create a temp dir under {}",
        base.display()
    ))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn run(cmd: &mut Command, what: &str) -> Result<(), StartError> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: could not run {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Waits (up to 10 s) until `pid` has exited, counting a zombie as exited.
fn wait_until_gone(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return,
            Ok(stat)
                if stat
                    .rsplit(')')
                    .next()
                    .is_some_and(|rest| rest.trim_start().starts_with('Z')) =>
            {
                return;
            }
            Ok(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn find_binary(name: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    dirs.iter()
        .chain(path_dirs.iter())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A PostgreSQL server of its own.
#[derive(Debug)]
pub struct PgServer {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres_user: bool,
    /// More `postgres` options, such as `-c ssl=on`.
    extra: String,
}

impl PgServer {
    /// Runs `initdb` and starts the server. Takes about two seconds.
    pub fn start() -> Result<Self, StartError> {
        Self::start_with("")
    }

    /// Like [`start`](Self::start), with more `postgres` options (`-c name=value ...`).
    pub fn start_with(extra: &str) -> Result<Self, StartError> {
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
            candidates.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
        if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
            let mut versions: Vec<PathBuf> =
                entries.flatten().map(|e| e.path().join("bin")).collect();
            versions.sort();
            candidates.extend(versions.into_iter().rev());
        }
        let initdb = find_binary("initdb", &candidates).ok_or_else(|| {
            "PostgreSQL server binaries (initdb, pg_ctl) were not found: install them with \
             `apt-get install postgresql-15`, or set DBX_TEST_POSTGRES_URL to an existing server"
                .to_owned()
        })?;
        let bin = initdb.parent().map(Path::to_path_buf).unwrap_or_default();
        let dir = temp_dir("dbx-pg")?;
        let as_postgres_user = is_root();
        let server = Self {
            dir,
            bin,
            port: free_port()?,
            as_postgres_user,
            extra: extra.to_owned(),
        };
        if as_postgres_user {
            // initdb refuses to run as root; the postgres user must own the directory.
            run(
                Command::new("chown").arg("postgres:").arg(&server.dir),
                "chown of the PostgreSQL temp dir",
            )?;
        }
        let data = server.dir.join("data");
        run(
            server
                .command("initdb")
                .arg("-D")
                .arg(&data)
                .args([
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "--no-sync",
                    "--no-instructions",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ])
                .stdout(Stdio::null()),
            "initdb",
        )?;
        server.pg_ctl_start()?;
        Ok(server)
    }

    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        if self.as_postgres_user {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(exe);
            cmd
        } else {
            Command::new(exe)
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("pg.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    fn pg_ctl_start(&self) -> Result<(), StartError> {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=200 {}",
            self.port,
            self.dir.display(),
            self.extra
        );
        run(
            self.command("pg_ctl")
                .arg("-D")
                .arg(self.dir.join("data"))
                .arg("-l")
                .arg(self.dir.join("pg.log"))
                .args(["-w", "-t", "60", "-o", &options, "start"])
                .stdout(Stdio::null()),
            "pg_ctl start",
        )
        .map_err(|e| format!("{e}\nserver log:\n{}", self.log_tail()))
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The postmaster's pid, from its pid file.
    pub fn pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.dir.join("data/postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    /// `kill -9` of the postmaster and every backend, as in a crash.
    pub fn kill9(&self) {
        if let Some(pid) = self.pid() {
            // Children first collected, then the postmaster killed before them, so that it
            // cannot notice their deaths and start its own crash recovery.
            let children = Command::new("pgrep")
                .args(["-P", &pid.to_string()])
                .output()
                .map(|o| o.stdout)
                .unwrap_or_default();
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            for child in String::from_utf8_lossy(&children).split_whitespace() {
                let _ = Command::new("kill").args(["-9", child]).status();
            }
            wait_until_gone(pid);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts the server again on the same data and port, after a crash or a stop.
    pub fn restart(&self) -> Result<(), StartError> {
        // The killed postmaster could not remove its lock files; its pid is known to be dead.
        let _ = std::fs::remove_file(self.dir.join("data/postmaster.pid"));
        let _ = std::fs::remove_file(self.dir.join(format!(".s.PGSQL.{}.lock", self.port)));
        self.pg_ctl_start()
    }

    fn stop(&self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A MariaDB (MySQL protocol) server of its own.
#[derive(Debug)]
pub struct MariaServer {
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
    mariadbd: PathBuf,
    /// More `mariadbd` options, such as `--ssl-cert=...`.
    extra: Vec<String>,
}

impl MariaServer {
    /// Installs a data directory, starts `mariadbd` and creates the `test` user and database.
    pub fn start() -> Result<Self, StartError> {
        Self::start_with(&[])
    }

    /// Like [`start`](Self::start), with more `mariadbd` options.
    pub fn start_with(extra: &[String]) -> Result<Self, StartError> {
        let missing = "MariaDB server binaries (mariadbd, mariadb-install-db) were not found: install them \
             with `apt-get install mariadb-server`, or set DBX_TEST_MYSQL_URL to an existing server";
        let sbin = [PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")];
        let mariadbd = find_binary("mariadbd", &sbin).ok_or_else(|| missing.to_owned())?;
        let install = find_binary("mariadb-install-db", &sbin).ok_or_else(|| missing.to_owned())?;
        let dir = temp_dir("dbx-my")?;
        let mut server = Self {
            port: free_port()?,
            dir,
            child: None,
            mariadbd,
            extra: extra.to_vec(),
        };
        run(
            Command::new(install)
                .args([
                    "--no-defaults",
                    "--user=root",
                    "--auth-root-authentication-method=normal",
                ])
                .arg(format!("--datadir={}", server.dir.join("data").display()))
                .args(["--skip-test-db", "--skip-name-resolve"])
                .stdout(Stdio::null()),
            "mariadb-install-db",
        )?;
        server.launch()?;
        server.client(
            "CREATE DATABASE test CHARACTER SET utf8mb4; CREATE USER 'test'@'%' IDENTIFIED BY 'test'; \
             GRANT ALL ON *.* TO 'test'@'%' WITH GRANT OPTION;",
        )?;
        Ok(server)
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("mysqld.sock")
    }

    fn launch(&mut self) -> Result<(), StartError> {
        let log = std::fs::File::create(self.dir.join("stderr.log")).map_err(|e| e.to_string())?;
        let child = Command::new(&self.mariadbd)
            .args(["--no-defaults", "--user=root"])
            .arg(format!("--datadir={}", self.dir.join("data").display()))
            .arg(format!("--socket={}", self.socket().display()))
            .arg(format!(
                "--pid-file={}",
                self.dir.join("mysqld.pid").display()
            ))
            .arg(format!("--port={}", self.port))
            .args([
                "--bind-address=127.0.0.1",
                "--skip-name-resolve",
                "--skip-log-bin",
            ])
            .args([
                "--innodb-flush-log-at-trx-commit=0",
                "--innodb-doublewrite=0",
                "--innodb-buffer-pool-size=64M",
            ])
            .args(["--max-connections=300", "--character-set-server=utf8mb4"])
            .args(&self.extra)
            .arg(format!(
                "--log-error={}",
                self.dir.join("error.log").display()
            ))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("could not start mariadbd: {e}"))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ping = Command::new("mariadb-admin")
                .args(["--no-defaults", "-uroot", "ping"])
                .arg(format!("--socket={}", self.socket().display()))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            if ping.is_ok_and(|s| s.success()) {
                return Ok(());
            }
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                let log = std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default();
                return Err(format!(
                    "mariadbd exited with {status} while starting: {log}"
                ));
            }
            if Instant::now() > deadline {
                return Err("mariadbd did not answer within 60 s".to_owned());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn client(&self, sql: &str) -> Result<(), StartError> {
        run(
            Command::new("mariadb")
                .args(["--no-defaults", "-uroot"])
                .arg(format!("--socket={}", self.socket().display()))
                .args(["-e", sql]),
            "mariadb client",
        )
    }

    /// `mysql://test:test@127.0.0.1:PORT/test`.
    pub fn url(&self) -> String {
        format!("mysql://test:test@127.0.0.1:{}/test", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `kill -9` of the server, as in a crash.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same data and port.
    pub fn restart(&mut self) -> Result<(), StartError> {
        self.launch()
    }
}

impl Drop for MariaServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // A clean shutdown takes a second or two; these servers hold nothing worth it.
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A throwaway certificate authority and a server certificate for `localhost` and
/// `127.0.0.1`, made with the `openssl` command. Removed when dropped.
#[derive(Debug)]
pub struct TestCerts {
    dir: PathBuf,
    /// The CA certificate (PEM), for clients to trust.
    pub ca: PathBuf,
    /// The server certificate (PEM).
    pub cert: PathBuf,
    /// The server's private key (PEM).
    pub key: PathBuf,
}

impl TestCerts {
    /// Generates the certificates; readable by the `postgres` user when running as root.
    pub fn generate() -> Result<Self, StartError> {
        let dir = temp_dir("dbx-certs")?;
        let at = |name: &str| dir.join(name);
        let openssl = |args: &[&str]| {
            run(
                Command::new("openssl")
                    .args(args)
                    .current_dir(&dir)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null()),
                "openssl",
            )
            .map_err(|e| format!("{e} (is the `openssl` command installed?)"))
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=dbx test CA",
        ])?;
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ])?;
        std::fs::write(at("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
            .map_err(|e| e.to_string())?;
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ])?;
        if is_root() {
            run(
                Command::new("chown").arg("-R").arg("postgres:").arg(&dir),
                "chown of the test certificates",
            )?;
        }
        run(
            Command::new("chmod").arg("600").arg(at("server.key")),
            "chmod of the test key",
        )?;
        Ok(Self {
            ca: at("ca.crt"),
            cert: at("server.crt"),
            key: at("server.key"),
            dir,
        })
    }
}

impl Drop for TestCerts {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
