//! Running a restored cluster privately: the server of the backup's major
//! version on a socket in a fresh 0700 directory, no TCP, trusted only on
//! that socket, so recovery can be watched and checked before anyone else
//! sees the data.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `postgres`, `pg_ctl` and `pg_amcheck` of one major version.
#[derive(Debug, Clone)]
pub struct ServerBin {
    pub dir: PathBuf,
    pub major: u32,
}

fn major_of(postgres: &Path) -> Option<u32> {
    let out = Command::new(postgres).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .nth(2)?
        .split(['.', 'b', 'r'])
        .next()?
        .parse()
        .ok()
}

/// The server binaries for `major`: `--pg-bin`, Debian's directory, PATH.
pub fn find(major: u32, given: Option<&Path>) -> Result<ServerBin> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(d) = given {
        candidates.push(d.to_path_buf());
    } else {
        candidates.push(PathBuf::from(format!("/usr/lib/postgresql/{major}/bin")));
        if let Some(path) = std::env::var_os("PATH") {
            candidates.extend(std::env::split_paths(&path));
        }
    }
    let mut seen = Vec::new();
    for dir in candidates {
        let bin = dir.join("postgres");
        if !bin.is_file() {
            continue;
        }
        match major_of(&bin) {
            Some(m) if m == major => return Ok(ServerBin { dir, major }),
            Some(m) => seen.push(format!("{} is version {m}", bin.display())),
            None => {}
        }
    }
    let found = if seen.is_empty() {
        String::new()
    } else {
        format!(" ({})", seen.join(", "))
    };
    Err(Error::usage(format!(
        "the PostgreSQL {major} server binaries were not found{found}; a base backup runs only on the major version that wrote it"
    ))
    .with_hint(format!(
        "install them (Debian: apt-get install postgresql-{major}) or give --pg-bin DIR, the directory holding `postgres`"
    )))
}

/// A uid and gid to run the server as when we are root.
#[derive(Debug, Clone, Copy)]
pub struct RunAs {
    pub uid: u32,
    pub gid: u32,
}

/// Look up a user by name.
pub fn user(name: &str) -> Option<RunAs> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: getpwnam returns static storage or null; read at once.
    unsafe {
        let pw = libc::getpwnam(c.as_ptr());
        if pw.is_null() {
            return None;
        }
        Some(RunAs {
            uid: (*pw).pw_uid,
            gid: (*pw).pw_gid,
        })
    }
}

pub fn is_root() -> bool {
    // SAFETY: no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A server running on a restored data directory; stopped at once if
/// dropped without [`Private::stop`].
pub struct Private {
    child: Option<Child>,
    pub socket_dir: tempfile::TempDir,
    pub port: u16,
    pub log: PathBuf,
    pub user: String,
}

impl Private {
    /// Start `bin/postgres` on `data`, as `run_as` when given.
    pub fn start(
        bin: &ServerBin,
        data: &Path,
        run_as: Option<RunAs>,
        user: &str,
        log_dir: &Path,
    ) -> Result<Private> {
        let socket_dir = tempfile::Builder::new()
            .prefix("sqlvault-recovery-")
            .tempdir()
            .map_err(|e| crate::error::local_io_error("creating", Path::new("/tmp"), e))?;
        let hba = socket_dir.path().join("pg_hba.conf");
        std::fs::write(&hba, "local all all trust\n")
            .map_err(|e| crate::error::local_io_error("writing", &hba, e))?;
        if let Some(r) = run_as {
            chown(socket_dir.path(), r)?;
            chown(&hba, r)?;
        }
        let log = log_dir.join("recovery.log");
        let log_file = std::fs::File::create(&log)
            .map_err(|e| crate::error::local_io_error("creating", &log, e))?;
        if let Some(r) = run_as {
            chown(&log, r)?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(54329);
        let mut cmd = Command::new(bin.dir.join("postgres"));
        cmd.arg("-D")
            .arg(data)
            .arg("-c")
            .arg(format!("port={port}"))
            .args(["-c", "listen_addresses="])
            .arg("-c")
            .arg(format!(
                "unix_socket_directories={}",
                socket_dir.path().display()
            ))
            .arg("-c")
            .arg(format!("hba_file={}", hba.display()))
            .args(["-c", "archive_mode=off", "-c", "lc_messages=C"])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log handle"))
            .stderr(log_file);
        if let Some(r) = run_as {
            use std::os::unix::process::CommandExt;
            cmd.uid(r.uid).gid(r.gid);
        }
        let child = cmd.spawn().map_err(|e| {
            Error::database(format!(
                "cannot start `{}`: {e}",
                bin.dir.join("postgres").display()
            ))
        })?;
        Ok(Private {
            child: Some(child),
            socket_dir,
            port,
            log,
            user: user.to_string(),
        })
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The server's last FATAL or PANIC line, for errors.
    pub fn fatal_line(&self) -> Option<String> {
        self.log_text()
            .lines()
            .rev()
            .find(|l| l.contains("FATAL:") || l.contains("PANIC:"))
            .map(|l| {
                l.split_once(':')
                    .map(|(_, r)| r)
                    .unwrap_or(l)
                    .trim()
                    .to_string()
            })
    }

    /// Exited already? With its status.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.as_mut()?.try_wait().ok().flatten()
    }

    /// Connect over the private socket as `user`.
    pub fn connect(&self, db: &str) -> std::result::Result<postgres::Client, postgres::Error> {
        postgres::Config::new()
            .host_path(self.socket_dir.path())
            .port(self.port)
            .user(&self.user)
            .dbname(db)
            .connect_timeout(Duration::from_secs(5))
            .connect(postgres::NoTls)
    }

    /// Fast shutdown (a clean checkpoint): the directory is ready to start.
    pub fn stop(mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        let began = Instant::now();
        loop {
            if let Ok(Some(st)) = child.try_wait() {
                return if st.success() {
                    Ok(())
                } else {
                    Err(Error::database(format!(
                        "the recovered server did not shut down cleanly ({st})"
                    ))
                    .with_hint(format!("see `{}`", self.log.display())))
                };
            }
            if began.elapsed() > Duration::from_secs(300) {
                let _ = child.kill();
                return Err(Error::database(
                    "the recovered server did not shut down within 5 minutes",
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Immediate shutdown: the caller is failing or interrupted.
            // SAFETY: signalling our own child.
            unsafe { libc::kill(child.id() as i32, libc::SIGQUIT) };
            let began = Instant::now();
            while began.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn chown(path: &Path, r: RunAs) -> Result<()> {
    std::os::unix::fs::chown(path, Some(r.uid), Some(r.gid))
        .map_err(|e| crate::error::local_io_error("changing the owner of", path, e))
}

/// `chown -R`, not following symbolic links.
pub fn chown_tree(path: &Path, r: RunAs) -> Result<()> {
    std::os::unix::fs::lchown(path, Some(r.uid), Some(r.gid))
        .map_err(|e| crate::error::local_io_error("changing the owner of", path, e))?;
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| crate::error::local_io_error("reading", path, e))?;
    if meta.is_dir() {
        for entry in
            std::fs::read_dir(path).map_err(|e| crate::error::local_io_error("reading", path, e))?
        {
            let entry = entry.map_err(|e| crate::error::local_io_error("reading", path, e))?;
            chown_tree(&entry.path(), r)?;
        }
    }
    Ok(())
}
