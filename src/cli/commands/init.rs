use crate::cli::output::Output;
use crate::cli::{Global, repository, secrets};
use clap::Args;
use sqlvault::repo::{InitOptions, Repository};
use sqlvault::{Error, Result};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Store data unencrypted (anyone with access to the storage can read it).
    #[arg(long)]
    pub no_encryption: bool,
    /// zstd level for data written to this repository (1-22).
    #[arg(long, value_name = "LEVEL", default_value_t = 3)]
    pub compression: i32,
}

pub fn run(g: &Global, a: &InitArgs, out: &Output) -> Result<i32> {
    let path = g.repo.clone().ok_or_else(|| {
        Error::usage("init needs --repo <path or azure:// URL>").with_hint(
            "the default repository is created by the first `sqlvault backup` without --repo",
        )
    })?;
    let opts = InitOptions {
        encrypted: !a.no_encryption,
        compression_level: a.compression,
    };
    let password = if opts.encrypted {
        Some(secrets::new_password(g)?)
    } else {
        None
    };
    let repo = Repository::init(repository::storage_for(&path)?, &opts, password.as_ref())?;
    if out.json {
        outln!(
            "{}",
            serde_json::json!({"command": "init", "status": "ok", "repository": repo.location(), "encrypted": opts.encrypted})
        );
    } else if !out.quiet {
        outln!(
            "created {} repository at `{}`",
            if opts.encrypted {
                "an encrypted"
            } else {
                "an UNENCRYPTED"
            },
            repo.location()
        );
    }
    Ok(0)
}
