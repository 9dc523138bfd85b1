//! One database at a point in time into a running server: the base backup
//! is recovered to the target in a scratch cluster, the database is copied
//! out of it with the logical engine into a staging repository inside the
//! scratch directory (never into the user's repository: a restore must not
//! add a point that `latest`, retention or the schedule would count), and
//! restored from there into the server with its fingerprints checked. The
//! scratch cluster and its staging copy go in every case.

use super::ProgressFactory;
use super::report::ItemReport;
use crate::engine::postgres::Postgres;
use crate::engine::postgres::physical::scratch;
use crate::engine::{Engine, RestoreOptions};
use crate::error::{Error, Result, local_io_error};
use crate::policy::BackupKind;
use crate::repo::point::RestorePoint;
use crate::repo::{InitOptions, Repository};
use crate::storage::LocalStorage;
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
    let staging = staging_repository(&cluster.staging_dir())?;
    let source = Postgres::from_url(&cluster.url(database))?;
    let p = progress.start("copy", database);
    let (copied, _) = super::backup_one(&staging, &source, BackupKind::Full, 1, p.as_ref())?;
    drop(p);
    // The manifest as committed (with its streams).
    let id: crate::repo::ids::PointId = copied
        .restore_point
        .as_deref()
        .and_then(|h| h.parse().ok())
        .ok_or_else(|| Error::repository("the staging copy reported no restore point"))?;
    let point = staging.read_point(&id)?;
    cluster.stop()?;
    let target_engine = Postgres::from_url(target)?;
    let index = staging.index_for(&[&point])?;
    let p = progress.start("restore", database);
    let restored = target_engine.restore(&staging, &index, &point, opts, p.as_ref())?;
    item.bytes_read = restored.bytes_written;
    let base_id = item.restore_point.as_deref().unwrap_or("?");
    item.check = Some(format!(
        "{}; `{database}` recovered from base backup {} ({})",
        restored.check,
        &base_id[..8.min(base_id.len())],
        cluster.recovered,
    ));
    Ok(())
}

/// An unencrypted repository in `dir` for the copy on its way from the
/// scratch cluster to the target: the scratch cluster beside it is as
/// unencrypted, and both go together.
fn staging_repository(dir: &std::path::Path) -> Result<Arc<Repository>> {
    std::fs::create_dir_all(dir).map_err(|e| local_io_error("creating", dir, e))?;
    let opts = InitOptions {
        encrypted: false,
        compression_level: 1,
    };
    let storage = Arc::new(LocalStorage::new(dir));
    Ok(Arc::new(Repository::init(storage, &opts, None)?))
}
