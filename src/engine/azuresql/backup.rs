//! Backup of an Azure SQL database: a transactionally consistent copy on
//! the staging server, its export to a package blob, the package read
//! straight from the blob into the repository, and the copy and blob
//! removed whatever happened.

use super::AzureSql;
use super::arm::Arm;
use super::cleanup::{Leftovers, with_leftovers};
use super::resources::{self, Transfer};
use crate::engine::bacpac::Bacpac;
use crate::engine::{Engine, Exported};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::repo::writer::BackupWriter;

/// Said in the report of every `--no-staging` backup.
pub const NO_STAGING_WARNING: &str = "exported from the live database without a staging copy: consistent only if nothing wrote to it meanwhile";

/// A name no other run picks: the time and a random suffix.
pub(super) fn stamp() -> String {
    format!(
        "{}-{:04x}",
        jiff::Timestamp::now().strftime("%Y%m%d%H%M%S"),
        rand::random::<u16>()
    )
}

pub(super) fn run(
    cfg: &AzureSql,
    writer: &BackupWriter,
    progress: &dyn Progress,
) -> Result<Exported> {
    let db = cfg.database()?;
    let login = cfg.options.credentials()?;
    if cfg.staging_server.is_none() && !cfg.no_staging {
        return Err(Error::usage(format!(
            "backup of `{}` needs a staging server for the database copy",
            cfg.url
        ))
        .with_hint("give --staging-server NAME (a server of the same resource group), or --no-staging to export the live database"));
    }
    let container = cfg.options.container()?;
    let arm = Arm::new(cfg.url.management.as_ref())?;
    progress.phase("finding the server");
    let server = resources::locate(&arm, &cfg.options.locate(&cfg.url))?;
    if resources::database(&arm, &server, db)?.is_none() {
        return Err(Error::database(format!(
            "database `{db}` was not found on server `{}`",
            server.name
        ))
        .with_hint(format!(
            "list the server's databases with: sqlvault discover azuresql://{}/",
            cfg.url.host
        )));
    }
    let staging = match &cfg.staging_server {
        Some(name) if !cfg.no_staging => Some(server.sibling(&arm, name)?),
        _ => None,
    };
    let stamp = stamp();
    let timeout = cfg.options.operation_timeout;
    let mut left = Leftovers {
        arm: &arm,
        container: &container,
        timeout,
        copy: None,
        blob: None,
    };
    let result = (|| {
        let (export_server, export_db) = match &staging {
            Some(staging) => {
                let copy = format!("{db}-sqlvault-{stamp}");
                // Recorded before the request: a copy that started and then
                // failed is removed too.
                left.copy = Some((staging.clone(), copy.clone()));
                progress.phase("copying the database to the staging server");
                resources::copy(&arm, &server, db, staging, &copy, timeout, progress)?;
                (staging.clone(), copy)
            }
            None => (server.clone(), db.to_string()),
        };
        let blob = format!("{db}-{stamp}.bacpac");
        left.blob = Some(blob.clone());
        let uri = container.blob_uri(&blob)?;
        progress.phase("exporting the database to a package");
        resources::export(
            &arm,
            &export_server,
            &export_db,
            &Transfer::new(&container, &uri, &login),
            timeout,
            progress,
        )?;
        if !container.exists(&blob)? {
            return Err(Error::database(format!(
                "the export of `{db}` finished but wrote no package at `{}`",
                container.shown(&blob)
            ))
            .with_hint("check the staging container's firewall and key, then run it again"));
        }
        Bacpac::blob(&container.blob_url(&blob)).backup(writer, progress)
    })();
    let leftovers = left.remove();
    let mut exported = match result {
        Ok(e) => e,
        Err(e) => return Err(with_leftovers(e, &leftovers)),
    };
    exported.database = db.to_string();
    exported.source = cfg.source();
    let mut notes: Vec<String> = exported.note.take().into_iter().collect();
    if cfg.no_staging {
        notes.push(NO_STAGING_WARNING.to_string());
    }
    notes.extend(leftovers);
    if !notes.is_empty() {
        exported.note = Some(notes.join("; "));
    }
    Ok(exported)
}
