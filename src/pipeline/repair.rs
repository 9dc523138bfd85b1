//! `repair`: rebuild the index from the packs, remove what nothing needs,
//! and name the restore points that cannot be completed.
//!
//! Runs under the exclusive repository lock, like prune. Damaged restore
//! points are reported, never deleted, unless asked (`forget_damaged`).
//! Every step keeps the repository valid if the process is killed: the new
//! index is written before old index objects and dead packs are deleted.

use super::report::{ItemReport, SessionReport, Status};
use super::{REPOSITORY_LOCK, record};
use crate::error::Result;
use crate::repo::Repository;
use crate::repo::ids::ChunkId;
use crate::repo::point::POINTS_DIR;
use crate::repo::writer::pack_name;
use indicatif::HumanBytes;
use std::collections::{HashMap, HashSet};

pub struct RepairOptions {
    pub dry_run: bool,
    pub forget_damaged: bool,
    /// Read every pack, and rewrite damaged ones with their sound chunks.
    pub read_data: bool,
}

pub fn repair(
    repo: &Repository,
    opts: &RepairOptions,
    progress: &dyn super::ProgressFactory,
) -> Result<SessionReport> {
    let command = if opts.dry_run {
        "repair --dry-run"
    } else {
        "repair"
    };
    let (mut report, started) = SessionReport::new(command, repo.location());
    let _guard = if opts.dry_run {
        None
    } else {
        Some(repo.storage().lock(REPOSITORY_LOCK, false)?)
    };
    let would = |done: &str, planned: &str| -> String {
        if opts.dry_run { planned } else { done }.to_string()
    };
    if !opts.dry_run {
        super::remove_stale_temporaries(repo, &mut report);
    }
    let mut replaced = HashSet::new();
    // Packs found damaged and left as they are (only known with --read-data).
    let mut still_damaged: Option<Vec<crate::repo::ids::PackId>> = None;
    if opts.read_data {
        let p = progress.start("verify", "repository");
        let check = repo.check(p.as_ref())?;
        drop(p);
        still_damaged = Some(check.damaged_packs.clone());
        if !check.damaged_packs.is_empty() {
            if opts.dry_run {
                for id in &check.damaged_packs {
                    report.notes.push(format!(
                        "would rewrite damaged pack `{}` with its intact chunks",
                        pack_name(id)
                    ));
                }
            } else {
                let (done, saved) =
                    repo.repack(&check.damaged_packs, &check.sound_chunks, &check.bad_blobs)?;
                report.notes.push(format!(
                    "rewrote {} damaged pack(s), keeping their {saved} intact chunk(s)",
                    done.len()
                ));
                replaced = done;
                if let Some(still) = &mut still_damaged {
                    still.retain(|p| !replaced.contains(p));
                }
            }
        }
    }
    let plan = repo.plan_gc_replacing(&replaced)?;
    let chunks = plan.chunks();
    let bases: HashMap<ChunkId, ChunkId> = plan
        .keep
        .packs
        .iter()
        .flat_map(|p| {
            p.blobs
                .iter()
                .filter_map(|b| b.base.map(|base| (b.id, base)))
        })
        .collect();

    // Points that cannot be completed from what the packs hold.
    let mut doomed = Vec::new();
    for (id, point) in repo.points_lenient()? {
        let reason = match &point {
            None => Some("its manifest is damaged".to_string()),
            Some(p) => {
                let all = || p.streams.iter().flat_map(|s| s.chunks.iter());
                let missing = all().filter(|(c, _)| !chunks.contains(c)).count();
                let base_missing = all().any(|(c, _)| {
                    let mut at = bases.get(c);
                    let mut links = 0;
                    while let Some(b) = at {
                        if !chunks.contains(b) {
                            return true;
                        }
                        links += 1;
                        at = bases
                            .get(b)
                            .filter(|_| links < crate::repo::chain::MAX_CHAIN);
                    }
                    false
                });
                match (missing, base_missing) {
                    (0, false) => None,
                    (0, true) => Some("a delta base it needs is in no readable pack".to_string()),
                    (n, _) => Some(format!("{n} of its chunks are in no readable pack")),
                }
            }
        };
        let Some(reason) = reason else { continue };
        let name = point
            .as_ref()
            .map(|p| p.database.clone())
            .unwrap_or("?".into());
        let mut item = ItemReport::new(name);
        item.restore_point = Some(id.to_hex());
        item.status = Status::Failed;
        item.error = Some(format!("cannot be restored: {reason}"));
        if opts.forget_damaged {
            item.note = Some(would(
                "forgotten (--forget-damaged)",
                "would be forgotten (--forget-damaged)",
            ));
            doomed.push(id);
        } else {
            item.note = Some("kept; `repair --forget-damaged` removes it".into());
            item.hint = Some(
                "restore another point of this database, or copy the missing objects back from another copy of the repository".into(),
            );
        }
        report.databases.push(item);
    }

    // Manifests that vanished: the sessions know them. Forgetting them
    // records that they are gone for good, so verify stops naming them.
    let present: HashSet<_> = repo.list_points()?.into_iter().collect();
    for (id, db, when) in super::history::missing_points(repo, &present)? {
        let mut item = ItemReport::new(db);
        item.restore_point = Some(id);
        item.status = Status::Failed;
        item.error = Some(format!(
            "cannot be restored: its manifest, written by the backup of {when}, was deleted"
        ));
        item.note = Some(if opts.forget_damaged {
            would(
                "forgotten (--forget-damaged)",
                "would be forgotten (--forget-damaged)",
            )
        } else {
            "kept in the history; `repair --forget-damaged` forgets it".into()
        });
        report.databases.push(item);
    }
    for (id, why) in repo.damaged_sessions()? {
        report.notes.push(format!(
            "{} damaged session record `sessions/{id}` ({why})",
            would("removed", "would remove")
        ));
        if !opts.dry_run {
            repo.storage().delete(&format!("sessions/{id}"))?;
        }
    }
    for (id, why) in &plan.damaged_indexes {
        report.notes.push(format!(
            "{} damaged index object `index/{id}` ({why})",
            would("removed", "would remove")
        ));
    }
    if plan.scanned > 0 {
        report.notes.push(format!(
            "read the footers of {} pack(s) that no index object names; {} chunk(s) a restore point needs were found there and {} indexed",
            plan.scanned,
            plan.recovered,
            would("are now", "would be")
        ));
    }
    for (name, why) in &plan.unreadable {
        report.warnings.push(format!(
            "kept pack `{name}`, whose footer cannot be read ({why})"
        ));
    }
    for (id, size, why) in &plan.dead {
        report.notes.push(format!(
            "{} pack `{}` ({}): {why}",
            would("removed", "would remove"),
            pack_name(id),
            HumanBytes(*size)
        ));
    }
    let rebuild = plan.index_needs_rebuild()
        || !plan.dead.is_empty()
        || plan.indexes.len() > 1
        || !replaced.is_empty();
    if rebuild {
        report.notes.push(format!(
            "{} the index as one object listing {} pack(s) and {} chunk(s), replacing {} index object(s)",
            would("rewrote", "would rewrite"),
            plan.keep.packs.len(),
            chunks.len(),
            plan.indexes.len() + plan.damaged_indexes.len()
        ));
    }
    if !opts.dry_run {
        for id in &doomed {
            repo.storage().delete(&format!("{POINTS_DIR}{id}"))?;
        }
        // Forgetting points may leave more packs dead: plan again.
        let plan = if doomed.is_empty() {
            plan
        } else {
            repo.plan_gc()?
        };
        let freed = repo.apply_gc(&plan, rebuild)?;
        if freed > 0 {
            report.notes.push(format!("freed {}", HumanBytes(freed)));
        }
        clear_damage_record(repo, still_damaged)?;
    }
    if report.notes.is_empty() && report.databases.is_empty() {
        report.notes.push(
            "nothing to repair: the index matches the packs and every restore point is complete"
                .into(),
        );
    }
    let report = report.finish(started);
    Ok(if opts.dry_run {
        report
    } else {
        record(repo, report)
    })
}

/// Keep on record only the damaged packs that are still there: those repair
/// rewrote or removed need no record, and without `--read-data` repair
/// cannot tell whether a recorded one is sound, so it keeps it.
fn clear_damage_record(
    repo: &Repository,
    read: Option<Vec<crate::repo::ids::PackId>>,
) -> Result<()> {
    let present: HashSet<crate::repo::ids::PackId> = repo
        .storage()
        .list("packs/")?
        .into_iter()
        .filter_map(|i| i.name.rsplit('/').next()?.parse().ok())
        .collect();
    let mut still: Vec<_> = match read {
        Some(found) => found,
        None => repo.damaged_packs()?.into_iter().collect(),
    };
    still.retain(|p| present.contains(p));
    still.sort();
    repo.rewrite_damage("repair", &still)
}
