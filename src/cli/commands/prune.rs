use crate::cli::Global;
use crate::cli::output::Output;
use clap::Args;
use sqlvault::policy::Policy;
use sqlvault::{Result, pipeline};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// The policy file (TOML) whose retention to apply.
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    /// Show what would be deleted, and why each kept point is kept.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(_g: &Global, a: &PruneArgs, out: &Output) -> Result<i32> {
    let policy = Policy::load(&a.policy)?;
    let report = pipeline::prune::prune(&policy, crate::cli::policy_now()?, a.dry_run)?;
    Ok(out.report(&report))
}
