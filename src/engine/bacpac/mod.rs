//! BACPAC and DACPAC packages, the portable export of SQL Server and Azure
//! SQL Database made by DacFx (SqlPackage, SSMS, the Azure portal).
//!
//! A package is stored entry by entry, each decompressed as its own stream,
//! and restored as a package with the same entries and byte-identical
//! contents, or one table of it as CSV or JSON lines. No SQL Server is
//! needed for either: the table data parts are decoded here (`bcp`).

mod backup;
pub mod bcp;
mod export;
pub mod model;
pub mod package;
mod restore;
pub mod source;
pub mod types;
mod value;

use crate::error::Result;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const ENGINE: &str = "bacpac";

/// The stream an entry of the package is stored as.
pub fn part_stream(entry: &str) -> String {
    format!("part/{entry}")
}

/// Whether a path names a package (by its extension).
pub fn is_package_path(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    lower.ends_with(".bacpac") || lower.ends_with(".dacpac")
}

/// A package file: the source of a backup, or the target of a restore
/// (the package, or with `--table` one table's CSV or JSON lines).
#[derive(Debug, Clone)]
pub struct Bacpac {
    pub path: PathBuf,
    /// A package to back up from Azure Storage instead (`azure://` URL).
    pub blob: Option<String>,
}

impl Bacpac {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Bacpac {
            path: path.into(),
            blob: None,
        }
    }

    /// A package in a blob, `azure://ACCOUNT/CONTAINER/path/NAME.bacpac`.
    pub fn blob(url: &str) -> Self {
        Bacpac {
            path: PathBuf::from(
                url.rsplit('/')
                    .next()
                    .unwrap_or(url)
                    .split('?')
                    .next()
                    .unwrap_or(url),
            ),
            blob: Some(url.to_string()),
        }
    }

    /// The package as messages name it.
    pub fn shown(&self) -> String {
        match &self.blob {
            Some(url) => format!("`{url}`"),
            None => crate::error::show_path(&self.path),
        }
    }
}

/// How `restore --table` writes the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableFormat {
    /// RFC 4180 CSV with a header row.
    Csv,
    /// One JSON object per row.
    Jsonl,
}

impl TableFormat {
    /// `.jsonl` and `.ndjson` files get JSON lines, anything else CSV.
    pub fn for_path(path: &Path) -> TableFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("ndjson") => {
                TableFormat::Jsonl
            }
            _ => TableFormat::Csv,
        }
    }
}

/// A table whose rows the point holds but could not fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotFingerprinted {
    pub table: String,
    pub reason: String,
}

/// Facts stored in the restore point, needed to rebuild the package.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackageMeta {
    /// `bacpac` or `dacpac`.
    pub package: String,
    /// The DacFx version that exported it.
    pub exporter_version: Option<String>,
    pub server_version: Option<String>,
    /// SHA-256 of model.xml, upper-case hex (as Origin.xml records it).
    pub model_sha256: String,
    /// Origin.xml's `TableRowCountTotalTag`.
    pub total_rows: Option<u64>,
    /// The package's entries in their order.
    pub entries: Vec<package::Entry>,
    #[serde(default)]
    pub not_fingerprinted: Vec<NotFingerprinted>,
}

impl crate::engine::Engine for Bacpac {
    fn name(&self) -> &'static str {
        ENGINE
    }

    fn source(&self) -> String {
        match &self.blob {
            Some(url) => url.clone(),
            None => crate::engine::sqlite::source_of(&self.path),
        }
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
        match &opts.table {
            Some(table) => export::run(self, table, repo, index, point, opts, progress),
            None => restore::run(self, repo, index, point, opts, progress),
        }
    }

    fn remove_restore_leftovers(&self) -> Vec<String> {
        crate::engine::file_target::remove_leftovers(&self.path)
    }
}
