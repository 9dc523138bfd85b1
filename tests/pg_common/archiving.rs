//! A cluster of its own for one test, archiving its WAL into a repository
//! with `sqlvault wal push` as its `archive_command`, the way the README
//! sets a server up. Restored data directories are started as copies to
//! read what recovery produced. Everything lives in one directory the
//! `postgres` user owns, and is stopped and removed when dropped.

use super::{chown_to_postgres, free_port, is_root, server_bindir, spawn_watchdog};
use crate::common::{Out, bare_command, bin_path, run};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Archiving {
    pub port: u16,
    pub dir: PathBuf,
    pub bindir: PathBuf,
    pub repo: PathBuf,
    pub key: PathBuf,
    /// The binary the server runs; a copy the `postgres` user can execute.
    pub exe: PathBuf,
    pub cluster: String,
    as_postgres: bool,
}

impl Archiving {
    /// initdb, `sqlvault init`, then start with archiving into the repository.
    pub fn start(cluster: &str, extra: &[&str]) -> Archiving {
        let dir = tempfile::Builder::new()
            .prefix("sqlvault-archiving-")
            .tempdir_in("/tmp")
            .unwrap()
            .keep();
        let a = Archiving {
            port: free_port(),
            repo: dir.join("repo"),
            key: dir.join("key"),
            exe: dir.join("bin/sqlvault"),
            bindir: server_bindir(),
            cluster: cluster.to_string(),
            as_postgres: is_root(),
            dir,
        };
        std::fs::create_dir_all(a.exe.parent().unwrap()).unwrap();
        std::fs::copy(bin_path(), &a.exe).unwrap();
        let key: String = (0..4)
            .map(|i| format!("{:016x}", std::process::id() as u64 * 7919 + i * 104729))
            .collect();
        std::fs::write(&a.key, key).unwrap();
        a.vault(&["init"]).expect_code(0);
        if a.as_postgres {
            chown_to_postgres(&a.dir);
        }
        let out = a
            .tool("initdb")
            .arg("-D")
            .arg(a.data())
            .args(["-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "-N"])
            .args(["--auth=trust"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let archive_command = format!(
            "{} wal push %p --cluster {} --repo {} --key-file {} --quiet",
            a.exe.display(),
            cluster,
            a.repo.display(),
            a.key.display()
        );
        let mut conf = format!(
            "\nport = {}\nunix_socket_directories = '{}'\nlisten_addresses = '127.0.0.1'\n\
             wal_level = replica\narchive_mode = on\narchive_command = '{archive_command}'\n\
             max_wal_senders = 4\nfsync = off\nlc_messages = 'C'\nshared_buffers = 64MB\n",
            a.port,
            a.dir.display()
        );
        for line in extra {
            conf.push_str(line);
            conf.push('\n');
        }
        let path = a.data().join("postgresql.conf");
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&conf);
        std::fs::write(&path, text).unwrap();
        spawn_watchdog(&a.pg_ctl_line(), &a.data(), &a.dir);
        a.pg_ctl_start(&a.data(), &a.dir.join("log"), &[]);
        a
    }

    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

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

    fn pg_ctl_line(&self) -> String {
        let pg_ctl = self.bindir.join("pg_ctl").display().to_string();
        if self.as_postgres {
            format!("runuser -u postgres -- {pg_ctl}")
        } else {
            pg_ctl
        }
    }

    fn pg_ctl_start(&self, data: &Path, log: &Path, opts: &[String]) {
        let out = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(data)
            .arg("-l")
            .arg(log)
            .args(["-w", "-t", "120"])
            .args(opts.iter().flat_map(|o| ["-o", o.as_str()]))
            .arg("start")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start of {data:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }

    /// The server over TCP, as a remote backup would reach it.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn client(&self) -> postgres::Client {
        connect(&self.dir, self.port, "postgres")
    }

    pub fn client_of(&self, db: &str) -> postgres::Client {
        connect(&self.dir, self.port, db)
    }

    /// sqlvault on this repository with its key file, no progress.
    pub fn vault_cmd(&self) -> Command {
        self.vault_cmd_at(&self.repo)
    }

    /// The same on another repository path.
    pub fn vault_cmd_at(&self, repo: &Path) -> Command {
        let mut c = bare_command(&self.dir.join("home"));
        c.arg("--repo")
            .arg(repo)
            .arg("--key-file")
            .arg(&self.key)
            .arg("--no-progress");
        c
    }

    pub fn vault(&self, args: &[&str]) -> Out {
        run(self.vault_cmd().args(args))
    }

    /// Close the current segment and wait until the server has archived it.
    pub fn switch_and_wait(&self) {
        switch_and_wait(&mut self.client(), &self.dir.join("log"));
    }
    /// A directory the `postgres` user owns, for a restore to write into.
    pub fn target(&self, name: &str) -> PathBuf {
        let p = self.dir.join("restores");
        std::fs::create_dir_all(&p).unwrap();
        if self.as_postgres {
            chown_to_postgres(&p);
        }
        p.join(name)
    }

    /// Start a restored data directory on a free port; stopped when dropped.
    pub fn start_copy(&self, data: &Path) -> Copy<'_> {
        let port = free_port();
        let sock = data.with_extension("sock");
        std::fs::create_dir_all(&sock).unwrap();
        if self.as_postgres {
            chown_to_postgres(&sock);
        }
        let opts = vec![format!(
            "-p {port} -k {} -c listen_addresses=''",
            sock.display()
        )];
        self.pg_ctl_start(data, &data.with_extension("log"), &opts);
        Copy {
            owner: self,
            data: data.to_path_buf(),
            sock,
            port,
        }
    }

    /// A hot standby of this server (pg_basebackup, streaming), running.
    pub fn start_standby(&self) -> Copy<'_> {
        let data = self.target("standby");
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
            ])
            .arg("--checkpoint=fast")
            .arg("-D")
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_basebackup failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.start_copy(&data)
    }

    fn stop(&self, data: &Path) {
        let _ = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(data)
            .args(["-m", "fast", "-w", "stop"])
            .output();
    }
}

impl Drop for Archiving {
    fn drop(&mut self) {
        self.stop(&self.data());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A restored copy, running.
pub struct Copy<'a> {
    owner: &'a Archiving,
    pub data: PathBuf,
    sock: PathBuf,
    pub port: u16,
}

impl Copy<'_> {
    /// A URL over the copy's private socket.
    pub fn url(&self) -> String {
        format!(
            "postgres://postgres@/postgres?host={}&port={}",
            self.sock.display(),
            self.port
        )
    }

    pub fn client(&self) -> postgres::Client {
        connect(&self.sock, self.port, "postgres")
    }

    pub fn switch_and_wait(&self) {
        switch_and_wait(&mut self.client(), &self.data.with_extension("log"));
    }
}

impl Drop for Copy<'_> {
    fn drop(&mut self) {
        self.owner.stop(&self.data);
    }
}

/// Close the server's current segment and wait until it is archived.
pub fn switch_and_wait(c: &mut postgres::Client, log: &Path) {
    // The segment the switch closed (the one before, when there was
    // nothing to close).
    let seg: String = c
        .query_one("SELECT pg_walfile_name(pg_switch_wal())::text", &[])
        .unwrap()
        .get(0);
    let start = Instant::now();
    loop {
        let row = c
            .query_one(
                "SELECT coalesce(last_archived_wal, ''), failed_count FROM pg_stat_archiver",
                &[],
            )
            .unwrap();
        let last: String = row.get(0);
        // The last file may be a `.backup` label after its segment.
        if last.len() >= 24 && !last.ends_with(".history") && last[8..24] >= seg[8..] {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "segment {seg} was not archived in a minute (last archived {last:?}, {} failures); log:\n{}",
            row.get::<_, i64>(1),
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn connect(sock: &Path, port: u16, db: &str) -> postgres::Client {
    postgres::Config::new()
        .host_path(sock)
        .port(port)
        .user("postgres")
        .dbname(db)
        .connect(postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to the server at {sock:?}: {e}"))
}
