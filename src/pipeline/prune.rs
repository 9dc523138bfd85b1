//! `prune --policy`: apply retention, then delete the data no remaining
//! restore point needs.
//!
//! Runs under the repository lock held exclusively, so no backup is
//! deduplicating against the index meanwhile. The order keeps the
//! repository valid if the process dies at any step: manifests go first
//! (a point is gone once its manifest is), then a new index is written
//! before the old ones are deleted, and packs no index names go last.

use super::report::{ItemReport, SessionReport};
use super::run::summaries;
use super::{REPOSITORY_LOCK, policy_repo, record};
use crate::engine::postgres::physical::retention;
use crate::error::{Error, Result};
use crate::policy::{Policy, decide};
use crate::repo::Repository;
use crate::repo::point::POINTS_DIR;
use std::collections::{HashMap, HashSet};

pub fn prune(policy: &Policy, now: jiff::Timestamp, dry_run: bool) -> Result<SessionReport> {
    let spec = &policy.spec;
    let repo = policy_repo::open(&spec.repository)?;
    let zone = spec.schedule.zone().map_err(Error::usage)?;
    let command = if dry_run { "prune --dry-run" } else { "prune" };
    let (mut report, started) = SessionReport::new(command, repo.location());
    let _guard = if dry_run {
        None
    } else {
        Some(repo.storage().lock(REPOSITORY_LOCK, false)?)
    };
    let points = repo.points()?;
    // Retention groups by database: use the source, which is unique, where
    // two sources may hold databases of the same name.
    let mut summaries_all = Vec::new();
    let sources: HashSet<&str> = points.iter().map(|(_, p)| p.source.as_str()).collect();
    for source in sources {
        let mut s = summaries(&points, source);
        for x in &mut s {
            x.database = source.to_string();
        }
        summaries_all.extend(s);
    }
    let decisions = decide(&summaries_all, &spec.retention, &zone, now);
    let names: HashMap<String, String> = points
        .iter()
        .map(|(id, p)| (id.to_hex(), p.database.clone()))
        .collect();
    let mut doomed = Vec::new();
    for d in &decisions {
        let mut item = ItemReport::new(names.get(&d.id).cloned().unwrap_or_default());
        item.restore_point = Some(d.id.clone());
        let verb = match (d.keep, dry_run) {
            (true, _) => "kept",
            (false, true) => "would delete",
            (false, false) => "deleted",
        };
        item.note = Some(format!("{verb}: {}", d.reasons.join("; ")));
        if !d.keep {
            doomed.push(d.id.clone());
        }
        report.databases.push(item);
    }
    let kept: Vec<_> = points
        .iter()
        .filter(|(id, _)| !doomed.contains(&id.to_hex()))
        .cloned()
        .collect();
    let log_days = spec.retention.log_days.unwrap_or(spec.retention.daily);
    let wal = retention::plan(&repo, &kept, log_days, now)?;
    if dry_run {
        report.notes.push(format!(
            "{} of {} restore points would be deleted",
            doomed.len(),
            decisions.len()
        ));
        for w in &wal {
            report.notes.push(describe_wal(w, "would delete"));
        }
        return Ok(report.finish(started));
    }
    super::remove_stale_temporaries(&repo, &mut report);
    for id in &doomed {
        repo.storage().delete(&format!("{POINTS_DIR}{id}"))?;
    }
    // After the points: a kill in between leaves WAL no point needs, never
    // a point without its WAL.
    for w in &wal {
        retention::apply(&repo, w)?;
        report.notes.push(describe_wal(w, "deleted"));
    }
    let (packs, freed) = collect_garbage(&repo)?;
    report.notes.push(format!(
        "deleted {} restore point(s) and {packs} pack(s), freeing {}",
        doomed.len(),
        indicatif::HumanBytes(freed)
    ));
    Ok(record(&repo, report.finish(started)))
}

fn describe_wal(w: &retention::WalPlan, verb: &str) -> String {
    match (w.delete.first(), w.delete.last()) {
        (Some(first), Some(last)) => format!(
            "WAL of cluster `{}`: {verb} {} file(s), {first} to {last}: {}",
            w.cluster,
            w.delete.len(),
            w.reason
        ),
        _ => format!(
            "WAL of cluster `{}`: nothing to delete; {}",
            w.cluster, w.reason
        ),
    }
}

/// Delete packs that hold nothing a remaining point needs; returns how
/// many packs and bytes went. Must run under the exclusive repository
/// lock (see `repo::gc` for why that keeps running backups safe).
pub fn collect_garbage(repo: &Repository) -> Result<(usize, u64)> {
    let plan = repo.plan_gc()?;
    let freed = repo.apply_gc(&plan, false)?;
    Ok((plan.dead.len(), freed))
}
