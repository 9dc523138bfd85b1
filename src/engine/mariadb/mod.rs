//! MariaDB and MySQL: connecting (URLs, option files, TLS), discovery of a
//! server's databases, and a consistent parallel logical backup with a
//! full-fidelity restore.
//!
//! A backup opens `jobs` connections on one snapshot (see [`snapshot`]),
//! streams every table's rows in the format `LOAD DATA` reads (see
//! [`rows`]) and has `mariadb-dump` write the schema. A restore creates
//! the database, applies the schema, loads the rows in parallel straight
//! from the repository, adds triggers and events, and checks every
//! table's fingerprint.

mod backup;
pub mod catalog;
mod check;
pub mod connect;
pub mod discover;
pub mod leftovers;
pub mod optionfile;
mod restore;
mod restore_table;
pub mod rows;
pub mod snapshot;
pub mod tools;
pub mod url;

use crate::error::Result;
pub use backup::MariaMeta;
use std::path::PathBuf;
use std::time::Duration;
pub use url::{ConnSpec, is_mariadb_url};

/// The engine name restore points of these servers carry.
pub const ENGINE: &str = "mariadb";

/// What a restore applies before loading rows: tables, views, routines,
/// sequences (`mariadb-dump --no-data` output).
pub const PRE_DATA_STREAM: &str = "schema/pre-data";
/// What it applies after: triggers and events.
pub const POST_DATA_STREAM: &str = "schema/post-data";

/// `--lock-wait-timeout` when not given.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(30);

/// A MariaDB or MySQL server, and the database a URL names on it.
#[derive(Debug, Clone)]
pub struct MariaDb {
    pub spec: ConnSpec,
    /// Parallel connections reading or loading tables.
    pub jobs: usize,
    /// How long a backup waits for the lock that starts its snapshots.
    pub lock_wait: Duration,
    /// A replica to read backups from; points still name `spec`.
    pub standby: Option<ConnSpec>,
}

impl MariaDb {
    /// Parse `url` and complete it from the environment and the option
    /// file (`defaults_file`, else `~/.my.cnf`).
    pub fn from_url(url: &str, defaults_file: Option<PathBuf>) -> Result<MariaDb> {
        let mut spec = ConnSpec::parse(url)?;
        spec.defaults_file = defaults_file;
        MariaDb::from_spec(spec)
    }

    /// From a parsed URL, completed from the environment and option file.
    pub fn from_spec(spec: ConnSpec) -> Result<MariaDb> {
        let spec = spec.resolve(&|k| std::env::var(k).ok())?;
        Ok(MariaDb {
            spec,
            jobs: crate::engine::postgres::default_jobs(),
            lock_wait: DEFAULT_LOCK_WAIT,
            standby: None,
        })
    }

    /// Read backups from this replica (its URL's database is ignored);
    /// without credentials of its own it uses the primary's.
    pub fn read_from_standby(&mut self, url: &str) -> Result<()> {
        let mut spec = ConnSpec::parse(url)?;
        spec.defaults_file = self.spec.defaults_file.clone();
        if spec.password.is_none() && spec.user.is_none() {
            spec.user = self.spec.user.clone();
            spec.password = self.spec.password.clone();
        }
        self.standby = Some(spec.resolve(&|k| std::env::var(k).ok())?);
        Ok(())
    }

    /// The server backups read from: the standby if one is named.
    fn reader(&self) -> MariaDb {
        match &self.standby {
            Some(s) => MariaDb {
                spec: s.with_database(self.spec.database()),
                standby: None,
                ..self.clone()
            },
            None => self.clone(),
        }
    }

    /// The same server, another database.
    pub fn with_database(&self, db: &str) -> MariaDb {
        MariaDb {
            spec: self.spec.with_database(db),
            ..self.clone()
        }
    }

    /// Drop this database (scratch databases of `verify --restore`).
    pub fn drop_database(&self) -> Result<()> {
        use mysql::prelude::Queryable;
        let mut c = connect::connect(&self.spec.with_database(""))?;
        c.query_drop(format!(
            "DROP DATABASE IF EXISTS {}",
            catalog::quote_ident(self.spec.database())
        ))
        .map_err(|e| connect::query_error("dropping a database", &e))
    }
}

impl crate::engine::Engine for MariaDb {
    fn name(&self) -> &'static str {
        ENGINE
    }

    fn source(&self) -> String {
        self.spec.display()
    }

    fn backup(
        &self,
        writer: &crate::repo::writer::BackupWriter,
        progress: &dyn crate::progress::Progress,
    ) -> Result<crate::engine::Exported> {
        backup::run(self, writer, progress)
    }

    fn restore(
        &self,
        repo: &crate::repo::Repository,
        index: &crate::repo::index::Index,
        point: &crate::repo::point::RestorePoint,
        opts: &crate::engine::RestoreOptions,
        progress: &dyn crate::progress::Progress,
    ) -> Result<crate::engine::Restored> {
        let meta: MariaMeta = serde_json::from_value(point.meta.clone()).map_err(|e| {
            crate::Error::repository(format!("restore point has malformed MariaDB facts: {e}"))
        })?;
        match &opts.table {
            Some(t) => restore_table::run(self, repo, index, point, &meta, t, opts, progress),
            None => restore::run(self, repo, index, point, &meta, opts, progress),
        }
    }

    fn remove_restore_leftovers(&self) -> Vec<String> {
        leftovers::remove(&self.spec)
    }

    /// MariaDB cannot rename a database: `--clean` drops the target before
    /// the restore is built under its name.
    fn keeps_target_on_failure(&self) -> bool {
        false
    }

    fn target_exists(&self) -> Result<bool> {
        let database = self.spec.database().to_string();
        if database.is_empty() {
            return Ok(false);
        }
        let mut admin = connect::connect(&self.spec.with_database(""))?;
        restore::database_exists(&mut admin, &database)
    }
}
