use crate::cli::output::Output;
use crate::cli::{Global, repository};
use clap::Args;
use sqlvault::engine::azuresql::AzureSql;
use sqlvault::engine::bacpac::Bacpac;
use sqlvault::engine::mariadb::{self, MariaDb};
use sqlvault::engine::postgres::Postgres;
use sqlvault::engine::postgres::physical::Physical;
use sqlvault::engine::postgres::physical::archive::DEFAULT_CLUSTER;
use sqlvault::engine::postgres::url::ConnSpec;
use sqlvault::engine::sqlite::{Sqlite, StagingMode};
use sqlvault::engine::{Engine, Location};
use sqlvault::policy::BackupKind;
use sqlvault::{Error, Result, pipeline};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// SQLite database files, BACPAC/DACPAC packages, postgres://,
    /// mariadb:// (mysql://) or azuresql:// URLs to back up; each database becomes one
    /// restore point.
    #[arg(required_unless_present = "policy", value_name = "DATABASE")]
    pub sources: Vec<String>,
    /// Back up the databases of this policy file now, outside its schedule,
    /// into its repository (all of them, or those named by --database).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["sources", "all", "jobs", "standby", "staging", "staging_dir"])]
    pub policy: Option<PathBuf>,
    /// With --policy: the type of backup to take (default: full).
    #[arg(long = "type", value_enum)]
    pub kind: Option<AdhocKind>,
    /// PostgreSQL, MariaDB: parallel connections copying tables.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// PostgreSQL, MariaDB: read the backup from this hot standby (replica)
    /// of the server, keeping the load off the primary.
    #[arg(long, value_name = "URL")]
    pub standby: Option<String>,
    /// PostgreSQL, MariaDB: every database of the server (not templates or
    /// system schemas).
    #[arg(long, conflicts_with = "database")]
    pub all: bool,
    /// PostgreSQL, MariaDB: these databases of the server, comma-separated;
    /// with --policy: only these of the policy's databases.
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub database: Vec<String>,
    /// zstd level for this backup (default: the repository's).
    #[arg(long, value_name = "LEVEL")]
    pub compression: Option<i32>,
    /// How to get a consistent view of a live SQLite database.
    #[arg(long, value_enum, default_value_t = StagingMode::Auto)]
    pub staging: StagingMode,
    /// Directory for staging copies (default: the system temp directory).
    #[arg(long, value_name = "DIR")]
    pub staging_dir: Option<PathBuf>,
    /// PostgreSQL: a base backup of the whole cluster (for point-in-time
    /// recovery with the WAL that `wal push` archives), over a replication
    /// connection.
    #[arg(long, conflicts_with_all = ["all", "database", "jobs", "policy"])]
    pub physical: bool,
    /// With --physical: the cluster's name in the repository, as given to
    /// `wal push --cluster` (default: main).
    #[arg(long, value_name = "NAME", requires = "physical")]
    pub cluster: Option<String>,
    /// With --physical: seconds to wait for the WAL of the base backup to be archived.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 300,
        requires = "physical"
    )]
    pub wal_timeout: u64,
    /// MariaDB: seconds to wait for the brief lock that starts the
    /// snapshots of several connections; the backup fails rather than make
    /// the server wait behind a long query.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub lock_wait_timeout: u64,
    /// MariaDB: read the [client] options from this file instead of ~/.my.cnf.
    #[arg(long, value_name = "FILE")]
    pub defaults_file: Option<PathBuf>,
    /// Seconds to wait for a database locked by a writer.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub busy_timeout: u64,
    /// Azure SQL: the server the database is copied to before its export
    /// (same subscription and resource group), for a consistent package.
    #[arg(long, value_name = "NAME", conflicts_with = "no_staging")]
    pub staging_server: Option<String>,
    /// Azure SQL: export the live database without a copy; consistent only
    /// if nothing writes to it meanwhile.
    #[arg(long)]
    pub no_staging: bool,
    #[command(flatten)]
    pub azure: crate::cli::azuresql::AzureSqlArgs,
    #[command(flatten)]
    pub dispatch: crate::cli::dispatch::DispatchArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AdhocKind {
    Full,
    Differential,
}

pub fn run(g: &Global, a: &BackupArgs, out: &Output) -> Result<i32> {
    if a.kind.is_some() && a.policy.is_none() {
        return Err(Error::usage("--type goes with --policy").with_hint(
            "a backup without a policy is always full; the repository stores only what changed",
        ));
    }
    if let Some(file) = &a.policy {
        let policy = sqlvault::policy::Policy::load(file)?;
        let kind = match a.kind {
            None | Some(AdhocKind::Full) => BackupKind::Full,
            Some(AdhocKind::Differential) => BackupKind::Differential,
        };
        let report = pipeline::adhoc::backup(
            &policy,
            &a.database,
            kind,
            &out.progress,
            &a.dispatch.options(out.quiet),
        )?;
        return Ok(out.report(&report));
    }
    if a.dispatch.dispatch.is_some() {
        return Err(Error::usage("--dispatch goes with --policy")
            .with_hint("workers find a database through a policy source: sqlvault backup --policy FILE --dispatch QUEUE"));
    }
    if a.physical
        && a.sources
            .iter()
            .any(|s| !sqlvault::engine::postgres::url::is_postgres_url(s))
    {
        return Err(Error::usage("--physical needs a postgres:// URL")
            .with_hint("give the server as postgres://user@host:port/"));
    }
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
            Location::Postgres(url) if a.physical => {
                let resolve = |u: &str| ConnSpec::parse(u)?.resolve(&|k| std::env::var(k).ok());
                let cluster = a.cluster.as_deref().unwrap_or(DEFAULT_CLUSTER);
                let mut e = Physical::source(resolve(&url)?, cluster)?;
                if let Some(standby) = &a.standby {
                    e.primary = e.spec.replace(resolve(standby)?);
                }
                e.wal_timeout = Duration::from_secs(a.wal_timeout);
                sources.push((url.clone(), Box::new(e)));
            }
            Location::Postgres(url) => {
                for e in postgres_sources(&url, a)? {
                    sources.push((e.spec.display(), Box::new(e)));
                }
            }
            Location::Package(path) => {
                sources.push((s.clone(), Box::new(Bacpac::new(path))));
            }
            Location::PackageBlob(url) => {
                sources.push((url.clone(), Box::new(Bacpac::blob(&url))));
            }
            Location::AzureSql(url) => {
                let mut e = AzureSql::new(&url)?;
                e.staging_server = a.staging_server.clone();
                e.no_staging = a.no_staging;
                e.options = a.azure.options()?;
                sources.push((e.source(), Box::new(e)));
            }
            Location::MariaDb(url) => {
                for e in mariadb_sources(&url, a)? {
                    sources.push((e.spec.display(), Box::new(e)));
                }
            }
        }
    }
    let server_url = |s: &String| {
        sqlvault::engine::postgres::url::is_postgres_url(s) || mariadb::is_mariadb_url(s)
    };
    if (a.all || !a.database.is_empty() || a.standby.is_some()) && !a.sources.iter().any(server_url)
    {
        return Err(Error::usage(
            "--all, --database and --standby need a postgres:// or mariadb:// URL",
        )
        .with_hint("give the server as postgres://user@host:port/ or mariadb://user@host:port/"));
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

/// One engine per database a MariaDB URL (with --all or --database) names.
fn mariadb_sources(url: &str, a: &BackupArgs) -> Result<Vec<MariaDb>> {
    let mut base = MariaDb::from_url(url, a.defaults_file.clone())?;
    if let Some(j) = a.jobs {
        if j == 0 {
            return Err(Error::usage("--jobs must be at least 1"));
        }
        base.jobs = j;
    }
    base.lock_wait = Duration::from_secs(a.lock_wait_timeout);
    if let Some(url) = &a.standby {
        base.read_from_standby(url)?;
    }
    let names = if a.all {
        mariadb::discover::discover(&base)?
            .into_iter()
            .map(|d| d.name)
            .collect()
    } else if !a.database.is_empty() {
        a.database.clone()
    } else if base.spec.database().is_empty() {
        return Err(Error::usage(format!(
            "`{}` names no database",
            base.spec.server()
        ))
        .with_hint("add the database to the URL (mariadb://user@host/shop), or use --all or --database"));
    } else {
        return Ok(vec![base]);
    };
    Ok(names.iter().map(|n| base.with_database(n)).collect())
}

/// One engine per database a PostgreSQL URL (with --all or --database) names.
fn postgres_sources(url: &str, a: &BackupArgs) -> Result<Vec<Postgres>> {
    let mut base = Postgres::from_url(url)?;
    if let Some(j) = a.jobs {
        if j == 0 {
            return Err(Error::usage("--jobs must be at least 1"));
        }
        base.jobs = j;
    }
    if let Some(url) = &a.standby {
        base.read_from_standby(url)?;
    }
    let names = if a.all {
        sqlvault::engine::postgres::discover::all_databases(&base)?
    } else if !a.database.is_empty() {
        a.database.clone()
    } else {
        return Ok(vec![base]);
    };
    Ok(names.iter().map(|n| base.with_database(n)).collect())
}
