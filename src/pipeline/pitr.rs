//! One database at a point in time into a running server: the base backup
//! is recovered to the target in a scratch cluster, the database is backed
//! up from it with the logical engine (a restore point of that database as
//! of the target), and that point is restored into the server with its
//! fingerprints checked. The scratch cluster goes in every case.

use super::ProgressFactory;
use super::report::ItemReport;
use crate::engine::postgres::Postgres;
use crate::engine::postgres::physical::scratch;
use crate::engine::{Engine, RestoreOptions};
use crate::error::{Error, Result};
use crate::policy::BackupKind;
use crate::repo::Repository;
use crate::repo::point::RestorePoint;
use std::sync::Arc;

pub(super) fn restore_database(
    repo: &Arc<Repository>,
    base: &RestorePoint,
    database: Option<&str>,
    target: &str,
    opts: &RestoreOptions,
    progress: &dyn ProgressFactory,
    item: &mut ItemReport,
) -> Result<()> {
    let database = database.ok_or_else(|| {
        Error::usage("a base backup restores into a server one database at a time")
            .with_hint("name it with --database NAME, or restore the whole cluster with --to DIR")
    })?;
    item.database = database.to_string();
    let index = repo.index_for(&[base])?;
    let p = progress.start("recover", &base.database);
    let mut cluster = scratch::start(repo, &index, base, &opts.physical, p.as_ref())?;
    drop(p);
    let source = Postgres::from_url(&cluster.url(database))?;
    let p = progress.start("backup", database);
    let level = repo.config().compression_level;
    let (copied, _) = super::backup_one(repo, &source, BackupKind::Full, level, p.as_ref())?;
    drop(p);
    let id: crate::repo::ids::PointId = copied
        .restore_point
        .as_deref()
        .and_then(|h| h.parse().ok())
        .ok_or_else(|| Error::repository("the copy reported no restore point"))?;
    let point = repo.read_point(&id)?;
    cluster.stop()?;
    let target_engine = Postgres::from_url(target)?;
    let index = repo.index_for(&[&point])?;
    let p = progress.start("restore", database);
    let restored = target_engine.restore(repo, &index, &point, opts, p.as_ref())?;
    item.bytes_read = restored.bytes_written;
    item.check = Some(format!(
        "{}; copied through restore point {} ({database} as recovered)",
        restored.check,
        copied
            .restore_point
            .as_deref()
            .map(|h| &h[..8])
            .unwrap_or("?")
    ));
    Ok(())
}
