//! Restore of a package point as a new Azure SQL database: the package is
//! rebuilt (fingerprints checked) into a temporary file, put in the
//! staging container, imported by the service, and the blob removed.

use super::AzureSql;
use super::arm::Arm;
use super::cleanup::{Leftovers, with_leftovers};
use super::resources::{self, Transfer};
use crate::engine::bacpac::Bacpac;
use crate::engine::{Engine, RestoreOptions, Restored};
use crate::error::{Error, Result, local_io_error};
use crate::progress::Progress;
use crate::repo::Repository;
use crate::repo::index::Index;
use crate::repo::point::RestorePoint;

pub(super) fn run(
    cfg: &AzureSql,
    repo: &Repository,
    index: &Index,
    point: &RestorePoint,
    opts: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<Restored> {
    if opts.table.is_some() {
        return Err(
            Error::usage("--table writes one table to a file, not to Azure SQL")
                .with_hint("give --to FILE.csv with --table, or restore the whole database"),
        );
    }
    let db = cfg.database()?;
    // The target URL comes with the restore's options, not the engine's.
    let login = opts.azure.credentials()?;
    let container = opts.azure.container()?;
    let arm = Arm::new(cfg.url.management.as_ref())?;
    progress.phase("finding the server");
    let server = resources::locate(&arm, &opts.azure.locate(&cfg.url))?;
    if resources::database(&arm, &server, db)?.is_some() {
        return Err(Error::usage(format!(
            "database `{db}` already exists on server `{}`",
            server.name
        ))
        .with_hint("restore to a new name; sqlvault never replaces an Azure SQL database"));
    }
    // The package is rebuilt and checked locally first: the import service
    // must never see a package whose fingerprints did not match.
    let dir = tempfile::Builder::new()
        .prefix("sqlvault-import-")
        .tempdir()
        .map_err(|e| local_io_error("creating", &std::env::temp_dir(), e))?;
    let file = dir.path().join(format!("{db}.bacpac"));
    let rebuilt = Bacpac::new(&file).restore(repo, index, point, opts, progress)?;
    let blob = format!("{db}-import-{}.bacpac", super::backup::stamp());
    let timeout = opts.azure.operation_timeout;
    let mut left = Leftovers {
        arm: &arm,
        container: &container,
        timeout,
        copy: None,
        blob: Some(blob.clone()),
    };
    let result = (|| {
        progress.phase("uploading the package to the staging container");
        container.upload(&blob, &file)?;
        let uri = container.blob_uri(&blob)?;
        progress.phase("importing the package as a new database");
        resources::import(
            &arm,
            &server,
            db,
            &Transfer::new(&container, &uri, &login),
            timeout,
            progress,
        )
    })();
    drop(dir);
    let leftovers = left.remove();
    if let Err(e) = result {
        return Err(with_leftovers(e, &leftovers));
    }
    let mut check = format!("{}; imported by Azure SQL", rebuilt.check);
    for l in leftovers {
        check.push_str("; ");
        check.push_str(&l);
    }
    Ok(Restored {
        target: cfg.source(),
        bytes_written: rebuilt.bytes_written,
        check,
    })
}
