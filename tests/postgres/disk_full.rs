//! A target server whose disk fills up during a restore (its data
//! directory on a small tmpfs): the restore fails with one error line, and
//! its temporary database does not stay on the full disk: it is dropped
//! once the server is back, or the error names it.

use crate::common::{self, Scratch, TmpfsMount, Vault, point_of};
use crate::pg_common::{
    PG_PASSWORD, chown_to_postgres, cluster, free_port, is_root, server_bindir,
};
use std::process::Command;
use std::time::{Duration, Instant};

/// A server of its own on a tmpfs of `size`, stopped when dropped.
struct SmallServer {
    data: std::path::PathBuf,
    port: u16,
    _mount: TmpfsMount,
}

fn as_postgres(tool: &str) -> Command {
    let mut c = Command::new("runuser");
    c.args(["-u", "postgres", "--"])
        .arg(server_bindir().join(tool));
    c
}

impl SmallServer {
    fn start(s: &Scratch, size: &str) -> SmallServer {
        assert!(
            is_root(),
            "this test mounts a tmpfs for a server's data: run it as root"
        );
        // The server's user must reach its data directory.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(s.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
        let mount = TmpfsMount::new(&s.join("small"), &format!("size={size}"))
            .unwrap_or_else(|e| panic!("running as root, but {e}"));
        chown_to_postgres(mount.path());
        let data = mount.path().join("data");
        let out = as_postgres("initdb")
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "-N",
                "--auth=trust",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_wal_size=48MB -c min_wal_size=32MB -c lc_messages=C",
            mount.path().display()
        );
        let out = as_postgres("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(mount.path().join("log"))
            .args(["-w", "-t", "60", "-o", &opts, "start"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallServer {
            data,
            port,
            _mount: mount,
        }
    }

    /// The restore databases on it, once it answers again (a server that
    /// ran out of disk space panics and restarts); None if it stays down.
    fn temporaries(&self) -> Option<Vec<String>> {
        let began = Instant::now();
        while began.elapsed() < Duration::from_secs(20) {
            let c = postgres::Config::new()
                .host("127.0.0.1")
                .port(self.port)
                .user("postgres")
                .dbname("postgres")
                .connect(postgres::NoTls);
            if let Ok(mut c) = c
                && let Ok(rows) = c.query(
                    "SELECT datname::text FROM pg_database WHERE datname LIKE 'sqlvault\\_restore\\_%'",
                    &[],
                )
            {
                return Some(rows.iter().map(|r| r.get(0)).collect());
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        None
    }
}

impl Drop for SmallServer {
    fn drop(&mut self) {
        let _ = as_postgres("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

#[test]
fn a_target_server_that_runs_out_of_disk_keeps_no_temporary_database() {
    let s = Scratch::new();
    let v = Vault::init(&s, s.join("repo"));
    let pg = cluster();
    pg.create_db("disk full source");
    pg.client("disk full source")
        .batch_execute(
            "CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 6) AS t \
             FROM generate_series(1, 300000) g",
        )
        .unwrap();
    let mut c = v.cmd();
    pg.env(&mut c);
    let out = common::run_hiding(
        c.args(["--json", "backup"]).arg(pg.url("disk full source")),
        PG_PASSWORD,
    );
    out.expect_code(0);
    let point = point_of(&out.json()["databases"][0]);

    let small = SmallServer::start(&s, "96m");
    let target = format!("postgres://postgres@127.0.0.1:{}/restored", small.port);
    let t0 = Instant::now();
    let out = common::run(
        v.cmd()
            .env("SQLVAULT_TEST_DROP_PATIENCE", "10")
            .args(["--json", "restore", &point, "--to", &target]),
    );
    eprintln!("restore failed after {:?}: {}", t0.elapsed(), out.stderr);
    assert_ne!(out.code, -1, "died of a signal: {}", out.stderr);
    assert_ne!(
        out.code, 0,
        "a restore onto a full disk succeeded: {}",
        out.stdout
    );
    let errors = out.error_lines();
    assert_eq!(errors.len(), 1, "{}", out.stderr);
    assert_eq!(out.json()["status"], "failed", "{}", out.stdout);
    match small.temporaries() {
        Some(left) => assert!(
            left.iter().all(|t| errors[0].contains(t.as_str())),
            "the temporary database {left:?} stayed on the full disk without a word: {}",
            errors[0]
        ),
        None => assert!(
            errors[0].contains("sqlvault_restore_"),
            "the server stayed down and the error does not name the temporary database: {}",
            errors[0]
        ),
    }
    pg.drop_db("disk full source");
}
