//! The databases a policy's sources protect, and the engine that backs up
//! each one.

use crate::engine::Engine;
use crate::engine::azuresql::{AzureSql, SqlPassword};
use crate::engine::mariadb::MariaDb;
use crate::engine::postgres::Postgres;
use crate::engine::postgres::physical::Physical;
use crate::engine::postgres::physical::archive::DEFAULT_CLUSTER;
use crate::engine::postgres::url::Password;
use crate::engine::sqlite::Sqlite;
use crate::error::{Error, Kind, Result};
use crate::policy::file::SourceSpec;
use std::path::{Path, PathBuf};

/// One database a policy protects.
#[derive(Debug, Clone)]
pub struct Protected {
    /// The policy's name for its source.
    pub source: String,
    /// How reports name it: the file (SQLite) or the database (PostgreSQL).
    pub label: String,
    /// The database's own name, as restore points record it.
    pub database: String,
    pub target: Target,
}

#[derive(Debug, Clone)]
pub enum Target {
    Sqlite(PathBuf),
    Postgres(Box<Postgres>),
    MariaDb(Box<MariaDb>),
    /// A whole cluster: base backups, its WAL archived by the server.
    Physical(Box<Physical>),
    AzureSql(Box<AzureSql>),
}

impl Protected {
    pub fn engine(&self) -> Box<dyn Engine> {
        match &self.target {
            Target::Sqlite(p) => Box::new(Sqlite::new(p)),
            Target::Postgres(pg) => Box::new(pg.as_ref().clone()),
            Target::MariaDb(m) => Box::new(m.as_ref().clone()),
            Target::Physical(p) => Box::new(p.as_ref().clone()),
            Target::AzureSql(a) => Box::new(a.as_ref().clone()),
        }
    }

    /// Whether `name` (as given to `--database`) means this database.
    pub fn is_named(&self, name: &str) -> bool {
        self.database == name
            || self.label == name
            || matches!(&self.target, Target::Sqlite(p) if p == Path::new(name))
    }
}

fn is_sqlite_file(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == b"SQLite format 3\0"
}

/// The databases of one source: the listed ones, and with auto-protection
/// every database there is now (new ones included), minus exclusions.
pub fn databases_of(s: &SourceSpec) -> Result<Vec<Protected>> {
    match s.engine.as_str() {
        "postgres" if s.physical => physical_cluster(s),
        "postgres" => postgres_databases(s),
        "mariadb" => mariadb_databases(s),
        "azuresql" => azuresql_databases(s),
        _ => sqlite_databases(s),
    }
}

/// The databases of a source, listed for a run that sends its jobs to
/// workers (`dispatched`) or runs them here.
pub fn databases_for(s: &SourceSpec, dispatched: bool) -> Result<Vec<Protected>> {
    if dispatched {
        databases_to_dispatch(s)
    } else {
        databases_of(s)
    }
}

/// The databases of a source whose jobs run on workers. The workers
/// resolve its password themselves, so a dispatcher without it still lists
/// the databases the source names (auto-protection needs the server).
pub fn databases_to_dispatch(s: &SourceSpec) -> Result<Vec<Protected>> {
    match databases_of(s) {
        Err(e) if e.kind == Kind::Auth && !s.auto_protect => {
            let mut bare = s.clone();
            bare.password_env = None;
            bare.password_file = None;
            databases_of(&bare)
        }
        r => r,
    }
}

fn sqlite_databases(s: &SourceSpec) -> Result<Vec<Protected>> {
    let mut paths: Vec<PathBuf> = s.databases.iter().map(PathBuf::from).collect();
    if let Some(dir) = &s.directory {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            Error::database(format!(
                "cannot list `{}` (source `{}`): {}",
                dir.display(),
                s.name,
                e.kind()
            ))
        })?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && is_sqlite_file(p))
            .collect();
        found.sort();
        paths.extend(found);
    }
    paths.retain(|p| !s.exclude.contains(&file_name(p)));
    paths.dedup();
    Ok(paths
        .into_iter()
        .map(|path| Protected {
            source: s.name.clone(),
            label: path.display().to_string(),
            database: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "database".into()),
            target: Target::Sqlite(path),
        })
        .collect())
}

/// Databases of an auto-protected directory that have restore points but
/// are no longer found there as SQLite databases (deleted, emptied, their
/// header overwritten, replaced by a directory), each with what it is now.
/// They stay protected: each run fails them until they come back or the
/// policy excludes them.
pub fn vanished_sqlite<'a>(
    s: &SourceSpec,
    found: &[Protected],
    recorded: impl Iterator<Item = &'a crate::repo::point::RestorePoint>,
) -> Vec<(PathBuf, String)> {
    let Some(dir) = &s.directory else {
        return Vec::new();
    };
    if s.engine != "sqlite" {
        return Vec::new();
    }
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
    let present: Vec<String> = found.iter().map(|p| p.engine().source()).collect();
    let mut out: Vec<(PathBuf, String)> = Vec::new();
    for point in recorded.filter(|p| p.engine == "sqlite") {
        let path = PathBuf::from(&point.source);
        if path.parent() != Some(dir.as_path())
            || s.exclude.contains(&file_name(&path))
            || present.contains(&point.source)
            || out.iter().any(|(p, _)| *p == path)
        {
            continue;
        }
        let what = match std::fs::metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "no longer exists".to_string(),
            Err(e) => format!("cannot be read ({})", e.kind()),
            Ok(m) if m.is_dir() => "is now a directory".to_string(),
            Ok(m) if m.len() == 0 => "is now empty (0 bytes)".to_string(),
            Ok(_) => "is no longer a SQLite database (its header is not SQLite's)".to_string(),
        };
        out.push((path, what));
    }
    out
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The password a server source names (`password-env`, `password-file`).
fn source_password(s: &SourceSpec) -> Result<Option<Password>> {
    let password = if let Some(var) = &s.password_env {
        Some(std::env::var(var).map_err(|_| {
            Error::new(
                Kind::Auth,
                format!(
                    "environment variable `{var}` (password-env of source `{}`) is not set",
                    s.name
                ),
            )
            .with_hint("set it in the environment of the scheduled run")
        })?)
    } else if let Some(f) = &s.password_file {
        let text = crate::util::password_from_file(f).map_err(|e| {
            Error::new(
                Kind::Auth,
                format!(
                    "cannot read password-file `{}` of source `{}`: {}",
                    f.display(),
                    s.name,
                    e.kind()
                ),
            )
        })?;
        Some(text.to_string())
    } else {
        None
    };
    Ok(password.map(Password::new))
}

/// The server of a postgres source, with the password the policy names.
pub fn postgres_server(s: &SourceSpec) -> Result<Postgres> {
    let url = s.url.as_deref().unwrap_or_default();
    let mut server = Postgres::from_url(url)?;
    if let Some(p) = source_password(s)? {
        server.spec.password = Some(p);
    }
    if let Some(j) = s.jobs {
        server.jobs = j;
    }
    if let Some(standby) = &s.standby {
        server.read_from_standby(standby)?;
    }
    Ok(server)
}

/// A physical source: the one cluster, read from its standby if named.
fn physical_cluster(s: &SourceSpec) -> Result<Vec<Protected>> {
    let server = postgres_server(s)?;
    let cluster = s.cluster.as_deref().unwrap_or(DEFAULT_CLUSTER);
    let mut p = Physical::source(server.spec.clone(), cluster)?;
    if let Some(standby) = server.standby {
        p.primary = p.spec.replace(standby);
    }
    Ok(vec![Protected {
        source: s.name.clone(),
        label: cluster.to_string(),
        database: cluster.to_string(),
        target: Target::Physical(Box::new(p)),
    }])
}

/// The server of a mariadb source, with the password the policy names
/// (else `MYSQL_PWD` or `~/.my.cnf`, as for the command line).
pub fn mariadb_server(s: &SourceSpec) -> Result<MariaDb> {
    let url = s.url.as_deref().unwrap_or_default();
    let mut spec = crate::engine::mariadb::ConnSpec::parse(url)?;
    if let Some(p) = source_password(s)? {
        spec.password = Some(p);
    }
    let mut server = MariaDb::from_spec(spec)?;
    if let Some(j) = s.jobs {
        server.jobs = j;
    }
    if let Some(standby) = &s.standby {
        server.read_from_standby(standby)?;
    }
    Ok(server)
}

fn mariadb_databases(s: &SourceSpec) -> Result<Vec<Protected>> {
    let server = mariadb_server(s)?;
    server_databases(
        s,
        || {
            Ok(crate::engine::mariadb::discover::discover(&server)?
                .into_iter()
                .map(|d| d.name)
                .collect())
        },
        |n| Target::MariaDb(Box::new(server.with_database(n))),
    )
}

/// The databases a server source names, with auto-protection those
/// `all` lists too, minus exclusions.
fn server_databases(
    s: &SourceSpec,
    all: impl FnOnce() -> Result<Vec<String>>,
    target: impl Fn(&str) -> Target,
) -> Result<Vec<Protected>> {
    let mut names = s.databases.clone();
    if s.auto_protect {
        for n in all()? {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    names.retain(|n| !s.exclude.contains(n));
    Ok(names
        .into_iter()
        .map(|n| Protected {
            source: s.name.clone(),
            label: n.clone(),
            database: n.clone(),
            target: target(&n),
        })
        .collect())
}

fn postgres_databases(s: &SourceSpec) -> Result<Vec<Protected>> {
    let server = postgres_server(s)?;
    server_databases(
        s,
        || crate::engine::postgres::discover::all_databases(&server),
        |n| Target::Postgres(Box::new(server.with_database(n))),
    )
}

/// The server of an azuresql source, with where the policy says the SQL
/// login's password is (read when an export needs it).
fn azuresql_server(s: &SourceSpec) -> Result<AzureSql> {
    let mut server = AzureSql::new(s.url.as_deref().unwrap_or_default())?;
    server.staging_server = s.staging_server.clone();
    server.no_staging = s.no_staging;
    let o = &mut server.options;
    o.staging_container = s.staging_container.clone();
    o.login = s.sql_login.clone();
    o.managed_identity = s.sql_managed_identity.clone();
    if let Some(secs) = s.operation_timeout {
        o.operation_timeout = std::time::Duration::from_secs(secs);
    }
    o.password =
        SqlPassword::from_settings(s.sql_password_env.as_ref(), s.sql_password_file.as_ref());
    Ok(server)
}

fn azuresql_databases(s: &SourceSpec) -> Result<Vec<Protected>> {
    let server = azuresql_server(s)?;
    server_databases(
        s,
        || {
            Ok(crate::engine::azuresql::discover::discover(&server.url)?
                .into_iter()
                .map(|d| d.name)
                .collect())
        },
        |n| {
            let mut one = server.clone();
            one.url = server.url.with_database(n);
            Target::AzureSql(Box::new(one))
        },
    )
}
