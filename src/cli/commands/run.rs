use crate::cli::Global;
use crate::cli::output::Output;
use clap::Args;
use sqlvault::policy::Policy;
use sqlvault::{Result, pipeline};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The policy file (TOML).
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    /// Show what is due without backing anything up.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub dispatch: crate::cli::dispatch::DispatchArgs,
}

pub fn run(_g: &Global, a: &RunArgs, out: &Output) -> Result<i32> {
    let policy = Policy::load(&a.policy)?;
    let report = pipeline::run::run(
        &policy,
        crate::cli::policy_now()?,
        a.dry_run,
        &out.progress,
        &a.dispatch.options(out.quiet),
    )?;
    Ok(out.report(&report))
}
