//! Finding and running `mariadb-dump` (which writes the schema: tables,
//! views, routines, triggers, events, with their definers and SQL modes)
//! and the `mariadb` client (which applies it). The password travels in
//! `MYSQL_PWD`, never on a command line (`ps` shows those), and no option
//! file is read: the connection is exactly the one sqlvault resolved.

use super::url::{ConnSpec, SslMode};
use crate::error::{Error, Result};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where sqlvault looks (only) when this is set: a directory holding
/// `mariadb-dump` and `mariadb` (or `mysqldump` and `mysql`).
pub const BINDIR_ENV: &str = "SQLVAULT_MARIADB_BINDIR";

#[derive(Debug, Clone)]
pub struct Tools {
    pub dump: PathBuf,
    pub client: PathBuf,
    /// `mariadb-dump  Ver 10.19 Distrib 10.11.14-MariaDB, ...` → `10.11.14-MariaDB`.
    pub version: String,
}

fn find_in(dirs: &[PathBuf], names: &[&str]) -> Option<PathBuf> {
    names
        .iter()
        .flat_map(|n| dirs.iter().map(move |d| d.join(n)))
        .find(|p| p.is_file())
}

/// The distribution of `--version` output, or the whole line.
fn version_of(bin: &Path) -> Option<String> {
    let out = Command::new(bin).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || text.is_empty() {
        return None;
    }
    let v = text
        .split_once("Distrib ")
        .map(|(_, rest)| rest.split([',', ' ']).next().unwrap_or(rest).to_string())
        .unwrap_or(text);
    Some(v)
}

/// The dump tool and client of the MariaDB (or MySQL) client packages.
pub fn find() -> Result<Tools> {
    let dirs: Vec<PathBuf> = match std::env::var_os(BINDIR_ENV) {
        Some(d) => vec![PathBuf::from(d)],
        None => std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default(),
    };
    let dump = find_in(&dirs, &["mariadb-dump", "mysqldump"]);
    let client = find_in(&dirs, &["mariadb", "mysql"]);
    let (Some(dump), Some(client)) = (dump, client) else {
        return Err(
            Error::usage("mariadb-dump and the mariadb client were not found").with_hint(format!(
                "install the MariaDB client tools (Debian: apt-get install mariadb-client), \
                 or set {BINDIR_ENV} to the directory holding them"
            )),
        );
    };
    let version = version_of(&dump).ok_or_else(|| {
        Error::usage(format!("`{}` does not run", dump.display())).with_hint(format!(
            "check the MariaDB client tools, or set {BINDIR_ENV}"
        ))
    })?;
    Ok(Tools {
        dump,
        client,
        version,
    })
}

/// `bin` set up to reach `spec`'s server (not its database).
pub fn command(bin: &Path, spec: &ConnSpec) -> Command {
    let mut cmd = Command::new(bin);
    cmd.arg("--no-defaults");
    match spec.unix_socket() {
        Some(sock) => {
            cmd.arg("--protocol=socket").arg(format!("--socket={sock}"));
        }
        None => {
            cmd.arg("--protocol=tcp")
                .arg(format!("--host={}", spec.host()))
                .arg(format!("--port={}", spec.port()));
        }
    }
    cmd.arg(format!("--user={}", spec.user()));
    if spec.unix_socket().is_none() {
        match spec.ssl_mode.unwrap_or(SslMode::Preferred) {
            SslMode::Disabled => {
                cmd.arg("--skip-ssl");
            }
            SslMode::Preferred => {}
            SslMode::Required => {
                cmd.arg("--ssl");
            }
            SslMode::VerifyCa | SslMode::VerifyIdentity => {
                cmd.arg("--ssl");
                if let Some(ca) = &spec.ssl_ca {
                    cmd.arg(format!("--ssl-ca={}", ca.display()));
                }
                if spec.ssl_mode == Some(SslMode::VerifyIdentity) {
                    cmd.arg("--ssl-verify-server-cert");
                }
            }
        }
    }
    cmd.env_remove("MYSQL_PWD");
    if let Some(p) = &spec.password {
        cmd.env("MYSQL_PWD", p.expose());
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// The last lines of a tool's error output, for a one-line message.
pub fn tail_of(stderr: &[u8]) -> String {
    crate::engine::postgres::tools::tail_of(stderr)
}

/// Start `cmd`, collecting its error output on the side.
pub fn spawn(
    cmd: &mut Command,
    bin: &Path,
) -> Result<(std::process::Child, std::thread::JoinHandle<Vec<u8>>)> {
    let mut child = cmd.spawn().map_err(|e| {
        Error::usage(format!("cannot run `{}`: {e}", bin.display())).with_hint(format!(
            "check the MariaDB client tools, or set {BINDIR_ENV}"
        ))
    })?;
    let mut err_pipe = child.stderr.take().expect("piped");
    let stderr = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    Ok((child, stderr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_travels_in_the_environment() {
        let spec =
            ConnSpec::parse("mariadb://bob:s3cret@db.example:3307/shop?ssl-mode=required").unwrap();
        let cmd = command(Path::new("mariadb-dump"), &spec);
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(args.iter().all(|a| !a.contains("s3cret")), "{args:?}");
        assert!(args.contains(&"--host=db.example".to_string()));
        assert!(args.contains(&"--port=3307".to_string()));
        assert!(args.contains(&"--ssl".to_string()));
        let pwd = cmd
            .get_envs()
            .find(|(k, _)| *k == "MYSQL_PWD")
            .and_then(|(_, v)| v);
        assert_eq!(pwd.unwrap(), "s3cret");
    }
}

/// A version string's major and minor numbers and whether it is MariaDB's
/// (`10.11.14-MariaDB-0+deb12u2` → `(10, 11, true)`; `8.0.36` → `(8, 0, false)`).
fn release(v: &str) -> Option<(u32, u32, bool)> {
    let mut nums = v.split(|c: char| !c.is_ascii_digit());
    let major = nums.next()?.parse().ok()?;
    let minor = nums.next()?.parse().ok()?;
    Some((major, minor, v.to_ascii_lowercase().contains("mariadb")))
}

/// Whether the dump tool can write the server's schema. An older tool of
/// the same kind may not know newer syntax (it would write a schema that
/// restores differently), so it is refused; a tool of the other kind
/// (MySQL's against MariaDB, or the reverse) usually works and is noted.
pub fn check_against(dump_version: &str, server_version: &str) -> Result<Option<String>> {
    let (Some(dump), Some(server)) = (release(dump_version), release(server_version)) else {
        return Ok(None);
    };
    let kind = |mariadb: bool| if mariadb { "MariaDB" } else { "MySQL" };
    if dump.2 != server.2 {
        return Ok(Some(format!(
            "schema written by {}'s dump tool {dump_version} from a {} {server_version} server",
            kind(dump.2),
            kind(server.2)
        )));
    }
    if (dump.0, dump.1) < (server.0, server.1) {
        return Err(Error::usage(format!(
            "the dump tool {dump_version} is older than the {} {}.{} server",
            kind(server.2),
            server.0,
            server.1
        ))
        .with_hint(format!(
            "install the {} client tools of {}.{} or newer, or set {BINDIR_ENV} to where they are",
            kind(server.2),
            server.0,
            server.1
        )));
    }
    Ok(None)
}

#[cfg(test)]
mod version_tests {
    use super::*;

    #[test]
    fn an_older_dump_tool_is_refused_and_another_kind_noted() {
        assert!(
            check_against("10.11.14-MariaDB", "10.11.14-MariaDB-0+deb12u2")
                .unwrap()
                .is_none()
        );
        assert!(
            check_against("11.4.2-MariaDB", "10.11.6-MariaDB")
                .unwrap()
                .is_none()
        );
        let e = check_against("10.5.23-MariaDB", "11.4.2-MariaDB-log").unwrap_err();
        assert!(
            e.message.contains("older than the MariaDB 11.4 server"),
            "{}",
            e.message
        );
        assert_eq!(e.kind, crate::error::Kind::Usage);
        let note = check_against("10.11.14-MariaDB", "8.0.36")
            .unwrap()
            .unwrap();
        assert!(note.contains("MariaDB's dump tool"), "{note}");
        assert!(note.contains("MySQL 8.0.36 server"), "{note}");
        assert!(check_against("unknown", "8.0.36").unwrap().is_none());
    }
}
