//! Runs the stages for one or more databases and produces the session
//! report. One database failing does not stop the others; the report and
//! the exit code say which failed.

pub mod adhoc;
pub mod archive;
pub mod dispatched;
pub mod history;
pub mod latest;
mod pitr;
pub mod policy_repo;
pub mod prune;
pub mod rehydrate;
pub mod repair;
pub mod report;
pub mod run;
mod safeguard;
pub mod show;
pub mod sources;

use crate::engine::postgres::physical;
use crate::engine::sqlite::Sqlite;
use crate::engine::{Engine, RestoreOptions};
use crate::error::{Error, Result};
use crate::policy::BackupKind;
use crate::progress::{NoProgress, Progress};
use crate::repo::Repository;
use crate::repo::ids::PointId;
use crate::repo::point::RestorePoint;
use crate::repo::writer::BackupWriter;
use report::{ItemReport, SessionReport, Status};
use std::sync::Arc;
use std::time::Instant;

/// Makes one progress display per database.
pub trait ProgressFactory {
    fn start(&self, verb: &str, label: &str) -> Box<dyn Progress>;
}

pub struct Silent;

impl ProgressFactory for Silent {
    fn start(&self, _: &str, _: &str) -> Box<dyn Progress> {
        Box::new(NoProgress)
    }
}

/// Back up each source into its own restore point.
pub fn backup(
    repo: &Arc<Repository>,
    sources: &[(String, Box<dyn Engine>)],
    compression_level: i32,
    progress: &dyn ProgressFactory,
) -> SessionReport {
    let (mut report, started) = SessionReport::new("backup", repo.location());
    for (_, engine) in sources {
        remove_backup_leftovers(engine.as_ref(), &mut report);
    }
    remove_stale_temporaries(repo, &mut report);
    for (label, engine) in sources {
        if crate::interrupt::is_set() {
            break;
        }
        let t0 = Instant::now();
        let p = progress.start("backup", label);
        let item = match backup_one(
            repo,
            engine.as_ref(),
            BackupKind::Full,
            compression_level,
            p.as_ref(),
        ) {
            Ok((item, _)) => item,
            Err(e) => ItemReport::new(label.clone()).failed(&e),
        };
        report.databases.push(item.timed(t0));
    }
    record(repo, report.finish(started))
}

/// Remove what killed backups of this database left outside the
/// repository (staging copies, which hold it unencrypted), and warn.
/// Done first thing, before the backup can fail for any other reason.
pub(crate) fn remove_backup_leftovers(engine: &dyn Engine, report: &mut SessionReport) {
    for w in engine.remove_backup_leftovers() {
        if !report.warnings.contains(&w) {
            report.warnings.push(w);
        }
    }
}

/// Remove the repository's temporary objects that killed writers left
/// half-written (a local repository's `tmp/`), and say how many went.
pub(crate) fn remove_stale_temporaries(repo: &Repository, report: &mut SessionReport) {
    match repo.storage().remove_stale_temporaries() {
        Ok(names) if names.is_empty() => {}
        Ok(names) => report.notes.push(format!(
            "removed {} temporary file(s) in `tmp/` left by interrupted runs",
            names.len()
        )),
        Err(e) => report.warnings.push(format!(
            "cannot remove the temporary files in `tmp/` left by interrupted runs: {}",
            Error::from(e).message
        )),
    }
}

/// Store the session in the repository. A run whose history cannot be
/// written (read-only storage, say) still succeeds, with a warning.
pub fn record(repo: &Repository, mut report: SessionReport) -> SessionReport {
    let value = serde_json::to_value(&report).expect("report serialises");
    if let Err(e) = repo.write_session(&value) {
        report.warnings.push(format!(
            "could not record this session in the repository: {}",
            e.message
        ));
    }
    report
}

/// The lock backups hold shared and prune holds exclusively.
pub const REPOSITORY_LOCK: &str = "repository";

/// Back up one database as a restore point of `kind`. A differential or log
/// backup depends on the source's newest full point.
pub(crate) fn backup_one(
    repo: &Arc<Repository>,
    engine: &dyn Engine,
    kind: BackupKind,
    level: i32,
    progress: &dyn Progress,
) -> Result<(ItemReport, RestorePoint)> {
    backup_for_job(repo, engine, kind, level, progress, None)
}

/// [`backup_one`], recording in the point the queued job it was made for.
pub(crate) fn backup_for_job(
    repo: &Arc<Repository>,
    engine: &dyn Engine,
    kind: BackupKind,
    level: i32,
    progress: &dyn Progress,
    job: Option<&str>,
) -> Result<(ItemReport, RestorePoint)> {
    // Shared with other backups, exclusive of prune: prune must not delete
    // a chunk this backup finds in the index and dedupes against.
    let _guard = repo.storage().lock(REPOSITORY_LOCK, true)?;
    let parent = latest_point_of(repo, engine)?;
    let depends_on = match kind {
        BackupKind::Full => None,
        _ => {
            let source = engine.source();
            repo.points()?
                .into_iter()
                .rev()
                .find(|(_, p)| {
                    p.kind == BackupKind::Full && p.engine == engine.name() && p.source == source
                })
                .map(|(id, _)| id)
        }
    };
    let writer = BackupWriter::new(repo.clone(), level, parent.as_ref())?;
    let exported = match engine.backup(&writer, progress) {
        Ok(x) => x,
        Err(e) => {
            writer.abandon();
            return Err(e);
        }
    };
    let point = RestorePoint {
        created_at: crate::util::now_rfc3339(),
        hostname: crate::util::hostname(),
        engine: engine.name().into(),
        database: exported.database.clone(),
        source: exported.source,
        meta: exported.meta,
        streams: Vec::new(),
        stats: Default::default(),
        kind,
        depends_on,
        fingerprints: Some(exported.fingerprints),
        written_by: Some(format!("sqlvault {}", env!("CARGO_PKG_VERSION"))),
        job: job.map(str::to_string),
    };
    let (id, stats, manifest_size) = writer.commit(point.clone())?;
    // (commit cleans nothing up on failure: a failed index or point write
    // leaves packs no index names, which verify notes and prune removes.)
    let mut item = ItemReport::new(exported.database);
    item.note = exported.note;
    item.restore_point = Some(id.to_hex());
    item.kind = Some(kind);
    item.source = Some(point.source.clone());
    item.bytes_read = stats.bytes_read;
    item.bytes_new = stats.bytes_new;
    item.bytes_stored = stats.bytes_stored + manifest_size;
    item.dedupe_ratio = if stats.bytes_read > 0 {
        1.0 - stats.bytes_new as f64 / stats.bytes_read as f64
    } else {
        0.0
    };
    Ok((item, point))
}

/// The newest restore point of the same source, whose chunks new ones are
/// delta-encoded against.
fn latest_point_of(repo: &Repository, engine: &dyn Engine) -> Result<Option<RestorePoint>> {
    let source = engine.source();
    Ok(repo
        .points()?
        .into_iter()
        .rev()
        .find(|(_, p)| p.engine == engine.name() && p.source == source)
        .map(|(_, p)| p))
}

/// The engine that restores a point to `target`.
pub fn engine_for_point(point: &RestorePoint, target: &str) -> Result<Box<dyn Engine>> {
    match point.engine.as_str() {
        "sqlite" => Ok(Box::new(Sqlite::new(target))),
        "postgres" if crate::engine::postgres::url::is_postgres_url(target) => Ok(Box::new(
            crate::engine::postgres::Postgres::from_url(target)?,
        )),
        crate::engine::postgres::physical::ENGINE => {
            if crate::engine::postgres::url::is_postgres_url(target) {
                return Err(Error::usage(
                    "a base backup restores into a server only through `restore --database NAME`",
                )
                .with_hint("restore the cluster into a directory with --to DIR, then start it"));
            }
            Ok(Box::new(
                crate::engine::postgres::physical::Physical::target(target.into()),
            ))
        }
        crate::engine::bacpac::ENGINE if crate::engine::azuresql::is_azuresql_url(target) => {
            Ok(Box::new(crate::engine::azuresql::AzureSql::new(target)?))
        }
        crate::engine::bacpac::ENGINE => Ok(Box::new(crate::engine::bacpac::Bacpac::new(target))),
        crate::engine::mariadb::ENGINE if crate::engine::mariadb::is_mariadb_url(target) => Ok(
            Box::new(crate::engine::mariadb::MariaDb::from_url(target, None)?),
        ),
        crate::engine::mariadb::ENGINE => Err(Error::usage(format!(
            "restore point of `{}` is a MariaDB database; restore it to a mariadb:// URL",
            point.database
        ))
        .with_hint("give --to mariadb://user@host/new_database")),
        "postgres" => Err(Error::usage(format!(
            "restore point of `{}` is a PostgreSQL database; restore it to a postgres:// URL",
            point.database
        ))
        .with_hint("give --to postgres://user@host/new_database")),
        other => Err(Error::repository(format!(
            "restore point was written by engine `{other}`, which this sqlvault does not know"
        ))
        .with_hint("upgrade sqlvault")),
    }
}

/// A run that failed as a whole, and the report it still ends with.
#[derive(Debug)]
pub struct Failed {
    pub report: SessionReport,
    pub error: Error,
}

/// Restore one point to `target`. A restore that fails still has its
/// report (recorded in the repository), and the error that decides the
/// exit code.
pub fn restore(
    repo: &Arc<Repository>,
    point_spec: &str,
    database: Option<&str>,
    target: &str,
    opts: &RestoreOptions,
    progress: &dyn ProgressFactory,
) -> std::result::Result<SessionReport, Box<Failed>> {
    let (mut report, started) = SessionReport::new("restore", repo.location());
    let t0 = Instant::now();
    let mut item = ItemReport::new(database.unwrap_or_default());
    // A target URL may hold a password; reports are shown and stored.
    item.target = Some(crate::engine::postgres::redact(target));
    let done = restore_into(
        repo,
        point_spec,
        database,
        target,
        opts,
        progress,
        &mut item,
        &mut report.warnings,
    );
    match done {
        Ok(()) => {
            report.databases.push(item.timed(t0));
            Ok(record(repo, report.finish(started)))
        }
        Err(error) => {
            // Remembered, so that the next backup stores those chunks again.
            let found = repo.damage_found();
            if !found.is_empty()
                && let Err(e) = repo.record_damage("restore", &found)
            {
                report.warnings.push(format!(
                    "the damaged packs could not be recorded ({}); the next backup may build on them",
                    e.message
                ));
            }
            report.databases.push(item.failed(&error).timed(t0));
            let report = record(repo, report.finish(started));
            Err(Box::new(Failed { report, error }))
        }
    }
}

/// The steps of [`restore`], filling in `item` as they learn more.
#[allow(clippy::too_many_arguments)]
fn restore_into(
    repo: &Arc<Repository>,
    point_spec: &str,
    database: Option<&str>,
    target: &str,
    opts: &RestoreOptions,
    progress: &dyn ProgressFactory,
    item: &mut ItemReport,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let (id, point) = if opts.physical.target
        != crate::engine::postgres::physical::RecoveryTarget::End
        || opts.physical.cluster.is_some()
    {
        crate::engine::postgres::physical::choose_base(
            repo,
            point_spec,
            opts.physical.cluster.as_deref(),
            &opts.physical.target,
        )?
    } else {
        latest::resolve(repo, point_spec, database)?
    };
    item.database = point.database.clone();
    item.restore_point = Some(id.to_hex());
    if point.engine == physical::ENGINE && crate::engine::postgres::url::is_postgres_url(target) {
        return pitr::restore_database(repo, &point, database, target, opts, progress, item);
    }
    let engine = engine_for_point(&point, target)?;
    warnings.extend(engine.remove_restore_leftovers());
    let index = repo.index_for(&[&point])?;
    warnings.extend(index.notes.iter().cloned());
    let p = progress.start("restore", &point.database);
    let before = repo.fetched();
    let safety = match safeguard::needed(engine.as_ref(), opts)? {
        true => Some(safeguard::SafetyCopy::take(engine.as_ref(), progress)?),
        false => None,
    };
    let restored = engine.restore(repo, &index, &point, opts, p.as_ref());
    let restored = match (restored, safety) {
        (Err(e), Some(copy)) => Err(copy.put_back(engine.as_ref(), opts, e, progress)),
        (r, _) => r,
    };
    let restored = restored.map_err(|e| {
        // A DBA who asked to replace a database must know it is still there.
        let told = e.message.contains("unchanged") || e.message.contains("kept as");
        if (opts.clean || opts.force) && engine.keeps_target_on_failure() && !told {
            let message = format!("{}; the existing target, if any, is unchanged", e.message);
            Error { message, ..e }
        } else {
            e
        }
    })?;
    let after = repo.fetched();
    item.bytes_fetched = Some(after.0 - before.0);
    item.fetches = Some(after.1 - before.1);
    item.bytes_read = restored.bytes_written;
    item.check = Some(restored.check);
    Ok(())
}

/// Where `verify --restore` restores SQLite points (one directory each).
const VERIFY_SCRATCH: &str = "sqlvault-verify-";

/// Servers `verify --restore` restores logical points of server engines
/// into, each in a scratch database dropped afterwards.
#[derive(Debug, Clone, Default)]
pub struct ScratchServers {
    pub postgres: Option<String>,
    pub mariadb: Option<String>,
}

/// Check every object; with `test_restore`, also restore every point into a
/// temporary directory (SQLite) or a scratch database on one of `servers`
/// and check the result.
pub fn verify(
    repo: &Repository,
    test_restore: bool,
    servers: &ScratchServers,
    physical_opts: &physical::PhysicalOptions,
    progress: &dyn ProgressFactory,
) -> Result<SessionReport> {
    let (mut report, started) = SessionReport::new("verify", repo.location());
    for d in crate::leftovers::remove_stale_dirs(&std::env::temp_dir(), VERIFY_SCRATCH).removed {
        report.warnings.push(format!(
            "removed `{}`, a test-restored copy left by a verify that was killed",
            d.display()
        ));
    }
    let p = progress.start("verify", "repository");
    let check = repo.check(p.as_ref())?;
    drop(p);
    report.errors = check.errors.clone();
    report.warnings = check.warnings.clone();
    // Remembered, so that later backups store these chunks again.
    let found: Vec<_> = check
        .damaged_packs
        .iter()
        .chain(&check.missing_packs)
        .copied()
        .collect();
    if !found.is_empty()
        && let Err(e) = repo.record_damage("verify", &found)
    {
        report.warnings.push(format!(
            "the damaged packs could not be recorded ({}); the next backup may build on them",
            e.message
        ));
    }
    let p = progress.start("verify", "WAL archive");
    let (_, log_errors) = repo.check_logs(p.as_ref())?;
    drop(p);
    report.errors.extend(log_errors);
    let mut points = repo.points_lenient()?;
    points.sort_by(|a, b| {
        a.1.as_ref()
            .map(|p| p.created_at.clone())
            .cmp(&b.1.as_ref().map(|p| p.created_at.clone()))
    });
    let index = if test_restore {
        let refs: Vec<&RestorePoint> = points.iter().filter_map(|(_, p)| p.as_ref()).collect();
        let index = repo.index_for(&refs)?;
        report.warnings.extend(index.notes.iter().cloned());
        Some(index)
    } else {
        None
    };
    let mut untested = 0;
    // Of each cluster, the newest base backup is test-restored.
    let newest_base: std::collections::HashMap<String, PointId> = points
        .iter()
        .filter_map(|(id, p)| Some((id, p.as_ref()?)))
        .filter(|(_, p)| p.engine == physical::ENGINE)
        .map(|(id, p)| (p.database.clone(), *id))
        .collect();
    // Each cluster's archive is listed once, for all its base backups.
    let bases: Vec<(PointId, RestorePoint)> = points
        .iter()
        .filter_map(|(id, p)| Some((*id, p.clone()?)))
        .filter(|(_, p)| p.engine == physical::ENGINE)
        .collect();
    let windows = physical::window::windows(repo, &bases);
    for (id, point) in points {
        let t0 = Instant::now();
        let name = point
            .as_ref()
            .map(|p| p.database.clone())
            .unwrap_or_else(|| "?".into());
        let mut item = ItemReport::new(name);
        item.restore_point = Some(id.to_hex());
        if check.points_damaged.contains(&id) {
            item.status = Status::Failed;
            item.error = Some(
                check
                    .why_damaged
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| "missing or damaged data".into()),
            );
            item.hint = Some(
                "restore another point of this database; `sqlvault repair` rebuilds what can be rebuilt and names what cannot"
                    .into(),
            );
        } else if let (Some(index), Some(point)) = (&index, &point) {
            item.bytes_read = point.size();
            let newest = newest_base.get(&point.database) == Some(&id);
            let restored = if point.engine == physical::ENGINE {
                test_restore_base(repo, index, &id, point, newest, physical_opts, progress)
                    .map(Some)
            } else {
                test_restore_point(repo, index, &id, point, servers, progress)
            };
            match restored {
                Ok(Some(check)) => item.check = Some(check),
                Ok(None) => {
                    item.note = Some("objects checked; not test-restored".into());
                    untested += 1;
                }
                Err(e) => item = item.failed(&e),
            }
        } else if let Some(point) = &point {
            item.bytes_read = point.size();
        }
        if point.as_ref().is_some_and(|p| p.engine == physical::ENGINE)
            && item.status != Status::Failed
        {
            item = check_wal_chain(&windows, &id, item);
        }
        report.databases.push(item.timed(t0));
    }
    for (id, why) in repo.damaged_sessions()? {
        report.warnings.push(format!(
            "session record `sessions/{id}` is damaged ({why}); it is history only: `sqlvault repair` removes it"
        ));
    }
    // A manifest that vanished leaves no trace in `points/`; the sessions
    // that wrote it do.
    let present: std::collections::HashSet<_> = repo.list_points()?.into_iter().collect();
    for (id, db, when) in history::missing_points(repo, &present)? {
        let mut item = ItemReport::new(db.clone());
        item.restore_point = Some(id.clone());
        item.status = Status::Failed;
        item.error = Some(format!(
            "restore point written by the backup of {when} is missing: its manifest `points/{id}` was deleted"
        ));
        item.hint = Some(
            "copy it back from another copy of the repository, or restore another point".into(),
        );
        report.databases.push(item);
    }
    if untested > 0 {
        report.warnings.push(format!(
            "{untested} PostgreSQL restore point(s) were not test-restored: give --pg-server postgres://user@host/ to restore them into scratch databases there"
        ));
    }
    Ok(record(repo, report.finish(started)))
}

/// A base backup passes when the WAL it needs to become consistent is all
/// archived and no segment is missing after it.
fn check_wal_chain(
    windows: &Result<std::collections::BTreeMap<PointId, physical::window::Window>>,
    id: &PointId,
    mut item: ItemReport,
) -> ItemReport {
    let windows = match windows {
        Ok(w) => w,
        Err(e) => return item.failed(e),
    };
    let Some(w) = windows.get(id) else {
        return item;
    };
    if !w.consistent {
        item.status = Status::Failed;
        item.error = Some(format!(
            "the WAL this base backup needs to become consistent (up to {}) is not all archived",
            w.from_lsn
        ));
        item.hint = Some(
            "check pg_stat_archiver on the server; this base backup cannot be restored".into(),
        );
    } else if let Some(missing) = &w.missing {
        item.status = Status::Failed;
        item.error = Some(format!(
            "WAL segment {missing} is missing: times after {} cannot be reached from this base backup",
            w.to
        ));
        item.hint = Some("take a new base backup; the archive resumes after the gap".into());
    } else {
        let note = format!(
            "WAL chain complete: restorable from {} to {} (up to {})",
            w.from, w.to, w.last_segment
        );
        item.check = Some(match item.check.take() {
            Some(c) => format!("{c}; {note}"),
            None => note,
        });
    }
    item
}

/// Test-restore the newest base backup of a cluster to the end of its
/// archive and to a random time inside its window; older ones are checked
/// object by object and by their WAL chain only.
fn test_restore_base(
    repo: &Repository,
    index: &crate::repo::index::Index,
    id: &PointId,
    point: &RestorePoint,
    newest: bool,
    opts: &physical::PhysicalOptions,
    progress: &dyn ProgressFactory,
) -> Result<String> {
    if !newest {
        return Ok(
            "objects checked; only the newest base backup of a cluster is test-restored".into(),
        );
    }
    let p = progress.start("test-restore", &point.database);
    let end = physical::scratch::test_restore(repo, index, point, opts, p.as_ref())?;
    let windows = physical::window::windows(repo, &[(*id, point.clone())])?;
    let Some(w) = windows.get(id) else {
        return Ok(end);
    };
    let (Ok(from), Ok(to)) = (
        w.from.parse::<jiff::Timestamp>(),
        w.to.parse::<jiff::Timestamp>(),
    ) else {
        return Ok(end);
    };
    let span = to.duration_since(from);
    if span.as_micros() < 2 || w.missing.is_some() {
        return Ok(format!("to the end of the archive: {end}"));
    }
    use rand::Rng;
    let offset = rand::thread_rng().gen_range(0..span.as_micros()) as i64;
    let at = from + jiff::SignedDuration::from_micros(offset);
    let mut at_opts = opts.clone();
    at_opts.target = physical::RecoveryTarget::Time(at);
    let mid = physical::scratch::test_restore(repo, index, point, &at_opts, p.as_ref())?;
    Ok(format!("to the end of the archive: {end}; to {at}: {mid}"))
}

/// Restore `point` into a scratch database on a server and drop it again;
/// the check that ran. A scratch database left by a killed verify is
/// replaced.
fn restore_into_scratch(
    scratch: &dyn Engine,
    drop: &dyn Fn() -> Result<()>,
    repo: &Repository,
    index: &crate::repo::index::Index,
    point: &RestorePoint,
    progress: &dyn ProgressFactory,
) -> Result<String> {
    drop()?;
    let p = progress.start("test-restore", &point.database);
    let restored = scratch.restore(repo, index, point, &RestoreOptions::default(), p.as_ref());
    let dropped = drop();
    let restored = restored?;
    dropped?;
    Ok(restored.check)
}

/// Restore `point` somewhere temporary and check it; the check that ran,
/// or None when it cannot be done here (a server engine's point without a
/// server to restore into).
fn test_restore_point(
    repo: &Repository,
    index: &crate::repo::index::Index,
    id: &crate::repo::ids::PointId,
    point: &RestorePoint,
    servers: &ScratchServers,
    progress: &dyn ProgressFactory,
) -> Result<Option<String>> {
    let scratch_name = format!("sqlvault_verify_{}", &id.to_hex()[..16]);
    if point.engine == "postgres" {
        let Some(server) = &servers.postgres else {
            return Ok(None);
        };
        let scratch =
            crate::engine::postgres::Postgres::from_url(server)?.with_database(&scratch_name);
        let drop = || scratch.drop_database();
        return restore_into_scratch(&scratch, &drop, repo, index, point, progress).map(Some);
    }
    if point.engine == crate::engine::mariadb::ENGINE {
        let Some(server) = &servers.mariadb else {
            return Ok(None);
        };
        let scratch =
            crate::engine::mariadb::MariaDb::from_url(server, None)?.with_database(&scratch_name);
        let drop = || scratch.drop_database();
        return restore_into_scratch(&scratch, &drop, repo, index, point, progress).map(Some);
    }
    // Held while the restored copy (unencrypted) exists; a killed verify's
    // directory is removed by the next one.
    let (dir, _in_use) = crate::leftovers::create_dir(&std::env::temp_dir(), VERIFY_SCRATCH)
        .map_err(|e| Error::database(format!("cannot create a temporary directory: {e}")))?;
    let target = dir.path().join("restored.db");
    let engine = engine_for_point(point, &target.to_string_lossy())?;
    let p = progress.start("test-restore", &point.database);
    let restored = engine.restore(repo, index, point, &RestoreOptions::default(), p.as_ref())?;
    Ok(Some(restored.check))
}
