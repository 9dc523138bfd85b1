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
use crate::error::{Error, Result};
use crate::policy::{Policy, decide};
use crate::repo::Repository;
use crate::repo::ids::{ChunkId, IndexId, PackId};
use crate::repo::index::{INDEX_DIR, IndexFile};
use crate::repo::point::POINTS_DIR;
use crate::repo::writer::pack_name;
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
    if dry_run {
        report.notes.push(format!(
            "{} of {} restore points would be deleted",
            doomed.len(),
            decisions.len()
        ));
        return Ok(report.finish(started));
    }
    super::remove_stale_temporaries(&repo, &mut report);
    for id in &doomed {
        repo.storage().delete(&format!("{POINTS_DIR}{id}"))?;
    }
    let (packs, freed) = collect_garbage(&repo)?;
    report.notes.push(format!(
        "deleted {} restore point(s) and {packs} pack(s), freeing {}",
        doomed.len(),
        indicatif::HumanBytes(freed)
    ));
    Ok(record(&repo, report.finish(started)))
}

/// Delete packs that hold nothing a remaining point needs; returns how
/// many packs and bytes went. Packs written by a backup that has not
/// committed yet are in no index and are left alone.
pub fn collect_garbage(repo: &Repository) -> Result<(usize, u64)> {
    let mut live: HashSet<ChunkId> = HashSet::new();
    for (_, p) in repo.points()? {
        for s in &p.streams {
            live.extend(s.chunks.iter().map(|(id, _)| *id));
        }
    }
    let files: Vec<(IndexId, IndexFile)> = repo
        .list_indexes()?
        .into_iter()
        .map(|id| repo.read_index_file(&id).map(|f| (id, f)))
        .collect::<Result<_>>()?;
    // A live delta keeps its base alive (bases are never deltas: one step).
    let bases: Vec<ChunkId> = files
        .iter()
        .flat_map(|(_, f)| f.packs.iter().flat_map(|p| p.blobs.iter()))
        .filter(|b| live.contains(&b.id))
        .filter_map(|b| b.base)
        .collect();
    live.extend(bases);
    let mut keep = IndexFile::default();
    let mut dead: Vec<PackId> = Vec::new();
    for (_, f) in &files {
        for p in &f.packs {
            if p.blobs.iter().any(|b| live.contains(&b.id)) {
                keep.packs.push(crate::repo::index::IndexedPack {
                    id: p.id,
                    blobs: p.blobs.clone(),
                });
            } else {
                dead.push(p.id);
            }
        }
    }
    if dead.is_empty() {
        return Ok((0, 0));
    }
    let sizes: HashMap<String, u64> = repo
        .storage()
        .list("packs/")?
        .into_iter()
        .map(|o| (o.name, o.size))
        .collect();
    let (new_id, _) = repo.write_index_file(&keep)?;
    for (id, _) in &files {
        if *id != new_id {
            repo.storage().delete(&format!("{INDEX_DIR}{id}"))?;
        }
    }
    let mut freed = 0;
    for p in &dead {
        let name = pack_name(p);
        freed += sizes.get(&name).copied().unwrap_or(0);
        repo.storage().delete(&name)?;
    }
    Ok((dead.len(), freed))
}
