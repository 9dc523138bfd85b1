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
    /// With --restore: a MariaDB or MySQL server (mariadb://user@host/) to
    /// restore MariaDB points into, each in a scratch database that is
    /// dropped afterwards.
    #[arg(long, value_name = "URL")]
    pub mariadb_server: Option<String>,
    /// With --restore: the directory holding the PostgreSQL server binaries
    /// that test-restore base backups (else found by the backup's version).
    #[arg(long, value_name = "DIR")]
    pub pg_bin: Option<std::path::PathBuf>,
}

pub fn run(g: &Global, a: &VerifyArgs, out: &Output) -> Result<i32> {
    if a.pg_server.is_some() && !a.restore {
        return Err(sqlvault::Error::usage("--pg-server goes with --restore"));
    }
    if a.mariadb_server.is_some() && !a.restore {
        return Err(sqlvault::Error::usage(
            "--mariadb-server goes with --restore",
        ));
    }
    let repo = repository::open(g, false, out.quiet)?;
    let physical = sqlvault::engine::postgres::physical::PhysicalOptions {
        pg_bin: a.pg_bin.clone(),
        restore_command: if a.restore {
            super::restore::restore_command(g)?
        } else {
            String::new()
        },
        ..Default::default()
    };
    let report = pipeline::verify(
        &repo,
        a.restore,
        &pipeline::ScratchServers {
            postgres: a.pg_server.clone(),
            mariadb: a.mariadb_server.clone(),
        },
        &physical,
        &out.progress,
    )?;
    Ok(out.report(&report))
}
