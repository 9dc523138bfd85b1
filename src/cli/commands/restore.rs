use crate::cli::output::Output;
use crate::cli::{Global, repository};
use clap::Args;
use sqlvault::engine::{CheckLevel, RestoreOptions};
use sqlvault::{Result, pipeline};

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Restore point id (or a unique prefix of at least 4 digits), or `latest`.
    #[arg(value_name = "POINT")]
    pub point: String,
    /// Where to restore: the path of the database file to create, or a
    /// postgres:// URL naming the database to create.
    #[arg(long, value_name = "TARGET")]
    pub to: String,
    /// With `latest`: the latest point of this database.
    #[arg(long, value_name = "NAME")]
    pub database: Option<String>,
    /// Replace the target if it exists.
    #[arg(long)]
    pub force: bool,
    /// PostgreSQL: replace the target database even if it is not empty.
    #[arg(long)]
    pub clean: bool,
    /// PostgreSQL: parallel connections loading tables and building indexes.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// PostgreSQL: restore only this table (`schema.name`) into an existing database.
    #[arg(long, value_name = "TABLE")]
    pub table: Option<String>,
    /// Find the point in this policy's repository or, once archived, in its
    /// archive repository.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<std::path::PathBuf>,
    /// How to check the restored database before it is put in place.
    #[arg(long, value_enum, default_value_t = CheckLevel::Full)]
    pub check: CheckLevel,
}

pub fn run(g: &Global, a: &RestoreArgs, out: &Output) -> Result<i32> {
    let repo = match &a.policy {
        Some(file) => {
            let policy = sqlvault::policy::Policy::load(file)?;
            pipeline::policy_repo::holding(&policy.spec, &a.point, a.database.as_deref())?
        }
        None => repository::open(g, false, out.quiet)?,
    };
    let opts = RestoreOptions {
        force: a.force,
        check: a.check,
        jobs: a.jobs.unwrap_or(0),
        clean: a.clean,
        table: a.table.clone(),
    };
    match pipeline::restore(
        &repo,
        &a.point,
        a.database.as_deref(),
        &a.to,
        &opts,
        &out.progress,
    ) {
        Ok(report) => Ok(out.report(&report)),
        // The report first, then the error line; the error's exit code.
        Err(failed) => {
            out.print(&failed.report);
            Err(failed.error)
        }
    }
}
