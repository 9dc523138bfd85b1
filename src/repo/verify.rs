//! Checking a repository: every object re-read and its hash checked, every
//! blob opened, every restore point's chunks accounted for.

use super::Repository;
use super::ids::{PackId, PointId};
use super::index::Index;
use super::pack::read_footer;
use super::writer::pack_name;
use crate::error::Result;
use crate::progress::Progress;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Default, Serialize)]
pub struct RepoCheck {
    pub packs_checked: usize,
    pub blobs_checked: usize,
    pub bytes_checked: u64,
    /// Problems that make data unreadable, one line each.
    pub errors: Vec<String>,
    /// Harmless leftovers (packs no index refers to, from interrupted backups).
    pub warnings: Vec<String>,
    /// Restore points with every chunk present and sound.
    pub points_ok: Vec<PointId>,
    /// Restore points that cannot be restored completely.
    pub points_damaged: Vec<PointId>,
}

impl Repository {
    pub fn check(&self, progress: &dyn Progress) -> Result<RepoCheck> {
        let mut report = RepoCheck::default();
        let pack_infos = self.storage().list("packs/")?;
        let total: u64 = pack_infos.iter().map(|p| p.size).sum();
        progress.set_total(total);

        // Index objects: each read and checked on its own.
        let mut index = Index::default();
        for id in self.list_indexes()? {
            match self.read_index_file(&id) {
                Ok(f) => index.add_file(&f),
                Err(e) => report.errors.push(e.message),
            }
        }
        let indexed: HashSet<PackId> = index.packs().iter().copied().collect();

        // Packs: read whole, hash, open every blob.
        let bad_chunks = Mutex::new(HashSet::new());
        let bad_packs = Mutex::new(HashSet::new());
        let lines = Mutex::new(Vec::new());
        let next = AtomicUsize::new(0);
        let blobs = AtomicUsize::new(0);
        let mut present = HashMap::new();
        for info in &pack_infos {
            let base = info.name.rsplit('/').next().unwrap_or("");
            match base.parse::<PackId>() {
                Ok(id) => {
                    present.insert(id, info.name.clone());
                }
                Err(_) => report
                    .warnings
                    .push(format!("unexpected object `{}`", info.name)),
            }
        }
        let ids: Vec<&PackId> = present.keys().collect();
        let workers = self.storage().read_concurrency();
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    let mut dz = zstd::bulk::Decompressor::new().expect("zstd context");
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(id) = ids.get(i) else { break };
                        let name = pack_name(id);
                        let data = match self.storage().get(&name) {
                            Ok(d) => d,
                            Err(e) => {
                                lines.lock().unwrap().push(e.to_string());
                                bad_packs.lock().unwrap().insert(**id);
                                continue;
                            }
                        };
                        progress.advance(data.len() as u64);
                        let entries = match read_footer(&name, id, &data, self.sealer()) {
                            Ok(e) => e,
                            Err(e) => {
                                lines.lock().unwrap().push(e.message);
                                bad_packs.lock().unwrap().insert(**id);
                                continue;
                            }
                        };
                        let mut damaged = 0usize;
                        let mut first = None;
                        for b in entries {
                            let sealed = &data[b.offset as usize..(b.offset + b.length) as usize];
                            if let Err(e) =
                                self.open_blob(&b.id, sealed, b.raw_length, &mut dz, Some(&index))
                            {
                                damaged += 1;
                                first.get_or_insert(e.message);
                                bad_chunks.lock().unwrap().insert(b.id);
                            }
                            blobs.fetch_add(1, Ordering::Relaxed);
                        }
                        if let Some(first) = first {
                            lines.lock().unwrap().push(format!(
                                "pack `{name}` has {damaged} damaged chunks (first: {first})"
                            ));
                        }
                    }
                });
            }
        });
        report.errors.extend(lines.into_inner().unwrap());
        let bad_packs = bad_packs.into_inner().unwrap();
        let bad_chunks = bad_chunks.into_inner().unwrap();
        report.packs_checked = present.len();
        report.blobs_checked = blobs.into_inner();
        report.bytes_checked = total;
        for id in present.keys() {
            if !indexed.contains(id) {
                report.warnings.push(format!(
                    "pack `{}` is in no index (left by an interrupted backup; harmless)",
                    pack_name(id)
                ));
            }
        }
        for id in &indexed {
            if !present.contains_key(id) {
                report
                    .errors
                    .push(format!("pack `{}` is missing", pack_name(id)));
            }
        }

        // Restore points: every chunk indexed, in a pack that exists and is sound.
        for pid in self.list_points()? {
            let point = match self.read_point(&pid) {
                Ok(p) => p,
                Err(e) => {
                    report.errors.push(e.message);
                    report.points_damaged.push(pid);
                    continue;
                }
            };
            let mut missing = 0usize;
            for s in &point.streams {
                for (cid, _) in &s.chunks {
                    let sound = match index.get(cid) {
                        Some((pack, _)) => {
                            present.contains_key(&pack)
                                && !bad_packs.contains(&pack)
                                && !bad_chunks.contains(cid)
                        }
                        None => false,
                    };
                    if !sound {
                        missing += 1;
                    }
                }
            }
            if missing == 0 {
                report.points_ok.push(pid);
            } else {
                report.errors.push(format!(
                    "restore point {} ({}, {}) has {missing} missing or damaged chunks",
                    pid.short(),
                    point.database,
                    point.created_at
                ));
                report.points_damaged.push(pid);
            }
        }
        Ok(report)
    }
}
