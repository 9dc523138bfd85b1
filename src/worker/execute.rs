//! Doing one job on a worker: the same pipeline functions a local run
//! calls, against the worker's repository, with the exactly-once checks.

use super::job::{Job, Task};
use crate::engine::RestoreOptions;
use crate::error::{Error, Result};
use crate::pipeline::report::{ItemReport, Status};
use crate::pipeline::sources::{Target, databases_of};
use crate::pipeline::{ProgressFactory, archive, backup_for_job, policy_repo, run};
use crate::policy::BackupKind;
use crate::policy::file::RepositorySpec;
use crate::repo::Repository;
use std::sync::Arc;
use std::time::Instant;

/// What a job produced: one item per database or point it touched, and
/// notes on the whole.
pub struct Outcome {
    pub items: Vec<ItemReport>,
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
}

impl Outcome {
    pub fn failed(&self) -> Option<&ItemReport> {
        self.items.iter().find(|i| i.status != Status::Ok)
    }
}

/// A test-only fault: with `SQLVAULT_TEST_FAULT=slow-job` in a debug
/// build, every job first waits a few seconds, so tests can stop a worker
/// in the middle of one. Release builds never do.
fn slow_job_fault() -> Result<()> {
    if cfg!(debug_assertions) && std::env::var("SQLVAULT_TEST_FAULT").is_ok_and(|v| v == "slow-job")
    {
        for _ in 0..80 {
            crate::interrupt::check()?;
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    Ok(())
}

pub fn execute(
    repo: &Arc<Repository>,
    job: &Job,
    progress: &(dyn ProgressFactory + Sync),
) -> Result<Outcome> {
    let t0 = Instant::now();
    slow_job_fault()?;
    match &job.task {
        Task::Backup {
            source,
            database,
            backup_kind,
            compression,
            log_every_minutes,
        } => {
            let p = databases_of(source)?
                .into_iter()
                .find(|p| p.label == *database || p.is_named(database))
                .ok_or_else(|| {
                    Error::database(format!(
                        "source `{}` has no database `{database}` seen from this worker",
                        source.name
                    ))
                    .with_hint(
                        "check that the worker can reach the source the way the policy names it",
                    )
                })?;
            let engine = p.engine();
            let warnings = engine.remove_backup_leftovers();
            // Two tries of one job never run at once, and the second finds
            // what the first committed.
            let lock = format!(
                "job-{}",
                &blake3::hash(engine.source().as_bytes()).to_hex()[..16]
            );
            let _guard = repo.storage().lock(&lock, false)?;
            if let Some((id, _)) = repo
                .points()?
                .into_iter()
                .find(|(_, pt)| pt.job.as_deref() == Some(job.id.as_str()))
            {
                let mut item = ItemReport::new(p.label.clone());
                item.restore_point = Some(id.to_hex());
                item.kind = Some(*backup_kind);
                item.source = Some(engine.source());
                item.note = Some("already backed up by an earlier try of this job".into());
                return Ok(Outcome {
                    items: vec![item.timed(t0)],
                    notes: vec![],
                    warnings,
                });
            }
            let item = if let (BackupKind::Log, Target::Physical(phys)) = (backup_kind, &p.target) {
                let minutes = log_every_minutes.unwrap_or(15);
                run::objective_item(repo, minutes, phys, &p.label, jiff::Timestamp::now())
            } else {
                let level = compression.unwrap_or(repo.config().compression_level);
                let bar = progress.start("backup", &p.label);
                backup_for_job(
                    repo,
                    engine.as_ref(),
                    *backup_kind,
                    level,
                    bar.as_ref(),
                    Some(&job.id),
                )?
                .0
            };
            Ok(Outcome {
                items: vec![item.timed(t0)],
                notes: vec![],
                warnings,
            })
        }
        Task::Archive { archive: a, now } => {
            let now: jiff::Timestamp = now
                .parse()
                .map_err(|_| Error::usage(format!("the job's time `{now}` is not a time")))?;
            let target = policy_repo::open(&RepositorySpec {
                path: a.path.clone(),
                tier: a.tier.clone(),
                key_file: a.key_file.clone(),
                password_file: a.password_file.clone(),
                password_env: a.password_env.clone(),
                password: None,
            })
            .map_err(|e| e.context("archive repository"))?;
            let report = archive::between(repo, &target, a.after_days, now, false)?;
            Ok(Outcome {
                items: report.databases,
                notes: report.notes,
                warnings: report.warnings,
            })
        }
        Task::Restore {
            point,
            target,
            force,
            clean,
            jobs,
            table,
            check,
        } => {
            if let Some(done) = recorded_success(repo, &job.id)? {
                let mut item = done;
                item.note = Some("already restored by an earlier try of this job".into());
                return Ok(Outcome {
                    items: vec![item],
                    notes: vec![],
                    warnings: vec![],
                });
            }
            let opts = RestoreOptions {
                force: *force,
                check: *check,
                jobs: *jobs,
                clean: *clean,
                table: table.clone(),
                physical: Default::default(),
                ..Default::default()
            };
            let report = match crate::pipeline::restore(repo, point, None, target, &opts, progress)
            {
                Ok(r) => r,
                Err(failed) => return Err(failed.error),
            };
            Ok(Outcome {
                items: report.databases,
                notes: report.notes,
                warnings: report.warnings,
            })
        }
    }
}

/// The item of a successful result already recorded for `job`.
fn recorded_success(repo: &Repository, job: &str) -> Result<Option<ItemReport>> {
    for (_, s) in repo.sessions()? {
        if s.get("job").and_then(|j| j.as_str()) == Some(job)
            && s.get("status").and_then(|j| j.as_str()) == Some("ok")
            && let Some(item) = s
                .get("databases")
                .and_then(|d| d.get(0))
                .and_then(|i| serde_json::from_value::<ItemReport>(i.clone()).ok())
        {
            return Ok(Some(item));
        }
    }
    Ok(None)
}
