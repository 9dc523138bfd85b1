//! A private MariaDB server for the tests of one test binary:
//! `mariadb-install-db` into a temporary directory, `mariadbd` on a free
//! port on 127.0.0.1 with its socket in that directory, the root password
//! set to [`MARIADB_PASSWORD`], stopped when the test process ends (an
//! atexit hook, and a watchdog process in case the tests are killed).
//!
//! Running as root, the server is told to run as root (`--user=root`)
//! rather than switching to the package's `mysql` user, so the temporary
//! directory needs no change of owner. A test that needs the server and
//! cannot start it fails; `scripts/test-deps` installs it.

#![allow(dead_code)]

use mysql::prelude::Queryable;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The root password; finding it in any output is a leak.
pub const MARIADB_PASSWORD: &str = "Numbat-maria-secret-7719-qwerty";

pub struct Server {
    pub port: u16,
    pub dir: PathBuf,
    pub socket: PathBuf,
    pid: u32,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static TLS_SERVER: OnceLock<Server> = OnceLock::new();
static REPLICA: OnceLock<Server> = OnceLock::new();

/// What a test server is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Plain,
    /// Also offers TLS.
    Tls,
    /// A read-only replica of [`server`].
    Replica,
}

/// The server of this test binary, started on first use.
pub fn server() -> &'static Server {
    SERVER.get_or_init(|| Server::start(Role::Plain))
}

/// A second server that also offers TLS, with a certificate for
/// 127.0.0.1 and localhost signed by the authority in [`Server::tls_ca`].
pub fn tls_server() -> &'static Server {
    TLS_SERVER.get_or_init(|| Server::start(Role::Tls))
}

/// A read-only replica of [`server`] (a standby), replicating everything
/// from the start of its binary log.
pub fn replica() -> &'static Server {
    REPLICA.get_or_init(|| {
        let primary = server();
        let r = Server::start(Role::Replica);
        r.client()
            .query_drop(format!(
                "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='root', \
                 MASTER_PASSWORD='{MARIADB_PASSWORD}', MASTER_USE_GTID=slave_pos; START SLAVE",
                primary.port
            ))
            .unwrap();
        r
    })
}

/// A certificate authority and a server certificate it signed, made by
/// the `openssl` command in `dir`: `ca.pem`, `server.pem`, `server.key`.
pub fn make_certificates(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    let steps: [&[&str]; 3] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=sqlvault test authority",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ],
    ];
    for args in steps {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run openssl (scripts/test-deps installs it): {e}"));
        assert!(
            out.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A program from the MariaDB packages, on PATH or where Debian puts it.
fn program(name: &str) -> PathBuf {
    let from_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name));
    from_path
        .chain(["/usr/sbin", "/usr/bin"].map(|d| Path::new(d).join(name)))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no `{name}` (MariaDB server); run scripts/test-deps"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

extern "C" fn stop_at_exit() {
    for s in [REPLICA.get(), SERVER.get(), TLS_SERVER.get()]
        .into_iter()
        .flatten()
    {
        s.stop();
    }
}

impl Server {
    fn start(role: Role) -> Server {
        let mariadbd = program("mariadbd");
        let install_db = program("mariadb-install-db");
        let dir = tempfile::Builder::new()
            .prefix("sqlvault-mariadb-")
            .tempdir_in("/tmp")
            .unwrap()
            .keep();
        let data = dir.join("data");
        // A server deletes every `#sql*` file in its tmpdir when it starts:
        // with a shared /tmp, one test's server would remove another's
        // temporary tables while mariadb-install-db is still using them.
        let tmp = dir.join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let tmpdir = format!("--tmpdir={}", tmp.display());
        let as_root: &[&str] = if is_root() { &["--user=root"] } else { &[] };
        let out = Command::new(install_db)
            .arg("--no-defaults")
            .args(as_root)
            .args([
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
            ])
            .arg(format!("--datadir={}", data.display()))
            .arg(&tmpdir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mariadb-install-db failed (run scripts/test-deps?): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let socket = dir.join("mysqld.sock");
        let log = dir.join("error.log");
        let mut tls_args = Vec::new();
        if role == Role::Tls {
            let certs = dir.join("tls");
            make_certificates(&certs);
            for (opt, file) in [
                ("ca", "ca.pem"),
                ("cert", "server.pem"),
                ("key", "server.key"),
            ] {
                tls_args.push(format!("--ssl-{opt}={}", certs.join(file).display()));
            }
        }
        let child = Command::new(mariadbd)
            .arg("--no-defaults")
            .args(as_root)
            .arg(format!("--datadir={}", data.display()))
            .arg(&tmpdir)
            .arg(format!("--port={port}"))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--pid-file={}", dir.join("mysqld.pid").display()))
            .arg(format!("--log-error={}", log.display()))
            // Name lookups of 127.0.0.1 would make the grants depend on
            // the machine's /etc/hosts.
            .arg("--skip-name-resolve")
            // A binary log, so backups record their position in it.
            .arg(format!("--log-bin={}", dir.join("binlog").display()))
            .arg(format!(
                "--server-id={}",
                if role == Role::Replica { 2 } else { 1 }
            ))
            .args(if role == Role::Replica {
                &["--read-only"][..]
            } else {
                &[]
            })
            // Speed over durability: the data dies with the tests.
            .args([
                "--innodb-buffer-pool-size=64M",
                "--innodb-flush-log-at-trx-commit=0",
                "--skip-innodb-doublewrite",
                "--max-connections=100",
            ])
            .args(&tls_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start mariadbd (run scripts/test-deps): {e}"));
        let s = Server {
            port,
            dir: dir.clone(),
            socket,
            pid: child.id(),
        };
        spawn_watchdog(s.pid, &dir);
        // SAFETY: registering a plain function; it runs at exit and stops
        // whichever servers were started.
        static REGISTERED: std::sync::Once = std::sync::Once::new();
        REGISTERED.call_once(|| unsafe {
            libc::atexit(stop_at_exit);
        });
        // Never waited for here: stop() reaps it.
        std::mem::forget(child);
        s.wait_until_ready(&log);
        s.set_root_password();
        s
    }

    fn wait_until_ready(&self, log: &Path) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let opts = mysql::OptsBuilder::new()
                .socket(Some(self.socket.display().to_string()))
                .user(Some("root"))
                .prefer_socket(false);
            if mysql::Conn::new(opts).is_ok() {
                return;
            }
            // SAFETY: kill with signal 0 only checks that the process exists.
            let alive = unsafe { libc::kill(self.pid as i32, 0) } == 0;
            if !alive || Instant::now() > deadline {
                let log = std::fs::read_to_string(log).unwrap_or_default();
                panic!("the MariaDB test server did not start (run scripts/test-deps?):\n{log}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The `root` accounts the installer made for this machine get the
    /// password, so TCP and the socket both ask for it. (The one named
    /// after the host name is ignored by a server that resolves no names.)
    fn set_root_password(&self) {
        let opts = mysql::OptsBuilder::new()
            .socket(Some(self.socket.display().to_string()))
            .user(Some("root"))
            .prefer_socket(false);
        let mut c = mysql::Conn::new(opts).unwrap();
        for h in ["localhost", "127.0.0.1", "::1"] {
            c.query_drop(format!(
                "ALTER USER IF EXISTS 'root'@'{h}' IDENTIFIED BY '{MARIADB_PASSWORD}'"
            ))
            .unwrap();
        }
    }

    fn stop(&self) {
        // SAFETY: signalling and reaping our own child process.
        unsafe {
            libc::kill(self.pid as i32, libc::SIGKILL);
            libc::waitpid(self.pid as i32, std::ptr::null_mut(), 0);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// The authority that signed the TLS server's certificate.
    pub fn tls_ca(&self) -> PathBuf {
        self.dir.join("tls").join("ca.pem")
    }

    /// How many TLS handshakes the server has accepted.
    pub fn tls_accepts(&self) -> u64 {
        self.status("Ssl_accepts")
    }

    /// Wait until this replica has applied everything its primary wrote.
    pub fn catch_up(&self, primary: &Server) {
        let target: String = primary
            .client()
            .query_first("SELECT @@gtid_binlog_pos")
            .unwrap()
            .unwrap_or_default();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let applied: String = self
                .client()
                .query_first("SELECT @@gtid_slave_pos")
                .unwrap()
                .unwrap_or_default();
            if applied == target {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the replica is at {applied}, not {target}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A counter of `SHOW GLOBAL STATUS`.
    pub fn status(&self, name: &str) -> u64 {
        let row: Option<(String, String)> = self
            .client()
            .query_first(format!("SHOW GLOBAL STATUS LIKE '{name}'"))
            .unwrap();
        row.map(|(_, v)| v.parse().unwrap()).unwrap_or(0)
    }

    /// The server over TCP, with no password in the URL.
    pub fn url(&self) -> String {
        format!("mariadb://root@127.0.0.1:{}/", self.port)
    }

    /// The server over TCP with the password in the URL.
    pub fn url_with_password(&self) -> String {
        format!(
            "mariadb://root:{}@127.0.0.1:{}/",
            encode(MARIADB_PASSWORD),
            self.port
        )
    }

    /// The server through its Unix socket, with no password in the URL.
    pub fn socket_url(&self) -> String {
        format!("mariadb://root@localhost/?socket={}", self.socket.display())
    }

    /// A root connection over TCP.
    pub fn client(&self) -> mysql::Conn {
        let opts = mysql::OptsBuilder::new()
            .ip_or_hostname(Some("127.0.0.1"))
            .tcp_port(self.port)
            .user(Some("root"))
            .pass(Some(MARIADB_PASSWORD))
            .prefer_socket(false);
        mysql::Conn::new(opts).unwrap_or_else(|e| panic!("cannot connect to the test server: {e}"))
    }

    /// Run statements (several, separated by `;`) in `db` (or none).
    pub fn exec(&self, db: Option<&str>, sql: &str) {
        let mut c = self.client();
        if let Some(db) = db {
            c.query_drop(format!("USE {}", quote_ident(db))).unwrap();
        }
        c.query_drop(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Create (or re-create) an empty database with this character set.
    pub fn create_db(&self, name: &str, charset: &str) {
        let q = quote_ident(name);
        self.exec(
            None,
            &format!("DROP DATABASE IF EXISTS {q}; CREATE DATABASE {q} CHARACTER SET {charset}"),
        );
    }

    /// Environment for a child that connects: no MYSQL_* variable of the
    /// caller's (tests add the ones they mean).
    pub fn env(&self, cmd: &mut Command) {
        for (k, _) in std::env::vars() {
            if k.starts_with("MYSQL_") {
                cmd.env_remove(k);
            }
        }
    }

    /// Whether database `name` exists.
    pub fn db_exists(&self, name: &str) -> bool {
        let n: Option<u64> = self
            .client()
            .exec_first(
                "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
                (name,),
            )
            .unwrap();
        n == Some(1)
    }

    /// Drop database `name` if it exists.
    pub fn drop_db(&self, name: &str) {
        self.exec(
            None,
            &format!("DROP DATABASE IF EXISTS {}", quote_ident(name)),
        );
    }

    /// Every database whose name starts with `prefix`, in order.
    pub fn databases_like(&self, prefix: &str) -> Vec<String> {
        let names: Vec<String> = self
            .client()
            .query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY 1")
            .unwrap();
        names
            .into_iter()
            .filter(|n| n.starts_with(prefix))
            .collect()
    }

    /// The base tables (system-versioned ones included) of `db`, in order.
    pub fn tables(&self, db: &str) -> Vec<String> {
        self.client()
            .exec(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? \
                 AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY 1",
                (db,),
            )
            .unwrap()
    }

    /// `mariadb-dump` of `db`'s schema (tables, views, sequences with
    /// their state, routines, triggers, events), without what differs
    /// between two copies of one database: `AUTO_INCREMENT=N` and the
    /// comment lines naming the database.
    pub fn schema_dump(&self, db: &str) -> String {
        let mut cmd = Command::new(program("mariadb-dump"));
        self.env(&mut cmd);
        let out = cmd
            .env("MYSQL_PWD", MARIADB_PASSWORD)
            .args(["--no-defaults", "--protocol=tcp", "--host=127.0.0.1"])
            .arg(format!("--port={}", self.port))
            .args([
                "--user=root",
                "--no-data",
                "--routines",
                "--triggers",
                "--events",
                "--skip-dump-date",
                "--",
                db,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mariadb-dump of {db:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter(|l| !(l.starts_with("--") && l.contains(db)))
            .map(strip_auto_increment)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Every base table's rows in `db`, sorted, with every column
    /// (generated and invisible ones too) as the server's text; for a
    /// system-versioned table, its past rows and every row's period too.
    pub fn contents(&self, db: &str) -> Contents {
        let mut c = self.client();
        c.query_drop("SET NAMES utf8mb4").unwrap();
        let mut out = Contents::new();
        for table in self.tables(db) {
            let described: Vec<(String, Option<String>)> = c
                .exec(
                    "SELECT COLUMN_NAME, GENERATION_EXPRESSION FROM information_schema.COLUMNS \
                     WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
                    (db, &table),
                )
                .unwrap();
            let mut columns: Vec<String> = described.iter().map(|(c, _)| c.clone()).collect();
            // A system-versioned table: its history too, with each row's
            // period (invisible columns the server adds, unless declared).
            let versioned: Option<String> = c
                .exec_first(
                    "SELECT TABLE_NAME FROM information_schema.TABLES \
                     WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND TABLE_TYPE = 'SYSTEM VERSIONED'",
                    (db, &table),
                )
                .unwrap();
            let period = if versioned.is_some() {
                if !described
                    .iter()
                    .any(|(_, g)| g.as_deref() == Some("ROW START"))
                {
                    columns.extend(["row_start".to_string(), "row_end".to_string()]);
                }
                " FOR SYSTEM_TIME ALL"
            } else {
                ""
            };
            let list = columns
                .iter()
                .map(|c| quote_ident(c))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT {list} FROM {}.{}{period}",
                quote_ident(db),
                quote_ident(&table)
            );
            let mut rows: Vec<Vec<Option<Vec<u8>>>> = c
                .query_map(&sql, |row: mysql::Row| {
                    row.unwrap()
                        .into_iter()
                        .map(|v| match v {
                            mysql::Value::NULL => None,
                            mysql::Value::Bytes(b) => Some(b),
                            other => Some(other.as_sql(true).into_bytes()),
                        })
                        .collect()
                })
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            rows.sort();
            out.insert(table, rows);
        }
        out
    }
}

/// Table name → its rows, sorted; a value is its text, or None for NULL.
pub type Contents = std::collections::BTreeMap<String, Vec<Vec<Option<Vec<u8>>>>>;

/// A `CREATE TABLE` line without its ` AUTO_INCREMENT=N`.
fn strip_auto_increment(line: &str) -> String {
    let Some(at) = line.find(" AUTO_INCREMENT=") else {
        return line.to_string();
    };
    let rest = &line[at + " AUTO_INCREMENT=".len()..];
    let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return line.to_string();
    }
    format!("{}{}", &line[..at], &rest[digits..])
}

/// Assert two databases' rows are the same, naming the tables that differ
/// and their first differing row.
#[track_caller]
pub fn assert_same_contents(expected: &Contents, got: &Contents) {
    let show = |row: &[Option<Vec<u8>>]| {
        row.iter()
            .map(|v| match v {
                None => "NULL".to_string(),
                Some(b) => format!("{:?}", String::from_utf8_lossy(b)),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut diffs = Vec::new();
    for (table, rows) in expected {
        let Some(other) = got.get(table) else {
            diffs.push(format!("missing table {table}"));
            continue;
        };
        if rows != other {
            let first = rows
                .iter()
                .zip(other)
                .position(|(a, b)| a != b)
                .unwrap_or(rows.len().min(other.len()));
            diffs.push(format!(
                "table {table}: {} rows, expected {}; first difference at row {first}: ({}) expected ({})",
                other.len(),
                rows.len(),
                other.get(first).map(|r| show(r)).unwrap_or_default(),
                rows.get(first).map(|r| show(r)).unwrap_or_default(),
            ));
        }
    }
    for table in got.keys().filter(|t| !expected.contains_key(*t)) {
        diffs.push(format!("unexpected table {table}"));
    }
    assert!(
        diffs.is_empty(),
        "restored contents differ:\n{}",
        diffs.join("\n")
    );
}

/// A process that kills the server and removes `dir` when this test
/// process goes away, even by a kill.
fn spawn_watchdog(server_pid: u32, dir: &Path) {
    // The atexit hook removes the directory after it stops the server: a
    // directory still there means the server was not stopped.
    let watchdog = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         if [ -d '{dir}' ]; then kill -9 {server_pid} 2>/dev/null; rm -rf '{dir}'; fi",
        pid = std::process::id(),
        dir = dir.display(),
    );
    // Never waited for: it must outlive this process.
    #[allow(clippy::zombie_processes)]
    Command::new("sh")
        .args(["-c", &watchdog])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
}

pub fn quote_ident(s: &str) -> String {
    format!("`{}`", s.replace('`', "``"))
}

/// Percent-encode text for a URL part.
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
