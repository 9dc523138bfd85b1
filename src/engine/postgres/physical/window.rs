//! The restorable window of a base backup: from the moment it became
//! consistent to the last commit in the unbroken run of archived WAL that
//! follows it, along the newest timeline that descends from it. A missing
//! segment ends the window early; it is named, with what can no longer
//! be reached.

use super::meta::PhysicalMeta;
use super::wal::{self, Lsn, WalFile};
use crate::error::{Error, Result};
use crate::repo::Repository;
use crate::repo::ids::PointId;
use crate::repo::point::RestorePoint;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// What a base backup can be recovered to.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Window {
    /// When the base backup ended: the earliest time it reaches.
    pub from: String,
    pub from_lsn: String,
    /// The last commit in the archived WAL it can replay (the base
    /// backup's end when that WAL holds no commit).
    pub to: String,
    /// The last segment of the unbroken run.
    pub last_segment: String,
    /// The timeline recovery follows.
    pub timeline: u32,
    /// Whether the WAL up to the base backup's end is all archived:
    /// without it, the base backup cannot be restored at all.
    pub consistent: bool,
    /// The first segment missing from the run, when later ones exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
    /// The first commit archived after the missing segment: times from
    /// `to` up to here are out of this base backup's reach.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumes_at: Option<String>,
    /// The timelines forked after the base backup's, with where each
    /// forked: a time after a fork may need `--timeline` to say which.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub forks: Vec<String>,
}

/// The archive of one cluster, as names and timelines.
pub struct Archive {
    cluster: String,
    /// Segments present, by timeline.
    segments: BTreeMap<u32, BTreeSet<u64>>,
    /// Each timeline's parents and where it forked, from its history file.
    histories: BTreeMap<u32, Vec<(u32, Lsn)>>,
    /// When each timeline forked, where its history file says (recovery
    /// that stopped at a commit): `after` that commit, or `before` it.
    fork_times: BTreeMap<u32, (bool, jiff::Timestamp)>,
    seg_size: u64,
}

impl Archive {
    pub fn load(repo: &Repository, cluster: &str, seg_size: u64) -> Result<Archive> {
        let mut segments: BTreeMap<u32, BTreeSet<u64>> = BTreeMap::new();
        let mut histories = BTreeMap::new();
        let mut fork_times = BTreeMap::new();
        for (name, _) in repo.list_logs(cluster)? {
            match WalFile::parse(&name, seg_size) {
                Some(WalFile::Segment { timeline, segno }) => {
                    segments.entry(timeline).or_default().insert(segno);
                }
                Some(WalFile::History { timeline }) => {
                    if let Some((_, data)) = repo.get_log(cluster, &name)? {
                        let text = String::from_utf8_lossy(&data);
                        histories.insert(timeline, wal::parse_history(&text));
                        if let Some(f) = wal::parse_fork_time(&text) {
                            fork_times.insert(timeline, f);
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(Archive {
            cluster: cluster.to_string(),
            segments,
            histories,
            fork_times,
            seg_size,
        })
    }

    /// The newest timeline whose history passes through `timeline` at or
    /// after `at` (the base backup's start), else `timeline` itself.
    pub fn latest_from(&self, timeline: u32, at: Lsn) -> u32 {
        let newest = self
            .segments
            .keys()
            .chain(self.histories.keys())
            .copied()
            .filter(|t| *t >= timeline)
            .rev();
        for t in newest {
            if t == timeline {
                return t;
            }
            let Some(h) = self.histories.get(&t) else {
                continue;
            };
            if h.iter()
                .any(|(parent, fork)| *parent == timeline && *fork > at)
            {
                return t;
            }
        }
        timeline
    }

    /// The timeline a segment is read from when recovery follows `target`:
    /// the newest one on its path that had begun by that segment.
    fn timeline_of(&self, target: u32, segno: u64) -> u32 {
        let Some(h) = self.histories.get(&target) else {
            return target;
        };
        // Each history entry ends its timeline at the fork; the next one
        // begins with the segment holding it.
        let mut begins = vec![(target, h.last().map(|(_, f)| f.segment(self.seg_size)))];
        for pair in h.windows(2).rev() {
            begins.push((pair[1].0, Some(pair[0].1.segment(self.seg_size))));
        }
        if let Some((first, _)) = h.first() {
            begins.push((*first, None));
        }
        begins
            .into_iter()
            .find(|(_, b)| b.is_none_or(|b| b <= segno))
            .map(|(t, _)| t)
            .unwrap_or(target)
    }

    fn has(&self, timeline: u32, segno: u64) -> bool {
        self.segments
            .get(&timeline)
            .is_some_and(|s| s.contains(&segno))
    }

    /// The first segment past `end` that recovery along `target` would read.
    fn next_on_path(&self, target: u32, end: u64) -> Option<(u32, u64)> {
        self.segments
            .iter()
            .flat_map(|(t, s)| {
                s.range(end..)
                    .find(|n| self.timeline_of(target, **n) == *t)
                    .map(|n| (*t, *n))
            })
            .min_by_key(|(_, n)| *n)
    }

    /// Walk the archive from the base backup's start along the newest
    /// timeline descending from it.
    pub fn window(&self, repo: &Repository, meta: &PhysicalMeta) -> Result<Window> {
        let start = Lsn::parse(&meta.start_lsn)?;
        self.window_on(repo, meta, self.latest_from(meta.timeline, start))
    }

    /// The window when recovery follows timeline `target`.
    pub fn window_on(&self, repo: &Repository, meta: &PhysicalMeta, target: u32) -> Result<Window> {
        let start = Lsn::parse(&meta.start_lsn)?;
        let mut segno = start.segment(self.seg_size);
        let mut last: Option<String> = None;
        let mut to = meta.stopped_at.clone();
        let mut to_time: Option<jiff::Timestamp> = meta.stopped_at.parse().ok();
        loop {
            let tl = self.timeline_of(target, segno);
            if !self.has(tl, segno) {
                break;
            }
            let name = wal::segment_name(tl, segno, self.seg_size);
            if let Some(t) = repo
                .log_meta(&self.cluster, &name)?
                .and_then(|m| m.facts.get("last_commit")?.as_str()?.parse().ok())
                .filter(|t: &jiff::Timestamp| to_time.is_none_or(|old| *t > old))
            {
                to_time = Some(t);
                to = t.to_string();
            }
            last = Some(name);
            segno += 1;
        }
        let end = segno;
        let consistent = end > last_needed(meta)?;
        let mut w = Window {
            from: meta.stopped_at.clone(),
            from_lsn: meta.stop_lsn.clone(),
            to,
            last_segment: last.unwrap_or_default(),
            timeline: target,
            consistent,
            missing: None,
            resumes_at: None,
            forks: Vec::new(),
        };
        if let Some((t, next)) = self.next_on_path(target, end) {
            w.missing = Some(wal::segment_name(
                self.timeline_of(target, end),
                end,
                self.seg_size,
            ));
            w.resumes_at = repo
                .log_meta(&self.cluster, &wal::segment_name(t, next, self.seg_size))?
                .and_then(|m| Some(m.facts.get("first_commit")?.as_str()?.to_string()));
        }
        Ok(w)
    }
}

/// The last segment a base backup needs to become consistent: the one
/// holding the byte before its end.
pub fn last_needed(meta: &PhysicalMeta) -> Result<u64> {
    Ok(Lsn(Lsn::parse(&meta.stop_lsn)?.0.saturating_sub(1)).segment(meta.seg_size))
}

/// The window of every base backup among `points`, by restore point id;
/// each cluster's archive is read once.
pub fn windows(
    repo: &Repository,
    points: &[(PointId, RestorePoint)],
) -> Result<BTreeMap<PointId, Window>> {
    let mut archives: BTreeMap<String, Archive> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for (id, p) in points.iter().filter(|(_, p)| p.engine == super::ENGINE) {
        let meta = super::restore::meta_of(p)?;
        let archive = match archives.entry(meta.cluster.clone()) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(Archive::load(repo, &meta.cluster, meta.seg_size)?)
            }
        };
        let mut w = archive.window(repo, &meta)?;
        w.forks = archive.forks(&meta).iter().map(|b| b.to_string()).collect();
        out.insert(*id, w);
    }
    Ok(out)
}

impl Archive {
    /// The timeline recovery would follow (`latest`: the newest with a
    /// history file), refused when it forked from the base backup's
    /// timeline before the base backup started: that history cannot be
    /// reached from it.
    pub fn recovery_timeline(&self, meta: &PhysicalMeta, asked: Option<&str>) -> Result<u32> {
        let start = Lsn::parse(&meta.start_lsn)?;
        let target = match asked {
            None | Some("latest") => self
                .histories
                .keys()
                .copied()
                .max()
                .unwrap_or(meta.timeline)
                .max(meta.timeline),
            Some("current") => meta.timeline,
            Some(n) => n.parse().map_err(|_| {
                Error::usage(format!("`{n}` is not a timeline"))
                    .with_hint("give --timeline a number, `current` or `latest`")
            })?,
        };
        if target == meta.timeline {
            return Ok(target);
        }
        let Some(h) = self.histories.get(&target) else {
            return Err(Error::usage(format!(
                "timeline {target} has no history file in the archive of cluster `{}`",
                self.cluster
            ))
            .with_hint("choose another --timeline; `sqlvault points` shows the timelines"));
        };
        match h.iter().find(|(parent, _)| *parent == meta.timeline) {
            Some((_, fork)) if *fork >= start => Ok(target),
            Some((_, fork)) => Err(Error::usage(format!(
                "timeline {target} forked from timeline {} at {fork}, before this base backup started ({start})",
                meta.timeline
            ))
            .with_hint("restore an older base backup, or choose --timeline current")),
            None => Err(Error::usage(format!(
                "timeline {target} does not descend from timeline {} of this base backup",
                meta.timeline
            ))
            .with_hint("restore a base backup taken on its history, or choose --timeline current")),
        }
    }
}

/// A timeline that holds a state of its own at some time, and where it
/// forked from its parent (none for the base backup's own timeline).
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    pub timeline: u32,
    pub fork: Option<(u32, Lsn)>,
}

impl std::fmt::Display for Branch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.fork {
            None => write!(f, "timeline {} (the base backup's)", self.timeline),
            Some((parent, at)) => write!(
                f,
                "timeline {} (forked from timeline {parent} at {at})",
                self.timeline
            ),
        }
    }
}

impl Archive {
    /// The timelines recovery of this base backup could follow that hold
    /// a state of their own at `t`: their archived WAL reaches `t`, and
    /// (for a forked one) `t` is after the last commit before its fork.
    /// More than one means `t` alone does not say which history to restore.
    pub fn covering(
        &self,
        repo: &Repository,
        meta: &PhysicalMeta,
        t: jiff::Timestamp,
    ) -> Result<Vec<Branch>> {
        let mut candidates = vec![meta.timeline];
        candidates.extend(
            self.histories
                .keys()
                .copied()
                .filter(|x| *x > meta.timeline),
        );
        let mut out = Vec::new();
        for x in candidates {
            if x != meta.timeline && self.recovery_timeline(meta, Some(&x.to_string())).is_err() {
                continue;
            }
            let w = self.window_on(repo, meta, x)?;
            if !w.to.parse::<jiff::Timestamp>().is_ok_and(|to| to >= t) {
                continue;
            }
            let fork = if x == meta.timeline {
                None
            } else {
                self.histories.get(&x).and_then(|h| h.last().copied())
            };
            if let Some(&(after, at)) = self.fork_times.get(&x) {
                // Before the first commit the fork left out, both agree.
                if if after { t <= at } else { t < at } {
                    continue;
                }
            } else if let Some((_, at)) = fork {
                // Without a time in the history: before the last commit of
                // the segment before the fork, both agree.
                let seg = at.segment(self.seg_size);
                let before = seg
                    .checked_sub(1)
                    .map(|s| wal::segment_name(self.timeline_of(x, s), s, self.seg_size));
                let last_before: Option<jiff::Timestamp> = match before {
                    Some(name) => repo
                        .log_meta(&self.cluster, &name)?
                        .and_then(|m| m.facts.get("last_commit")?.as_str()?.parse().ok()),
                    None => None,
                };
                if last_before.is_some_and(|lc| t <= lc) {
                    continue;
                }
            }
            out.push(Branch { timeline: x, fork });
        }
        Ok(out)
    }

    /// Every timeline after the base backup's, with its fork, for `points`.
    pub fn forks(&self, meta: &PhysicalMeta) -> Vec<Branch> {
        self.histories
            .iter()
            .filter(|(x, _)| **x > meta.timeline)
            .filter_map(|(x, h)| {
                Some(Branch {
                    timeline: *x,
                    fork: Some(*h.last()?),
                })
            })
            .collect()
    }
}
