use crate::cli::Global;
use crate::cli::output::Output;
use clap::Args;
use sqlvault::policy::Policy;
use sqlvault::{Result, pipeline};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ArchiveArgs {
    /// The policy file (TOML) naming the archive repository.
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    /// Show which restore points would move.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub dispatch: crate::cli::dispatch::DispatchArgs,
}

pub fn run(_g: &Global, a: &ArchiveArgs, out: &Output) -> Result<i32> {
    let policy = Policy::load(&a.policy)?;
    let now = crate::cli::policy_now()?;
    let report = match &a.dispatch.dispatch {
        Some(queue) if !a.dry_run => {
            pipeline::dispatched::archive(&policy, now, &a.dispatch.options(out.quiet), queue)?
        }
        _ => pipeline::archive::archive(&policy, now, a.dry_run)?,
    };
    Ok(out.report(&report))
}
