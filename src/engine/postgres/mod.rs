//! PostgreSQL: a transactionally consistent logical backup from one
//! exported snapshot, and a full-fidelity restore.
//!
//! A coordinator connection opens a `REPEATABLE READ READ ONLY`
//! transaction and exports its snapshot. `pg_dump` writes the schema
//! (pre-data and post-data sections, custom format) from that snapshot,
//! and `--jobs` connections that adopt it copy the tables with
//! `COPY ... TO STDOUT`, largest first, one stream per table. Every table
//! therefore comes from the same instant, with no staging copy.
//!
//! Restore builds the database under a temporary name (pre-data, rows in
//! parallel, large objects, post-data in parallel, sequence values,
//! ANALYZE) and renames it into place last, so a failed restore leaves
//! nothing behind.

mod backup;
pub mod catalog;
pub mod connect;
mod copy_out;
pub mod discover;
mod fingerprint;
mod largeobjects;
mod leftovers;
pub mod pgpass;
pub mod physical;
mod replace;
mod restore;
mod restore_table;
mod split_load;
mod standby;
pub mod tools;
pub mod url;

use crate::error::Result;
use serde::{Deserialize, Serialize};
pub use url::{ConnSpec, redact};

/// The schema stream: a `pg_dump -Fc` archive of the pre-data and
/// post-data sections.
pub const SCHEMA_STREAM: &str = "schema";
/// Large objects: per object its OID (u32 BE), then pieces of
/// `length (u32 BE) ‖ bytes`, ended by a zero length.
pub const LARGE_OBJECTS_STREAM: &str = "large-objects";

/// The stream holding one table's rows.
pub fn table_stream(schema: &str, name: &str) -> String {
    format!("data/{}", catalog::qualified(schema, name))
}

/// Stream of part `part` of a table copied in parts: the first part keeps
/// the table's own stream name.
pub fn part_stream(t: &TableInfo, part: u32) -> String {
    if part == 0 {
        t.stream.clone()
    } else {
        format!("{}#{part}", t.stream)
    }
}

/// How a table's rows travel. Binary is faster; text is used when a
/// column's binary form names user-defined type OIDs (arrays of enums,
/// composites of domains), which differ in the restored database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CopyFormat {
    Binary,
    Text,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableInfo {
    pub stream: String,
    pub schema: String,
    pub name: String,
    /// Columns in the order they were copied (generated columns excluded).
    pub columns: Vec<String>,
    pub format: CopyFormat,
    /// On-disk size when backed up (heap and TOAST), to restore largest first.
    pub bytes: u64,
    pub rows_estimate: i64,
    /// The `WHERE ...` of an extension's configuration table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// Its indexes and the sequences it owns (serial and identity
    /// columns), so that `--table` finds them in the schema archive.
    #[serde(default)]
    pub indexes: Vec<String>,
    #[serde(default)]
    pub owned_sequences: Vec<String>,
    /// A large table is copied in this many parts (block ranges), each its
    /// own stream, so that several connections share it.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub parts: u32,
    /// Heap pages when backed up (not stored).
    #[serde(skip)]
    pub blocks: u64,
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SequenceValue {
    pub schema: String,
    pub name: String,
    pub last_value: i64,
    pub is_called: bool,
}

/// The `meta` of a PostgreSQL restore point.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PgMeta {
    pub server_version: String,
    pub server_version_num: i32,
    pub pg_dump_version: String,
    pub pg_dump_major: u32,
    pub encoding: String,
    pub collate: String,
    pub ctype: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale_provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icu_locale: Option<String>,
    pub tables: Vec<TableInfo>,
    pub sequences: Vec<SequenceValue>,
    pub large_objects: u64,
}

/// One database on one server, as a backup source or a restore target.
#[derive(Debug, Clone)]
pub struct Postgres {
    pub spec: ConnSpec,
    /// Parallel connections for table data and index builds.
    pub jobs: usize,
    /// A hot standby of `spec`'s server to read the backup from, keeping
    /// the load off the primary. The restore point still names the primary.
    pub standby: Option<ConnSpec>,
}

/// `--jobs` when not given: the cores, at most 4.
pub fn default_jobs() -> usize {
    crate::util::cores().min(4)
}

impl Postgres {
    /// From a URL, completed from `PG*` variables and `~/.pgpass`.
    pub fn from_url(url: &str) -> Result<Postgres> {
        let spec = ConnSpec::parse(url)?.resolve(&|k| std::env::var(k).ok())?;
        Ok(Postgres {
            spec,
            jobs: default_jobs(),
            standby: None,
        })
    }

    /// Read backups from this hot standby (its URL's database is ignored).
    /// Without a password of its own it uses the primary's: a standby has
    /// the same roles.
    pub fn read_from_standby(&mut self, url: &str) -> Result<()> {
        let mut spec = ConnSpec::parse(url)?;
        if spec.password.is_none() {
            spec.password = self.spec.password.clone();
        }
        let spec = spec.resolve(&|k| std::env::var(k).ok())?;
        self.standby = Some(spec.with_dbname(self.spec.dbname()));
        Ok(())
    }

    /// The server backups read from: the standby if one is named.
    fn reader(&self) -> Postgres {
        match &self.standby {
            Some(s) => Postgres {
                spec: s.with_dbname(self.spec.dbname()),
                jobs: self.jobs,
                standby: None,
            },
            None => self.clone(),
        }
    }

    /// Drop this database (used for scratch databases such as the ones
    /// `verify --restore` restores into).
    pub fn drop_database(&self) -> Result<()> {
        let name = self.spec.dbname.clone().unwrap_or_default();
        let mut admin = connect::admin_connection(&self.spec)?;
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {}",
                catalog::quote_ident(&name)
            ))
            .map_err(|e| connect::query_error(&format!("dropping database `{name}`"), &e))
    }

    /// The same server, another database.
    pub fn with_database(&self, db: &str) -> Postgres {
        Postgres {
            spec: self.spec.with_dbname(db),
            jobs: self.jobs,
            standby: self.standby.as_ref().map(|s| s.with_dbname(db)),
        }
    }
}

impl crate::engine::Engine for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
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
        let meta: PgMeta = serde_json::from_value(point.meta.clone()).map_err(|e| {
            crate::Error::repository(format!("restore point has malformed PostgreSQL facts: {e}"))
        })?;
        let jobs = if opts.jobs > 0 { opts.jobs } else { self.jobs };
        match &opts.table {
            Some(t) => restore_table::run(self, repo, index, point, &meta, t, opts, progress),
            None => restore::run(self, repo, index, point, &meta, jobs, opts, progress),
        }
    }

    fn remove_restore_leftovers(&self) -> Vec<String> {
        leftovers::remove(&self.spec)
    }
}

/// Turn an error raised inside a `Write` into ours (the repository's
/// errors travel through `std::io::Error`).
pub(crate) fn from_io(e: std::io::Error, what: &str) -> crate::Error {
    if e.get_ref().is_some_and(|i| i.is::<crate::Error>()) {
        let inner = e.into_inner().expect("checked above");
        return *inner.downcast::<crate::Error>().expect("checked above");
    }
    crate::Error::database(format!("{what}: {e}"))
}
