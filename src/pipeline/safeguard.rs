//! A replacing restore (`--clean`) into an engine that cannot build the
//! restore aside and put it in place at the end (MariaDB cannot rename a
//! database): the database it replaces is first copied into a staging
//! repository in the temp directory, and put back from there if the
//! restore fails, so a failed restore never loses it. The copy goes once
//! the restore succeeded or the old database is back.

use super::ProgressFactory;
use crate::engine::{Engine, RestoreOptions};
use crate::error::{Error, Result, local_io_error};
use crate::policy::BackupKind;
use crate::repo::ids::PointId;
use crate::repo::{InitOptions, Repository};
use crate::storage::LocalStorage;
use std::sync::Arc;

const PREFIX: &str = "sqlvault-replaced-";

pub(super) struct SafetyCopy {
    dir: tempfile::TempDir,
    _lock: std::fs::File,
    repo: Arc<Repository>,
    point: PointId,
}

/// Whether a restore with `opts` through `engine` needs a safety copy.
pub(super) fn needed(engine: &dyn Engine, opts: &RestoreOptions) -> Result<bool> {
    Ok((opts.clean || opts.force)
        && opts.table.is_none()
        && !engine.keeps_target_on_failure()
        && engine.target_exists()?)
}

impl SafetyCopy {
    /// Copy the database `engine` would replace, proven by its fingerprints
    /// when it is put back.
    pub fn take(engine: &dyn Engine, progress: &dyn ProgressFactory) -> Result<SafetyCopy> {
        let tmp = std::env::temp_dir();
        let _ = crate::leftovers::remove_stale_dirs(&tmp, PREFIX);
        let (dir, lock) = crate::leftovers::create_dir(&tmp, PREFIX)
            .map_err(|e| local_io_error("creating a directory in", &tmp, e))?;
        let opts = InitOptions {
            encrypted: false,
            compression_level: 1,
        };
        let repo = Arc::new(Repository::init(
            Arc::new(LocalStorage::new(dir.path().join("copy"))),
            &opts,
            None,
        )?);
        let p = progress.start("copy before replacing", &engine.source());
        let (item, _) = super::backup_one(&repo, engine, BackupKind::Full, 1, p.as_ref())
            .map_err(|e| {
                Error {
                    message: format!(
                        "cannot copy the database to be replaced before replacing it ({}); nothing was changed",
                        e.message
                    ),
                    ..e
                }
            })?;
        let point = item
            .restore_point
            .as_deref()
            .and_then(|h| h.parse().ok())
            .ok_or_else(|| Error::repository("the safety copy reported no restore point"))?;
        Ok(SafetyCopy {
            dir,
            _lock: lock,
            repo,
            point,
        })
    }

    /// After the restore failed with `error`: put the old database back
    /// and say so, or keep the copy and say where.
    pub fn put_back(
        self,
        engine: &dyn Engine,
        opts: &RestoreOptions,
        error: Error,
        progress: &dyn ProgressFactory,
    ) -> Error {
        let back = (|| -> Result<()> {
            let point = self.repo.read_point(&self.point)?;
            let index = self.repo.index_for(&[&point])?;
            let opts = RestoreOptions {
                clean: true,
                ..opts.clone()
            };
            let p = progress.start("put back", &point.database);
            engine.restore(&self.repo, &index, &point, &opts, p.as_ref())?;
            Ok(())
        })();
        let message = match back {
            Ok(()) => format!(
                "{}; the database it was to replace is unchanged (put back from a copy taken first)",
                error.message
            ),
            Err(e) => {
                let kept = self.dir.keep();
                format!(
                    "{}; putting back the database it was to replace failed too ({}): a copy of it is kept in `{}`: `sqlvault restore latest --repo {} --clean --to TARGET` puts it back",
                    error.message,
                    e.message,
                    kept.display(),
                    kept.join("copy").display()
                )
            }
        };
        Error { message, ..error }
    }
}
