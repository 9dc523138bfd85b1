//! `backup --policy`: back up a policy's databases now, outside the
//! schedule, with the policy's repository and options.

use super::report::{ItemReport, SessionReport};
use super::run::{Plan, execute, summaries};
use super::sources::databases_for;
use super::{ProgressFactory, policy_repo, record};
use crate::error::{Error, Result};
use crate::policy::{BackupKind, Policy};
use crate::worker::dispatch::{DispatchOptions, Dispatcher};

/// Back up the policy's databases (or those named in `only`) as `kind`.
pub fn backup(
    policy: &Policy,
    only: &[String],
    kind: BackupKind,
    progress: &(dyn ProgressFactory + Sync),
    dispatch: &DispatchOptions,
) -> Result<SessionReport> {
    let spec = &policy.spec;
    let repo = policy_repo::open(&spec.repository)?;
    let (mut report, started) = SessionReport::new("backup --policy", repo.location());
    report.warnings.extend(policy.warnings.iter().cloned());
    let points = repo.points()?;
    let mut plans = Vec::new();
    let mut known = Vec::new();
    // A source that cannot be listed may hold a database asked for by name.
    let mut unlisted = false;
    let mut matched: Vec<String> = Vec::new();
    for s in &spec.sources {
        let dispatched = s.queue.is_some() || dispatch.queue.is_some();
        let dbs = match databases_for(s, dispatched) {
            Ok(d) => d,
            Err(e) => {
                report
                    .databases
                    .push(ItemReport::new(s.name.clone()).failed(&e));
                unlisted = true;
                continue;
            }
        };
        for p in dbs {
            known.push(p.label.clone());
            if !only.is_empty() && !only.iter().any(|n| p.is_named(n)) {
                continue;
            }
            matched.extend(only.iter().filter(|n| p.is_named(n)).cloned());
            let engine = p.engine();
            super::remove_backup_leftovers(engine.as_ref(), &mut report);
            let mine = summaries(&points, &engine.source());
            if kind == BackupKind::Differential && !mine.iter().any(|m| m.kind == BackupKind::Full)
            {
                let mut item = ItemReport::new(p.label.clone()).failed(
                    &Error::usage("a differential backup needs a full one first")
                        .with_hint("run `sqlvault backup --policy <file> --type full` first"),
                );
                item.kind = Some(kind);
                report.databases.push(item);
                continue;
            }
            plans.push(Plan {
                new: mine.is_empty(),
                protected: p,
                engine,
                kind,
                slot: None,
            });
        }
    }
    for name in only {
        if !matched.contains(name) && !unlisted {
            return Err(
                Error::usage(format!("the policy protects no database named `{name}`")).with_hint(
                    if known.is_empty() {
                        "check the policy's sources with `sqlvault policy check <file>`".to_string()
                    } else {
                        format!("it protects: {}", known.join(", "))
                    },
                ),
            );
        }
    }
    super::remove_stale_temporaries(&repo, &mut report);
    let mut d = Dispatcher::new(&repo, dispatch)?;
    let dispatch_id = d.id.clone();
    let job_id = |p: &Plan| {
        format!(
            "backup/{dispatch_id}/{}/{}",
            p.protected.source, p.protected.label
        )
    };
    let (local, unsent) = super::dispatched::send_queued(&repo, policy, plans, &mut d, &job_id);
    report.databases.extend(unsent);
    let items = execute(&repo, policy, local, progress, jiff::Timestamp::now());
    report.databases.extend(items);
    report.databases.extend(d.wait(&repo));
    if let Some(n) = d.summary() {
        report.notes.push(n);
    }
    Ok(record(&repo, report.finish(started)))
}
