//! Finding and running `pg_dump` and `pg_restore`, which write and apply
//! the schema. They get the connection through `PG*` variables, so the
//! password never appears on a command line (`ps` shows those).

use super::url::ConnSpec;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where sqlvault looks (only) when this is set: a directory holding
/// `pg_dump` and `pg_restore`.
pub const BINDIR_ENV: &str = "SQLVAULT_PG_BINDIR";

#[derive(Debug, Clone)]
pub struct Tools {
    pub pg_dump: PathBuf,
    pub pg_restore: PathBuf,
    /// Major version (15 for 15.4).
    pub major: u32,
    pub version: String,
}

fn candidates() -> Vec<PathBuf> {
    if let Some(dir) = std::env::var_os(BINDIR_ENV) {
        return vec![PathBuf::from(dir).join("pg_dump")];
    }
    let mut out = Vec::new();
    if let Some(path) = std::env::var_os("PATH") {
        out.extend(std::env::split_paths(&path).map(|d| d.join("pg_dump")));
    }
    if let Ok(rd) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut dirs: Vec<PathBuf> = rd.flatten().map(|e| e.path().join("bin/pg_dump")).collect();
        dirs.sort();
        out.extend(dirs.into_iter().rev());
    }
    out.retain(|p| p.is_file());
    out
}

/// `pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` → (15, "15.18").
fn version_of(bin: &Path) -> Option<(u32, String)> {
    let out = Command::new(bin).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let v = text.split_whitespace().nth(2)?.to_string();
    let major = v.split(['.', 'b', 'r']).next()?.parse().ok()?;
    Some((major, v))
}

/// The pg_dump (and the pg_restore beside it) for a server of major
/// version `server_major`: the same major if there is one, else a newer.
pub fn find(server_major: u32) -> Result<Tools> {
    let found: Vec<(PathBuf, u32, String)> = candidates()
        .into_iter()
        .filter_map(|p| version_of(&p).map(|(m, v)| (p, m, v)))
        .collect();
    if found.is_empty() {
        return Err(Error::usage("pg_dump was not found").with_hint(format!(
            "install the PostgreSQL client tools (Debian: apt-get install postgresql-client-{server_major}), \
             or set {BINDIR_ENV} to the directory holding pg_dump"
        )));
    }
    let best = found
        .iter()
        .filter(|(_, m, _)| *m >= server_major)
        .min_by_key(|(_, m, _)| *m)
        .ok_or_else(|| {
            let newest = found.iter().map(|f| f.1).max().unwrap_or(0);
            Error::usage(format!(
                "pg_dump {newest} is too old for a PostgreSQL {server_major} server"
            ))
            .with_hint(format!(
                "install pg_dump {server_major} or newer (Debian: postgresql-client-{server_major})"
            ))
        })?;
    let pg_restore = best.0.with_file_name("pg_restore");
    if !pg_restore.is_file() {
        return Err(Error::usage(format!(
            "pg_restore is missing beside `{}`",
            best.0.display()
        ))
        .with_hint("install the complete PostgreSQL client tools"));
    }
    Ok(Tools {
        pg_dump: best.0.clone(),
        pg_restore,
        major: best.1,
        version: best.2.clone(),
    })
}

/// A command for `bin` that connects to `spec` through the environment.
pub fn command(bin: &Path, spec: &ConnSpec) -> Command {
    let mut c = Command::new(bin);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("PG") {
            c.env_remove(k);
        }
    }
    let ports: Vec<String> = spec.ports.iter().map(|p| p.to_string()).collect();
    c.env("PGHOST", spec.hosts.join(","))
        .env("PGPORT", ports.join(","))
        .env("PGUSER", spec.user())
        .env("PGDATABASE", spec.dbname())
        .env("PGAPPNAME", "sqlvault")
        .env(
            "PGSSLMODE",
            spec.sslmode.map(|m| m.as_str()).unwrap_or("prefer"),
        );
    if let Some(pw) = &spec.password {
        c.env("PGPASSWORD", pw.expose());
    }
    if let Some(t) = spec.connect_timeout {
        c.env("PGCONNECT_TIMEOUT", t.as_secs().to_string());
    }
    if let Some(r) = &spec.sslrootcert {
        c.env("PGSSLROOTCERT", r);
    }
    if let Some(o) = &spec.options {
        c.env("PGOPTIONS", o);
    }
    c
}

/// The last lines a tool wrote on stderr, for an error message.
pub fn tail_of(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(3)..].join(" / ");
    super::url::redact(&tail)
}

/// A `--dbname` argument naming `spec`'s database whatever its name holds
/// (a plain name with `=` in it would be read as a connection string).
pub fn conninfo_dbname(spec: &ConnSpec) -> String {
    let escaped = spec.dbname().replace('\\', "\\\\").replace('\'', "\\'");
    format!("dbname='{escaped}'")
}
