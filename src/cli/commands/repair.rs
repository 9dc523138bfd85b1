use crate::cli::output::Output;
use crate::cli::{Global, repository};
use clap::Args;
use sqlvault::Result;
use sqlvault::pipeline::repair::{RepairOptions, repair};

#[derive(Debug, Args)]
pub struct RepairArgs {
    /// Say what would be rebuilt or removed, and why, without changing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Also delete the manifests of restore points that cannot be restored.
    #[arg(long)]
    pub forget_damaged: bool,
    /// Read every pack (as `verify` does) and rewrite damaged ones with
    /// their intact chunks.
    #[arg(long)]
    pub read_data: bool,
}

pub fn run(g: &Global, a: &RepairArgs, out: &Output) -> Result<i32> {
    let repo = repository::open(g, false, out.quiet)?;
    let report = repair(
        &repo,
        &RepairOptions {
            dry_run: a.dry_run,
            forget_damaged: a.forget_damaged,
            read_data: a.read_data,
        },
        &out.progress,
    )?;
    Ok(out.report(&report))
}
