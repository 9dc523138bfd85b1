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
    /// Where to restore: the path of the database file to create.
    #[arg(long, value_name = "TARGET")]
    pub to: String,
    /// With `latest`: the latest point of this database.
    #[arg(long, value_name = "NAME")]
    pub database: Option<String>,
    /// Replace the target if it exists.
    #[arg(long)]
    pub force: bool,
    /// How to check the restored database before it is put in place.
    #[arg(long, value_enum, default_value_t = CheckLevel::Full)]
    pub check: CheckLevel,
}

pub fn run(g: &Global, a: &RestoreArgs, out: &Output) -> Result<i32> {
    let repo = repository::open(g, false, out.quiet)?;
    let opts = RestoreOptions {
        force: a.force,
        check: a.check,
    };
    let report = pipeline::restore(
        &repo,
        &a.point,
        a.database.as_deref(),
        &a.to,
        &opts,
        &out.progress,
    )?;
    Ok(out.report(&report))
}
