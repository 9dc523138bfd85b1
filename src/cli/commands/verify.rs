use crate::cli::output::Output;
use crate::cli::{Global, repository};
use clap::Args;
use sqlvault::{Result, pipeline};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Also restore every restore point into a temporary directory and check it.
    #[arg(long)]
    pub restore: bool,
}

pub fn run(g: &Global, a: &VerifyArgs, out: &Output) -> Result<i32> {
    let repo = repository::open(g, false, out.quiet)?;
    let report = pipeline::verify(&repo, a.restore, &out.progress)?;
    Ok(out.report(&report))
}
