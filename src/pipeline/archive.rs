//! `archive --policy`: move restore points older than `after-days` to the
//! archive repository: copy each stream, read the copy back and compare,
//! and only then remove the point from the primary (whose data the garbage
//! collection of prune then frees).
//!
//! The archive is an ordinary repository (its own key, chunking and
//! deduplication), so `restore --repo <archive>` reads from it as from any
//! other.

use super::report::{ItemReport, SessionReport, Status};
use super::{REPOSITORY_LOCK, policy_repo, record};
use crate::error::{Error, Result};
use crate::policy::Policy;
use crate::policy::file::ArchiveSpec;
use crate::progress::NoProgress;
use crate::repo::Repository;
use crate::repo::ids::PointId;
use crate::repo::index::Index;
use crate::repo::point::{POINTS_DIR, RestorePoint};
use crate::repo::writer::BackupWriter;
use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

/// Hashes what passes through, so that a copy can be compared with its source.
struct Hashing<W> {
    inner: W,
    hash: blake3::Hasher,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The policy's `[archive]` section, which archiving needs.
pub fn spec_of(policy: &Policy) -> Result<&ArchiveSpec> {
    policy.spec.archive.as_ref().ok_or_else(|| {
        Error::usage(format!(
            "policy `{}` has no [archive] section",
            policy.file.display()
        ))
        .with_hint("add [archive] with path and after-days")
    })
}

pub fn archive(policy: &Policy, now: jiff::Timestamp, dry_run: bool) -> Result<SessionReport> {
    let spec = &policy.spec;
    let arch = spec_of(policy)?;
    let primary = policy_repo::open(&spec.repository)?;
    let target = policy_repo::open(&arch.repository()).map_err(|e| {
        e.context("archive repository").with_hint(format!(
            "create it first: sqlvault init --repo {}",
            arch.path.display()
        ))
    })?;
    between(&primary, &target, arch.after_days, now, dry_run)
}

/// Move the points of `primary` older than `after_days` at `now` to `target`.
pub fn between(
    primary: &Arc<Repository>,
    target: &Arc<Repository>,
    after_days: u32,
    now: jiff::Timestamp,
    dry_run: bool,
) -> Result<SessionReport> {
    let command = if dry_run {
        "archive --dry-run"
    } else {
        "archive"
    };
    let (mut report, started) = SessionReport::new(command, primary.location());
    let cutoff = now - jiff::SignedDuration::from_hours(24 * after_days as i64);
    let points = primary.points()?;
    let old = |p: &RestorePoint| {
        p.created_at
            .parse::<jiff::Timestamp>()
            .is_ok_and(|t| t < cutoff)
    };
    // A point stays while a point that stays depends on it.
    let mut pinned: Vec<PointId> = Vec::new();
    for (_, p) in &points {
        if !old(p)
            && let Some(d) = p.depends_on
        {
            pinned.push(d);
        }
    }
    let due: Vec<&(PointId, RestorePoint)> = points
        .iter()
        .filter(|(id, p)| old(p) && !pinned.contains(id))
        .collect();
    if dry_run {
        for (id, p) in due {
            let mut item = ItemReport::new(p.database.clone());
            item.restore_point = Some(id.to_hex());
            item.bytes_read = p.size();
            item.note = Some(format!(
                "would move to `{}` (created {})",
                target.location(),
                p.created_at
            ));
            report.databases.push(item);
        }
        return Ok(report.finish(started));
    }
    let _guard = primary.storage().lock(REPOSITORY_LOCK, false)?;
    let index = primary.index_for(&due.iter().map(|(_, p)| p).collect::<Vec<_>>())?;
    report.warnings.extend(index.notes.iter().cloned());
    let mut moved: HashMap<PointId, PointId> = HashMap::new();
    for (id, p) in due {
        let t0 = Instant::now();
        let mut item = ItemReport::new(p.database.clone());
        item.restore_point = Some(id.to_hex());
        match copy_point(primary, &index, target, p, &moved) {
            Ok(new_id) => {
                primary.storage().delete(&format!("{POINTS_DIR}{id}"))?;
                moved.insert(*id, new_id);
                item.bytes_read = p.size();
                item.note = Some(format!("moved; in the archive as {}", new_id.short()));
            }
            Err(e) => item = item.failed(&e),
        }
        report.databases.push(item.timed(t0));
    }
    if !moved.is_empty() {
        let (packs, freed) = super::prune::collect_garbage(primary)?;
        report.notes.push(format!(
            "moved {} restore point(s); freed {packs} pack(s), {} in the primary",
            moved.len(),
            indicatif::HumanBytes(freed)
        ));
    }
    let failed = report.databases.iter().any(|d| d.status != Status::Ok);
    let report = record(primary, report.finish(started));
    if !failed {
        let _ = target.write_session(&serde_json::to_value(&report).expect("report serialises"));
    }
    Ok(report)
}

/// Copy one point's streams into `target`, then read the copy back and
/// check it is byte for byte what the primary holds.
fn copy_point(
    primary: &Repository,
    index: &Index,
    target: &Arc<Repository>,
    p: &RestorePoint,
    moved: &HashMap<PointId, PointId>,
) -> Result<PointId> {
    // A run killed after writing the copy's manifest, before removing the
    // original, copied it already: check that copy instead of adding another.
    if let Some(id) = earlier_copy(target, p)? {
        let copied = target.read_point(&id)?;
        let mut hashes = HashMap::new();
        for s in &p.streams {
            let mut h = Hashing {
                inner: std::io::sink(),
                hash: blake3::Hasher::new(),
            };
            primary.restore_stream(index, s, &mut h, &NoProgress)?;
            hashes.insert(s.name.clone(), h.hash.finalize());
        }
        check_copy(target, &copied, &hashes)?;
        return Ok(id);
    }
    let level = target.config().compression_level;
    let writer = BackupWriter::new(target.clone(), level, None)?;
    let mut hashes = HashMap::new();
    for s in &p.streams {
        let stream = writer.stream(&s.name)?;
        let mut out = Hashing {
            inner: stream,
            hash: blake3::Hasher::new(),
        };
        if let Err(e) = primary.restore_stream(index, s, &mut out, &NoProgress) {
            drop(out);
            writer.abandon();
            return Err(e);
        }
        hashes.insert(s.name.clone(), out.hash.finalize());
        out.inner.finish()?;
    }
    let mut copy = p.clone();
    copy.depends_on = p.depends_on.and_then(|d| moved.get(&d).copied());
    let (new_id, _, _) = writer.commit(copy)?;
    let copied = target.read_point(&new_id)?;
    check_copy(target, &copied, &hashes)?;
    Ok(new_id)
}

/// A point of `target` that is a copy of `p`: the same database, source,
/// host, creation time, streams and fingerprints (chunk ids differ, as
/// each repository has its own key).
fn earlier_copy(target: &Repository, p: &RestorePoint) -> Result<Option<PointId>> {
    let shape = |q: &RestorePoint| -> Vec<(String, u64)> {
        q.streams.iter().map(|s| (s.name.clone(), s.size)).collect()
    };
    Ok(target
        .points()?
        .into_iter()
        .find(|(_, q)| {
            q.created_at == p.created_at
                && q.database == p.database
                && q.engine == p.engine
                && q.source == p.source
                && q.hostname == p.hostname
                && q.fingerprints == p.fingerprints
                && shape(q) == shape(p)
        })
        .map(|(id, _)| id))
}

/// Read every stream of the copy back and compare it with the original's
/// hashes.
fn check_copy(
    target: &Repository,
    copied: &RestorePoint,
    hashes: &HashMap<String, blake3::Hash>,
) -> Result<()> {
    let target_index = target.load_index()?;
    for s in &copied.streams {
        let mut check = Hashing {
            inner: std::io::sink(),
            hash: blake3::Hasher::new(),
        };
        target.restore_stream(&target_index, s, &mut check, &NoProgress)?;
        if hashes.get(&s.name) != Some(&check.hash.finalize()) {
            return Err(Error::repository(format!(
                "the archived copy of stream `{}` differs from the original; the point stays in the primary",
                s.name
            )));
        }
    }
    Ok(())
}
