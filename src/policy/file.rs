//! The policy file (TOML): where backups go, what is protected, when, and
//! for how long. Unknown keys are errors, and every error names the file,
//! line and column, and what is allowed.

use super::model::{BackupKind, Retention, Schedule};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PolicyFile {
    pub repository: RepositorySpec,
    #[serde(default)]
    pub archive: Option<ArchiveSpec>,
    #[serde(rename = "source")]
    pub sources: Vec<SourceSpec>,
    pub schedule: Schedule,
    pub retention: Retention,
    #[serde(default)]
    pub options: Options,
}

/// Where the repository is and how to unlock it. Secrets come from the
/// environment or a file; an inline `password` works but draws a warning.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RepositorySpec {
    /// A directory, or `azure://ACCOUNT/CONTAINER[/prefix]`.
    pub path: PathBuf,
    /// Azure only: the access tier objects are written in (hot, cool, cold, archive).
    #[serde(default)]
    pub tier: Option<String>,
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Name of an environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ArchiveSpec {
    /// A directory, or `azure://ACCOUNT/CONTAINER[/prefix]`.
    pub path: PathBuf,
    /// Azure only: the access tier objects are written in (hot, cool, cold, archive).
    #[serde(default)]
    pub tier: Option<String>,
    /// Restore points older than this many days move to the archive.
    pub after_days: u32,
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    #[serde(default)]
    pub password_env: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

impl ArchiveSpec {
    /// The archive as a repository like the primary (serde cannot flatten
    /// into a struct that denies unknown keys).
    pub fn repository(&self) -> RepositorySpec {
        RepositorySpec {
            path: self.path.clone(),
            tier: self.tier.clone(),
            key_file: self.key_file.clone(),
            password_file: self.password_file.clone(),
            password_env: self.password_env.clone(),
            password: self.password.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SourceSpec {
    /// A short name for reports and the copy folder layout.
    pub name: String,
    pub engine: String,
    /// PostgreSQL: the server, `postgres://user@host:port/`.
    #[serde(default)]
    pub url: Option<String>,
    /// PostgreSQL: the name of an environment variable holding the password
    /// (otherwise `PGPASSWORD` or `~/.pgpass`, as libpq does).
    #[serde(default)]
    pub password_env: Option<String>,
    /// PostgreSQL: a file holding the password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// PostgreSQL: a hot standby of the server to read backups from.
    #[serde(default)]
    pub standby: Option<String>,
    /// PostgreSQL: base backups of the whole cluster, its WAL archived by
    /// the server (`wal push`), instead of logical backups of databases.
    #[serde(default)]
    pub physical: bool,
    /// PostgreSQL with `physical`: the cluster's name in the repository,
    /// as given to `wal push --cluster` (default `main`).
    #[serde(default)]
    pub cluster: Option<String>,
    /// PostgreSQL: connections copying tables (default: the cores, at most 4).
    #[serde(default)]
    pub jobs: Option<usize>,
    /// SQLite: database files to protect; PostgreSQL: database names.
    #[serde(default)]
    pub databases: Vec<String>,
    /// SQLite: protect every database file in this directory, including
    /// ones created later.
    #[serde(default)]
    pub directory: Option<PathBuf>,
    #[serde(default)]
    pub auto_protect: bool,
    /// File names (SQLite) or database names (PostgreSQL) to leave out of
    /// auto-protection.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Azure SQL: the server the databases are copied to before export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staging_server: Option<String>,
    /// Azure SQL: export the live databases without a copy.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_staging: bool,
    /// Azure SQL: `azure://ACCOUNT/CONTAINER[/prefix]` packages pass through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staging_container: Option<String>,
    /// Azure SQL: the SQL login the export service connects with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_login: Option<String>,
    /// Azure SQL: the environment variable holding that login's password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_password_env: Option<String>,
    /// Azure SQL: a file holding that login's password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_password_file: Option<PathBuf>,
    /// Azure SQL: instead of a SQL login, a user-assigned managed
    /// identity's resource id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_managed_identity: Option<String>,
    /// Azure SQL: seconds a copy or export may take (default 6 hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_timeout: Option<u64>,
    /// `azure-queue://ACCOUNT/QUEUE`: the workers near this source run its
    /// jobs; without it, they run in-process (or on `--dispatch`'s queue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Options {
    /// zstd level (1-22); default: the repository's.
    #[serde(default)]
    pub compression: Option<i32>,
    /// Databases backed up at the same time.
    #[serde(default = "one")]
    pub max_parallel: usize,
    /// Databases backed up in one run at most; the rest wait for the next.
    #[serde(default)]
    pub max_per_run: Option<usize>,
    /// A plain copy of chosen backups, as database files, in a local folder.
    #[serde(default)]
    pub copy: Option<CopySpec>,
    /// Tries a queued job gets before it goes to the poison queue.
    #[serde(default = "three")]
    pub max_attempts: u32,
}

fn one() -> usize {
    1
}

fn three() -> u32 {
    3
}

impl Default for Options {
    fn default() -> Self {
        Options {
            compression: None,
            max_parallel: one(),
            max_per_run: None,
            copy: None,
            max_attempts: three(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CopySpec {
    /// Copies go to `{path}/{source}/{database}/`.
    pub path: PathBuf,
    pub kinds: Vec<BackupKind>,
}

/// A parsed and validated policy, with the warnings it deserves.
#[derive(Debug, Clone)]
pub struct Policy {
    pub file: PathBuf,
    pub spec: PolicyFile,
    pub warnings: Vec<String>,
}

const ENGINES: &[&str] = &["sqlite", "postgres", "mariadb", "azuresql"];

/// `file:line:column` of a byte offset.
fn position(file: &Path, text: &str, offset: usize) -> String {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("{}:{line}:{col}", file.display())
}

/// Where a `[table]` or `[[table]]` header (or a `key =` line) first appears.
fn locate(file: &Path, text: &str, needle: &str) -> String {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with(&format!("[{needle}]"))
            || t.starts_with(&format!("[[{needle}]]"))
            || t.starts_with(&format!("{needle} "))
            || t.starts_with(&format!("{needle}="))
        {
            return position(file, text, offset + line.len() - t.len());
        }
        offset += line.len();
    }
    file.display().to_string()
}

impl Policy {
    pub fn load(path: &Path) -> Result<Policy> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::usage(format!(
                "cannot read policy `{}`: {}",
                path.display(),
                e.kind()
            ))
            .with_hint("check the path given to --policy")
        })?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Policy> {
        let spec: PolicyFile = toml::from_str(text).map_err(|e| {
            let at = e.span().map_or_else(
                || path.display().to_string(),
                |s| position(path, text, s.start),
            );
            Error::usage(format!("{at}: {}", e.message().trim()))
                .with_hint("see examples/*.toml for a commented policy")
        })?;
        let bad = |needle: &str, msg: String| {
            Error::usage(format!("{}: {msg}", locate(path, text, needle)))
        };
        spec.schedule.validate().map_err(|m| bad("schedule", m))?;
        spec.retention.validate().map_err(|m| bad("retention", m))?;
        if spec.sources.is_empty() {
            return Err(bad(
                "source",
                "a policy needs at least one [[source]]".into(),
            ));
        }
        let mut warnings = Vec::new();
        let mut names = std::collections::HashSet::new();
        for s in &spec.sources {
            if !ENGINES.contains(&s.engine.as_str()) {
                return Err(bad(
                    "engine",
                    format!(
                        "unknown engine `{}` in source `{}`; allowed: {}",
                        s.engine,
                        s.name,
                        ENGINES.join(", ")
                    ),
                ));
            }
            if !names.insert(s.name.clone()) {
                return Err(bad(
                    "name",
                    format!("two sources are named `{}`; names must be unique", s.name),
                ));
            }
            if s.name.is_empty() || s.name.contains(['/', '\\']) {
                return Err(bad(
                    "name",
                    format!(
                        "source name `{}` must be non-empty, without slashes",
                        s.name
                    ),
                ));
            }
            sources::check_engine_keys(s).map_err(|(key, m)| bad(key, m))?;
            if let Some(url) = &s.url
                && crate::engine::postgres::ConnSpec::parse(url).is_ok_and(|c| c.password.is_some())
            {
                warnings.push(format!(
                    "{}: source `{}` has a password in its url; use password-env or password-file so it does not sit in a file others may read",
                    locate(path, text, "url"),
                    s.name
                ));
            }
            if s.directory.is_some() && !s.auto_protect {
                return Err(bad(
                    "directory",
                    format!(
                        "source `{}` has a directory but `auto-protect` is not true",
                        s.name
                    ),
                ));
            }
        }
        // For a physical source, log-every-minutes is the recovery point
        // objective its archived WAL must meet; other sources have no logs.
        if spec.schedule.log_every_minutes.is_some()
            && let Some(s) = spec.sources.iter().find(|s| !s.physical)
        {
            return Err(bad(
                "log-every-minutes",
                format!(
                    "log-every-minutes needs every source to have log backups: source `{}` has none (only postgres sources with `physical = true` do; remove log-every-minutes or give it its own policy)",
                    s.name
                ),
            ));
        }
        if let Some(l) = spec.options.compression
            && !(1..=22).contains(&l)
        {
            return Err(bad(
                "compression",
                format!("compression {l} is out of range; allowed: 1 to 22"),
            ));
        }
        if spec.options.max_parallel == 0 || spec.options.max_parallel > 64 {
            return Err(bad(
                "max-parallel",
                "max-parallel must be between 1 and 64".into(),
            ));
        }
        if !(1..=100).contains(&spec.options.max_attempts) {
            return Err(bad(
                "max-attempts",
                "max-attempts must be between 1 and 100".into(),
            ));
        }
        for s in &spec.sources {
            if let Some(q) = &s.queue
                && let Err(m) = crate::worker::queue_url::QueueUrl::parse(q)
            {
                return Err(bad("queue", format!("source `{}`: {m}", s.name)));
            }
        }
        if spec.options.max_per_run == Some(0) {
            return Err(bad(
                "max-per-run",
                "max-per-run must be at least 1 (leave it out for no limit)".into(),
            ));
        }
        if spec.options.copy.is_some() && spec.sources.iter().any(|s| s.engine != "sqlite") {
            return Err(bad(
                "copy",
                "the plain copy makes database files, which only sqlite sources have; remove [options.copy] or move the server sources to another policy".into(),
            ));
        }
        let archive = spec.archive.as_ref().map(|a| a.repository());
        for (section, repo) in std::iter::once(("repository", &spec.repository))
            .chain(archive.as_ref().map(|a| ("archive", a)))
        {
            let sources = [
                repo.key_file.is_some(),
                repo.password_file.is_some(),
                repo.password_env.is_some(),
                repo.password.is_some(),
            ]
            .iter()
            .filter(|x| **x)
            .count();
            if sources > 1 {
                return Err(bad(
                    section,
                    format!(
                        "[{section}] names more than one of key-file, password-file, password-env, password; give one"
                    ),
                ));
            }
            if let Some(t) = &repo.tier {
                if crate::storage::azure::Tier::parse(t).is_none() {
                    return Err(bad(
                        "tier",
                        format!("[{section}] tier must be hot, cool, cold or archive"),
                    ));
                }
                if !crate::storage::azure::is_azure(&repo.path.to_string_lossy()) {
                    return Err(bad(
                        "tier",
                        format!(
                            "[{section}] tier applies only to an azure://ACCOUNT/CONTAINER path"
                        ),
                    ));
                }
            }
            if repo.password.is_some() {
                warnings.push(format!(
                    "{}: a password is written inline in the policy; use password-env or password-file so it does not sit in a file others may read",
                    locate(path, text, "password")
                ));
            }
        }
        Ok(Policy {
            file: path.to_path_buf(),
            spec,
            warnings,
        })
    }
}

mod sources;
#[cfg(test)]
mod tests;
