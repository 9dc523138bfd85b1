//! A private PostgreSQL cluster for the tests of one test binary: initdb
//! into a temporary directory, started on a free port on 127.0.0.1 with
//! its socket in that directory, stopped when the test process ends (an
//! atexit hook, and a watchdog process in case the tests are killed).
//!
//! Running as root, the server runs as the `postgres` user of the Debian
//! package (PostgreSQL refuses to run as root). A test that needs the
//! cluster and cannot start it fails; `scripts/test-deps` installs the
//! server.

#![allow(dead_code)]

pub mod archiving;
pub mod compare;
pub mod standby;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The superuser's password; finding it in any output is a leak.
pub const PG_PASSWORD: &str = "Wombat-pg-secret-5531-xyzzy";

pub struct Cluster {
    pub port: u16,
    pub dir: PathBuf,
    pub bindir: PathBuf,
    pub as_postgres: bool,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

/// The cluster of this test binary, started on first use.
pub fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(Cluster::start)
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The newest installed server's binaries.
pub fn server_bindir() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| rd.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    dirs.retain(|d| d.join("postgres").is_file() && d.join("initdb").is_file());
    dirs.sort_by_key(|d| {
        d.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    dirs.pop().unwrap_or_else(|| {
        panic!("no PostgreSQL server under /usr/lib/postgresql/*/bin; run scripts/test-deps")
    })
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn chown_to_postgres(path: &Path) {
    let st = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(path)
        .status()
        .unwrap();
    assert!(st.success(), "cannot chown {path:?} to postgres");
}

extern "C" fn stop_at_exit() {
    if let Some(c) = CLUSTER.get() {
        c.stop();
    }
}

impl Cluster {
    pub fn tool(&self, name: &str) -> Command {
        let bin = self.bindir.join(name);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin);
            c
        } else {
            Command::new(bin)
        }
    }

    fn start() -> Cluster {
        let bindir = server_bindir();
        let dir = tempfile::Builder::new()
            .prefix("sqlvault-pg-")
            .tempdir_in("/tmp")
            .unwrap()
            .keep();
        let as_postgres = is_root();
        let c = Cluster {
            port: free_port(),
            dir: dir.clone(),
            bindir,
            as_postgres,
        };
        std::fs::write(dir.join("pw"), PG_PASSWORD).unwrap();
        if as_postgres {
            chown_to_postgres(&dir);
        }
        let out = c
            .tool("initdb")
            .arg("-D")
            .arg(dir.join("data"))
            .args(["-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "-N"])
            .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
            .arg(format!("--pwfile={}", dir.join("pw").display()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::remove_file(dir.join("pw")).unwrap();
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=60 -c max_wal_size=4GB \
             -c shared_buffers=256MB -c lc_messages=C",
            c.port,
            dir.display()
        );
        let pg_ctl = c.bindir.join("pg_ctl").display().to_string();
        let pg_ctl = if as_postgres {
            format!("runuser -u postgres -- {pg_ctl}")
        } else {
            pg_ctl
        };
        spawn_watchdog(&pg_ctl, &dir.join("data"), &dir);
        let out = c
            .tool("pg_ctl")
            .arg("-D")
            .arg(dir.join("data"))
            .arg("-l")
            .arg(dir.join("log"))
            .args(["-w", "-t", "60", "-o", &opts, "start"])
            .output()
            .unwrap();
        if !out.status.success() {
            let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
            panic!(
                "pg_ctl start failed: {}\n{log}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // SAFETY: registering a plain function; it runs once at exit.
        unsafe { libc::atexit(stop_at_exit) };
        c
    }

    fn stop(&self) {
        let _ = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// A URL for `db` without the password (give it through PGPASSWORD).
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{}", self.port, encode(db))
    }

    /// A URL for `db` with the password in it.
    pub fn url_with_password(&self, db: &str) -> String {
        format!(
            "postgres://postgres:{PG_PASSWORD}@127.0.0.1:{}/{}",
            self.port,
            encode(db)
        )
    }

    pub fn client(&self, db: &str) -> postgres::Client {
        postgres::Config::new()
            .host("127.0.0.1")
            .port(self.port)
            .user("postgres")
            .password(PG_PASSWORD)
            .dbname(db)
            .connect(postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to test database {db:?}: {e}"))
    }

    /// Create (or re-create) an empty database.
    pub fn create_db(&self, name: &str) {
        let mut c = self.client("postgres");
        let q = quote_ident(name);
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {q} WITH (FORCE)"))
            .unwrap();
        c.batch_execute(&format!("CREATE DATABASE {q}")).unwrap();
    }

    pub fn drop_db(&self, name: &str) {
        let mut c = self.client("postgres");
        c.batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(name)
        ))
        .unwrap();
    }

    pub fn db_exists(&self, name: &str) -> bool {
        let mut c = self.client("postgres");
        !c.query("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
            .unwrap()
            .is_empty()
    }

    /// Every database whose name starts with `prefix`.
    pub fn databases_like(&self, prefix: &str) -> Vec<String> {
        let mut c = self.client("postgres");
        c.query("SELECT datname::text FROM pg_database ORDER BY 1", &[])
            .unwrap()
            .iter()
            .map(|r| r.get::<_, String>(0))
            .filter(|n| n.starts_with(prefix))
            .collect()
    }

    /// Environment for a child that connects: the password, and no other PG* variable.
    pub fn env(&self, cmd: &mut Command) {
        for (k, _) in std::env::vars() {
            if k.starts_with("PG") {
                cmd.env_remove(k);
            }
        }
        cmd.env("PGPASSWORD", PG_PASSWORD);
    }

    /// `pg_dump --schema-only` of `db`, without the lines that differ
    /// between any two runs (the random `\restrict` keys).
    pub fn schema_dump(&self, db: &str) -> String {
        let mut cmd = Command::new(self.bindir.join("pg_dump"));
        self.env(&mut cmd);
        cmd.env("PGHOST", "127.0.0.1")
            .env("PGPORT", self.port.to_string())
            .env("PGUSER", "postgres")
            .env("PGDATABASE", db)
            .arg("--schema-only");
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "pg_dump of {db:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A process that stops the server of `data` and removes `dir` when this
/// test process goes away, even by a kill.
pub fn spawn_watchdog(pg_ctl: &str, data: &Path, dir: &Path) {
    let watchdog = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {pg_ctl} -D '{data}' -m immediate \
         >/dev/null 2>&1; rm -rf '{dir}'",
        pid = std::process::id(),
        data = data.display(),
        dir = dir.display(),
    );
    // Never waited for: it must outlive this process.
    #[allow(clippy::zombie_processes)]
    Command::new("sh")
        .args(["-c", &watchdog])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
}

pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Percent-encode a database name for a URL path.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
