//! The jobs a policy run sends to workers instead of running in-process:
//! which plans go where, and the job each becomes.

use super::report::{ItemReport, SessionReport};
use super::run::Plan;
use super::{policy_repo, record};
use crate::engine::RestoreOptions;
use crate::error::{Error, Result};
use crate::policy::Policy;
use crate::repo::Repository;
use crate::worker::dispatch::{DispatchOptions, Dispatcher};
use crate::worker::job::{ArchiveTarget, JOB_FORMAT, Job, Task, check_no_secret};
use std::sync::Arc;

/// Send the plans whose source has a queue (its own or `--dispatch`'s) as
/// jobs; return the plans to run here, and items for jobs that could not
/// be sent. `id` names a plan's job (it is what makes the job done once).
pub(super) fn send_queued(
    repo: &Repository,
    policy: &Policy,
    plans: Vec<Plan>,
    d: &mut Dispatcher,
    id: &dyn Fn(&Plan) -> String,
) -> (Vec<Plan>, Vec<ItemReport>) {
    let mut local = Vec::new();
    let mut failed = Vec::new();
    for plan in plans {
        let Some(source) = policy
            .spec
            .sources
            .iter()
            .find(|s| s.name == plan.protected.source)
        else {
            local.push(plan);
            continue;
        };
        let Some(queue) = d.queue_for(source.queue.as_deref()) else {
            local.push(plan);
            continue;
        };
        let mut item = ItemReport::new(plan.protected.label.clone());
        item.kind = Some(plan.kind);
        item.source = Some(plan.engine.source());
        let sent = (|| -> Result<()> {
            if let Some(u) = &source.url {
                check_no_secret(&format!("the url of source `{}`", source.name), u)?;
            }
            if let Some(u) = &source.standby {
                check_no_secret(&format!("the standby of source `{}`", source.name), u)?;
            }
            let job = Job {
                format: JOB_FORMAT,
                id: id(&plan),
                dispatch: d.id.clone(),
                repository: repo.config().id.clone(),
                max_attempts: policy.spec.options.max_attempts,
                failures: 0,
                last_error: None,
                releases: 0,
                label: plan.protected.label.clone(),
                task: Task::Backup {
                    source: Box::new(source.clone()),
                    database: plan.protected.label.clone(),
                    backup_kind: plan.kind,
                    compression: policy.spec.options.compression,
                    log_every_minutes: policy.spec.schedule.log_every_minutes,
                },
            };
            d.send(&queue, &job, item.clone())
        })();
        if let Err(e) = sent {
            failed.push(item.failed(&e));
        }
    }
    (local, failed)
}

/// `archive --policy --dispatch`: one job that moves the old points, run by
/// a worker (near the repositories).
pub fn archive(
    policy: &Policy,
    now: jiff::Timestamp,
    dispatch: &DispatchOptions,
    queue: &str,
) -> Result<SessionReport> {
    let spec = &policy.spec;
    let arch = super::archive::spec_of(policy)?;
    if arch.password.is_some() {
        return Err(Error::usage(
            "the archive's password is written in the policy, and would travel in the queue message",
        )
        .with_hint("give the archive key-file, password-file or password-env, which the workers resolve themselves"));
    }
    let repo = policy_repo::open(&spec.repository)?;
    let (mut report, started) = SessionReport::new("archive", repo.location());
    let mut d = Dispatcher::new(&repo, dispatch)?;
    let job = Job {
        format: JOB_FORMAT,
        id: format!("archive/{}", d.id),
        dispatch: d.id.clone(),
        repository: repo.config().id.clone(),
        max_attempts: spec.options.max_attempts,
        failures: 0,
        last_error: None,
        releases: 0,
        label: "archive".into(),
        task: Task::Archive {
            archive: ArchiveTarget {
                path: arch.path.clone(),
                tier: arch.tier.clone(),
                after_days: arch.after_days,
                key_file: arch.key_file.clone(),
                password_file: arch.password_file.clone(),
                password_env: arch.password_env.clone(),
            },
            now: now.to_string(),
        },
    };
    d.send(queue, &job, ItemReport::new("archive"))?;
    report.databases = d.wait(&repo);
    report.notes.extend(d.summary());
    Ok(record(&repo, report.finish(started)))
}

/// `restore --dispatch`: the restore runs on a worker (near the target).
/// Only logical points: a base backup is restored where its data
/// directory goes, by `restore` there.
pub fn restore(
    repo: &Arc<Repository>,
    point_spec: &str,
    database: Option<&str>,
    target: &str,
    opts: &RestoreOptions,
    dispatch: &DispatchOptions,
    queue: &str,
) -> Result<SessionReport> {
    check_no_secret("the restore target", target)?;
    let (id, point) = super::latest::resolve(repo, point_spec, database)?;
    if point.engine == crate::engine::postgres::physical::ENGINE {
        return Err(Error::usage(
            "a base backup is restored on the machine of its data directory, not through a queue",
        )
        .with_hint("run `sqlvault restore` there"));
    }
    let (mut report, started) = SessionReport::new("restore", repo.location());
    let mut d = Dispatcher::new(repo, dispatch)?;
    let job = Job {
        format: JOB_FORMAT,
        id: format!("restore/{}", d.id),
        dispatch: d.id.clone(),
        repository: repo.config().id.clone(),
        max_attempts: 2,
        failures: 0,
        last_error: None,
        releases: 0,
        label: point.database.clone(),
        // A second try for a worker lost mid-restore; a restore that fails
        // on its own would fail again.
        task: Task::Restore {
            point: id.to_hex(),
            target: target.to_string(),
            force: opts.force,
            clean: opts.clean,
            jobs: opts.jobs,
            table: opts.table.clone(),
            check: opts.check,
        },
    };
    let mut item = ItemReport::new(point.database.clone());
    item.restore_point = Some(id.to_hex());
    item.target = Some(target.to_string());
    d.send(queue, &job, item)?;
    report.databases = d.wait(repo);
    report.notes.extend(d.summary());
    Ok(record(repo, report.finish(started)))
}
