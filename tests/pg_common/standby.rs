//! A hot standby of the test cluster (pg_basebackup, then streaming
//! replication), stopped and removed when dropped.

use super::{Cluster, chown_to_postgres, free_port};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub struct Standby<'a> {
    pub port: u16,
    dir: PathBuf,
    primary: &'a Cluster,
}

impl Cluster {
    pub fn start_standby(&self) -> Standby<'_> {
        let dir = tempfile::Builder::new()
            .prefix("sqlvault-pg-standby-")
            .tempdir_in("/tmp")
            .unwrap()
            .keep();
        if self.as_postgres {
            chown_to_postgres(&dir);
        }
        let data = dir.join("data");
        // Over the primary's socket, where local connections are trusted.
        let out = self
            .tool("pg_basebackup")
            .arg("-h")
            .arg(&self.dir)
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-X",
                "stream",
                "-R",
                // Not a spread checkpoint: that takes minutes.
                "--checkpoint=fast",
            ])
            .arg("-D")
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_basebackup failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c hot_standby=on \
             -c hot_standby_feedback=on -c lc_messages=C",
            dir.display()
        );
        let out = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("log"))
            .args(["-w", "-t", "60", "-o", &opts, "start"])
            .output()
            .unwrap();
        let s = Standby {
            port,
            dir,
            primary: self,
        };
        assert!(
            out.status.success(),
            "standby start failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(s.dir.join("log")).unwrap_or_default()
        );
        s
    }
}

impl Standby<'_> {
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{}", self.port, db)
    }

    /// Wait until the standby has replayed everything the primary wrote.
    pub fn catch_up(&self) {
        let target: String = self
            .primary
            .client("postgres")
            .query_one("SELECT pg_current_wal_lsn()::text", &[])
            .unwrap()
            .get(0);
        let mut c = postgres::Config::new()
            .host("127.0.0.1")
            .port(self.port)
            .user("postgres")
            .password(super::PG_PASSWORD)
            .dbname("postgres")
            .connect(postgres::NoTls)
            .unwrap();
        let start = Instant::now();
        loop {
            let done: bool = c
                .query_one(
                    "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn",
                    &[&target],
                )
                .unwrap()
                .get(0);
            if done {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the standby did not catch up"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Standby<'_> {
    fn drop(&mut self) {
        let _ = self
            .primary
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
