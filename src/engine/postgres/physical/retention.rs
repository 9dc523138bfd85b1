//! Which archived WAL retention may delete, by the log-chain rule: WAL is
//! kept from the start of the oldest base backup that still opens the
//! point-in-time window (the oldest kept one that ended within `log-days`,
//! else the newest kept one), and every older kept base backup keeps the
//! WAL it needs to become consistent. History files are always kept.

use super::meta::PhysicalMeta;
use super::wal::{Lsn, WalFile};
use super::window::last_needed;
use crate::error::Result;
use crate::repo::Repository;
use crate::repo::ids::PointId;
use crate::repo::point::RestorePoint;

/// What retention does to one cluster's archive.
#[derive(Debug, Clone)]
pub struct WalPlan {
    pub cluster: String,
    /// Files to delete, oldest first.
    pub delete: Vec<String>,
    /// Why: which base backup the window now starts at.
    pub reason: String,
}

/// The segment number a WAL file name starts with, for segments,
/// `.partial` and `.backup` files.
fn segno_of(name: &str, seg_size: u64) -> Option<u64> {
    match WalFile::parse(name, seg_size)? {
        WalFile::History { .. } => None,
        _ => match WalFile::parse(name.get(..24)?, seg_size)? {
            WalFile::Segment { segno, .. } => Some(segno),
            _ => None,
        },
    }
}

/// Plan the deletions for every cluster that has base backups among `kept`.
pub fn plan(
    repo: &Repository,
    kept: &[(PointId, RestorePoint)],
    log_days: u32,
    now: jiff::Timestamp,
) -> Result<Vec<WalPlan>> {
    let window_from = now
        .checked_sub(jiff::SignedDuration::from_hours(24 * i64::from(log_days)))
        .unwrap_or(now);
    let mut plans = Vec::new();
    for cluster in repo.log_clusters()? {
        let mut metas: Vec<(PointId, PhysicalMeta)> = Vec::new();
        for (id, p) in kept.iter().filter(|(_, p)| p.engine == super::ENGINE) {
            let m = super::restore::meta_of(p)?;
            if m.cluster == cluster {
                metas.push((*id, m));
            }
        }
        // Without a base backup to restore, the WAL is left alone.
        let Some(seg_size) = metas.first().map(|(_, m)| m.seg_size) else {
            continue;
        };
        metas.sort_by(|a, b| a.1.stopped_at.cmp(&b.1.stopped_at));
        let recent = metas.iter().find(|(_, m)| {
            m.stopped_at
                .parse::<jiff::Timestamp>()
                .is_ok_and(|t| t >= window_from)
        });
        let (opener, m) = recent.unwrap_or_else(|| metas.last().expect("not empty"));
        let from = Lsn::parse(&m.start_lsn)?.segment(seg_size);
        let mut ranges = vec![(from, u64::MAX)];
        for (_, m) in &metas {
            ranges.push((Lsn::parse(&m.start_lsn)?.segment(seg_size), last_needed(m)?));
        }
        let delete: Vec<String> = repo
            .list_logs(&cluster)?
            .into_iter()
            .map(|(n, _)| n)
            .filter(|n| {
                segno_of(n, seg_size)
                    .is_some_and(|s| !ranges.iter().any(|(a, b)| (*a..=*b).contains(&s)))
            })
            .collect();
        let id = opener.to_hex();
        plans.push(WalPlan {
            cluster,
            delete,
            reason: format!(
                "the point-in-time window starts at base backup {} (ended {}{})",
                &id[..8],
                m.stopped_at,
                if recent.is_some() {
                    format!(", the oldest kept within log-days {log_days}")
                } else {
                    ", the newest kept; none ended within log-days".to_string()
                }
            ),
        });
    }
    Ok(plans)
}

/// Delete what the plan names; returns the files deleted.
pub fn apply(repo: &Repository, plan: &WalPlan) -> Result<usize> {
    for name in &plan.delete {
        crate::interrupt::check()?;
        repo.delete_log(&plan.cluster, name)?;
    }
    Ok(plan.delete.len())
}
