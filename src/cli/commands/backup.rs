use crate::cli::output::Output;
use crate::cli::{Global, repository};
use clap::Args;
use sqlvault::engine::sqlite::{Sqlite, StagingMode};
use sqlvault::engine::{Engine, Location};
use sqlvault::{Error, Result, pipeline};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// SQLite database files to back up; each becomes one restore point.
    #[arg(required = true, value_name = "DATABASE")]
    pub sources: Vec<String>,
    /// zstd level for this backup (default: the repository's).
    #[arg(long, value_name = "LEVEL")]
    pub compression: Option<i32>,
    /// How to get a consistent view of a live SQLite database.
    #[arg(long, value_enum, default_value_t = StagingMode::Auto)]
    pub staging: StagingMode,
    /// Directory for staging copies (default: the system temp directory).
    #[arg(long, value_name = "DIR")]
    pub staging_dir: Option<PathBuf>,
    /// Seconds to wait for a database locked by a writer.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub busy_timeout: u64,
}

pub fn run(g: &Global, a: &BackupArgs, out: &Output) -> Result<i32> {
    let mut sources: Vec<(String, Box<dyn Engine>)> = Vec::new();
    for s in &a.sources {
        match Location::parse(s)? {
            Location::SqliteFile(path) => {
                let mut e = Sqlite::new(path);
                e.busy_timeout = Duration::from_secs(a.busy_timeout);
                e.staging = a.staging;
                e.staging_dir = a.staging_dir.clone();
                sources.push((s.clone(), Box::new(e)));
            }
        }
    }
    if let Some(l) = a.compression
        && !(1..=22).contains(&l)
    {
        return Err(
            Error::usage(format!("compression level {l} is out of range"))
                .with_hint("choose a zstd level from 1 (fastest) to 22 (smallest)"),
        );
    }
    let repo = repository::open(g, true, out.quiet)?;
    let level = a.compression.unwrap_or(repo.config().compression_level);
    let report = pipeline::backup(&repo, &sources, level, &out.progress);
    Ok(out.report(&report))
}
