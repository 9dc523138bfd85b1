use crate::cli::output::Output;
use crate::cli::{Global, repository};
use clap::Args;
use sqlvault::{Result, pipeline};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Also restore every restore point into a temporary directory and check it.
    #[arg(long)]
    pub restore: bool,
    /// With --restore: a PostgreSQL server (postgres://user@host/) to
    /// restore PostgreSQL points into, each in a scratch database that is
    /// dropped afterwards.
    #[arg(long, value_name = "URL")]
    pub pg_server: Option<String>,
}

pub fn run(g: &Global, a: &VerifyArgs, out: &Output) -> Result<i32> {
    if a.pg_server.is_some() && !a.restore {
        return Err(sqlvault::Error::usage("--pg-server goes with --restore"));
    }
    let repo = repository::open(g, false, out.quiet)?;
    let report = pipeline::verify(&repo, a.restore, a.pg_server.as_deref(), &out.progress)?;
    Ok(out.report(&report))
}
