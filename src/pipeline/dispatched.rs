//! The jobs a policy run sends to workers instead of running in-process:
//! which plans go where, and the job each becomes.

use super::report::ItemReport;
use super::run::Plan;
use crate::error::Result;
use crate::policy::Policy;
use crate::repo::Repository;
use crate::worker::dispatch::Dispatcher;
use crate::worker::job::{JOB_FORMAT, Job, Task, check_no_secret};

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
                label: plan.protected.label.clone(),
                task: Task::Backup {
                    source: source.clone(),
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
