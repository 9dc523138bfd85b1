//! `run --policy`: back up whatever is due now. Safe to call every few
//! minutes: a lock in the repository serialises overlapping runs, and what
//! is due is decided after taking it, from the restore points already
//! there, so the same due backup never runs twice.

use super::report::{ItemReport, SessionReport, Status};
use super::sources::{Protected, Target, databases_for};
use super::{ProgressFactory, backup_one, policy_repo, record};
use crate::engine::Engine;
use crate::engine::postgres::physical::{Physical, objective};
use crate::error::{Error, Result};
use crate::policy::{BackupKind, PointSummary, Policy};
use crate::repo::Repository;
use crate::repo::ids::PointId;
use crate::repo::point::RestorePoint;
use crate::worker::dispatch::{DispatchOptions, Dispatcher};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Failed attempts after which auto-protection stops retrying a database
/// (it is still reported as failed on every run until fixed).
pub const MAX_ATTEMPTS: usize = 3;

/// The points of one database as the policy sees them.
pub fn summaries(points: &[(PointId, RestorePoint)], source: &str) -> Vec<PointSummary> {
    points
        .iter()
        .filter(|(_, p)| p.source == source)
        .filter_map(|(id, p)| {
            Some(PointSummary {
                id: id.to_hex(),
                database: p.database.clone(),
                kind: p.kind,
                created_at: p.created_at.parse().ok()?,
                depends_on: p.depends_on.map(|d| d.to_hex()),
            })
        })
        .collect()
}

/// Consecutive failed attempts at a source in the recorded runs, newest first.
fn failed_attempts(history: &[serde_json::Value], source: &str) -> usize {
    let mut n = 0;
    for session in history.iter().rev() {
        let Some(items) = session.get("databases").and_then(|d| d.as_array()) else {
            continue;
        };
        // A missed objective is reported on every run, but it is the
        // server's archiving that failed, not an attempt at a backup.
        match items.iter().find(|i| {
            i.get("source").and_then(|s| s.as_str()) == Some(source)
                && i.get("kind").and_then(|k| k.as_str()) != Some("log")
        }) {
            Some(i) if i.get("status").and_then(|s| s.as_str()) == Some("ok") => return n,
            Some(_) => n += 1,
            None => {}
        }
    }
    n
}

/// What a run decided for each database, before doing it.
pub(super) struct Plan {
    pub protected: Protected,
    pub engine: Box<dyn Engine>,
    pub kind: BackupKind,
    pub new: bool,
    /// The scheduled time it is due for (`run` only).
    pub slot: Option<jiff::Timestamp>,
}

pub fn run(
    policy: &Policy,
    now: jiff::Timestamp,
    dry_run: bool,
    progress: &(dyn ProgressFactory + Sync),
    dispatch: &DispatchOptions,
) -> Result<SessionReport> {
    let spec = &policy.spec;
    let repo = policy_repo::open(&spec.repository)?;
    let command = if dry_run { "run --dry-run" } else { "run" };
    let (mut report, started) = SessionReport::new(command, repo.location());
    report.warnings.extend(policy.warnings.iter().cloned());
    let _lock = if dry_run {
        None
    } else {
        Some(repo.storage().lock("run", false)?)
    };
    let points = repo.points()?;
    let history: Vec<serde_json::Value> = repo.sessions()?.into_iter().map(|(_, v)| v).collect();
    let mut plans = Vec::new();
    for s in &spec.sources {
        let dispatched = s.queue.is_some() || dispatch.queue.is_some();
        let dbs = match databases_for(s, dispatched) {
            Ok(d) => d,
            Err(e) => {
                // An unreachable source fails alone; the others still run.
                let mut item = ItemReport::new(s.name.clone()).failed(&e);
                item.source = s
                    .directory
                    .as_ref()
                    .map(|d| d.display().to_string())
                    .or_else(|| s.url.as_deref().map(crate::engine::postgres::redact));
                report.databases.push(item);
                continue;
            }
        };
        for (path, what) in super::sources::vanished_sqlite(s, &dbs, points.iter().map(|(_, p)| p))
        {
            let mut item = ItemReport::new(path.display().to_string());
            item.status = Status::Failed;
            item.source = Some(path.display().to_string());
            item.error = Some(format!(
                "protected database `{}` {what}; its restore points are kept",
                path.display()
            ));
            item.hint = Some(format!(
                "put it back, or add \"{}\" to `exclude` of source `{}` to stop protecting it",
                path.file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default(),
                s.name
            ));
            report.databases.push(item);
        }
        for p in dbs {
            let engine = p.engine();
            if !dry_run {
                super::remove_backup_leftovers(engine.as_ref(), &mut report);
            }
            let source = engine.source();
            let mine = summaries(&points, &source);
            let due = crate::policy::due(&spec.schedule, &mine, now).map_err(Error::usage)?;
            let Some(due) = due else { continue };
            let attempts = failed_attempts(&history, &source);
            if attempts >= MAX_ATTEMPTS {
                let mut item = ItemReport::new(p.label.clone());
                item.status = Status::Failed;
                item.source = Some(source);
                item.error = Some(format!("not retried after {attempts} failed attempts"));
                item.hint = Some(
                    "fix the cause, then run `sqlvault backup --policy <file> --database <name>`"
                        .into(),
                );
                report.databases.push(item);
                continue;
            }
            plans.push(Plan {
                new: mine.is_empty(),
                protected: p,
                engine,
                kind: due.kind,
                slot: Some(due.slot),
            });
        }
    }
    if let Some(max) = spec.options.max_per_run {
        plans.truncate(max);
    }
    if dry_run {
        for plan in &plans {
            let mut item = ItemReport::new(plan.protected.label.clone());
            item.kind = Some(plan.kind);
            item.source = Some(plan.engine.source());
            item.note = Some(format!(
                "would back up ({}){}",
                plan.kind,
                if plan.new { ", newly protected" } else { "" }
            ));
            report.databases.push(item);
        }
        return Ok(report.finish(started));
    }
    super::remove_stale_temporaries(&repo, &mut report);
    let mut d = Dispatcher::new(&repo, dispatch)?;
    // The job id of a scheduled backup is its slot: a run repeated before
    // the job is done queues the same job, which is then done once.
    // A database without a full is due "now", which differs at every run:
    // its slot is the first full, whenever that is made.
    let job_id = |p: &Plan| {
        let slot = match p.slot {
            Some(s) if s != now => s.to_string(),
            _ => "first".to_string(),
        };
        format!(
            "run/{}/{}/{}/{slot}",
            p.protected.source, p.protected.label, p.kind
        )
    };
    let (local, unsent) = super::dispatched::send_queued(&repo, policy, plans, &mut d, &job_id);
    report.databases.extend(unsent);
    let items = execute(&repo, policy, local, progress, now);
    report.databases.extend(items);
    report.databases.extend(d.wait(&repo));
    if let Some(n) = d.summary() {
        report.notes.push(n);
    }
    Ok(record(&repo, report.finish(started)))
}

/// Run the planned backups, `max-parallel` at a time.
pub(super) fn execute(
    repo: &Arc<Repository>,
    policy: &Policy,
    plans: Vec<Plan>,
    progress: &(dyn ProgressFactory + Sync),
    now: jiff::Timestamp,
) -> Vec<ItemReport> {
    let opts = &policy.spec.options;
    let level = opts.compression.unwrap_or(repo.config().compression_level);
    // Reversed so that popping takes them in the policy's order.
    let queue = Mutex::new(plans.into_iter().enumerate().rev().collect::<Vec<_>>());
    let done = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..opts.max_parallel {
            s.spawn(|| {
                loop {
                    let next = queue.lock().unwrap().pop();
                    let Some((n, plan)) = next else { break };
                    if crate::interrupt::is_set() {
                        break;
                    }
                    let t0 = Instant::now();
                    let label = plan.protected.label.clone();
                    if let (BackupKind::Log, Target::Physical(phys)) =
                        (plan.kind, &plan.protected.target)
                    {
                        let minutes = policy.spec.schedule.log_every_minutes.unwrap_or(15);
                        let item = objective_item(repo, minutes, phys, &label, now);
                        done.lock().unwrap().push((n, item.timed(t0)));
                        continue;
                    }
                    let p = progress.start("backup", &label);
                    let mut item = match backup_one(
                        repo,
                        plan.engine.as_ref(),
                        plan.kind,
                        level,
                        p.as_ref(),
                    ) {
                        Ok((item, _)) => {
                            let mut item = item;
                            if let Some(copy) = &opts.copy
                                && copy.kinds.contains(&plan.kind)
                                && let Err(e) = copy_point(repo, &item, &plan.protected, &copy.path)
                            {
                                item.note = Some(format!("copy failed: {}", e.message));
                            }
                            item
                        }
                        Err(e) => {
                            let mut item = ItemReport::new(label).failed(&e);
                            item.source = Some(plan.engine.source());
                            item.kind = Some(plan.kind);
                            item
                        }
                    };
                    if plan.new && item.status == Status::Ok {
                        item.note = Some(item.note.take().map_or("newly protected".into(), |n| {
                            format!("newly protected; {n}")
                        }));
                    }
                    done.lock().unwrap().push((n, item.timed(t0)));
                }
            });
        }
    });
    let mut items = done.into_inner().unwrap();
    items.sort_by_key(|(n, _)| *n);
    items.into_iter().map(|(_, i)| i).collect()
}

/// A physical source's log backup is its server's archiving: check that
/// the newest archived WAL meets the objective, switching WAL if needed.
pub(crate) fn objective_item(
    repo: &Repository,
    minutes: u32,
    phys: &Physical,
    label: &str,
    now: jiff::Timestamp,
) -> ItemReport {
    let max_age = std::time::Duration::from_secs(u64::from(minutes) * 60);
    let wait = std::time::Duration::from_secs(60);
    let mut item = ItemReport::new(label.to_string());
    item.kind = Some(BackupKind::Log);
    item.source = Some(phys.source());
    match objective::check(repo, phys, max_age, wait, now) {
        Ok(note) => item.note = Some(note),
        Err(e) => item = item.failed(&e),
    }
    item
}

/// The optional plain copy: the restored database file in
/// `{path}/{source}/{database}/{database}-{time}.db`.
fn copy_point(repo: &Repository, item: &ItemReport, p: &Protected, root: &Path) -> Result<()> {
    let id: PointId = item
        .restore_point
        .as_deref()
        .and_then(|h| h.parse().ok())
        .ok_or_else(|| Error::repository("backup reported no restore point"))?;
    let point = &repo.read_point(&id)?;
    let dir = root.join(&p.source).join(&point.database);
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::database(format!("cannot create `{}`: {}", dir.display(), e.kind())))?;
    let stamp: String = point
        .created_at
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(15)
        .collect();
    let extension = match point.engine.as_str() {
        crate::engine::bacpac::ENGINE => "bacpac",
        _ => "db",
    };
    let target = dir.join(format!("{}-{stamp}.{extension}", point.database));
    let index = repo.index_for(&[point])?;
    let engine = super::engine_for_point(point, &target.to_string_lossy())?;
    engine.restore(
        repo,
        &index,
        point,
        &Default::default(),
        &crate::progress::NoProgress,
    )?;
    Ok(())
}
