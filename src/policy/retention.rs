//! Which restore points to keep: grandfather-father-son over full backups,
//! differentials and logs by age, then every point a kept point needs.
//!
//! Periods are calendar periods in the policy's time zone, not multiples of
//! 24 hours, so a backup at 00:30 local time belongs to that day even when
//! UTC still says yesterday, and a 23-hour DST day is still one day.

use super::model::{BackupKind, PointSummary, Retention};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// The verdict on one restore point, with the reasons in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub id: String,
    pub keep: bool,
    pub reasons: Vec<String>,
}

impl Retention {
    /// Checks the rules a policy file cannot express by types alone.
    pub fn validate(&self) -> Result<(), String> {
        if self.daily == 0 {
            return Err(
                "retention daily is 0: keep at least 1 day of full backups (daily = 1 or more)"
                    .into(),
            );
        }
        for (key, kind, days) in [
            ("differential-days", "differential", self.differential_days),
            ("log-days", "log backup", self.log_days),
        ] {
            if let Some(days) = days
                && days > self.daily
            {
                return Err(format!(
                    "retention {key} is {days} but daily is {daily}: a {kind} is useless without \
                     its full backup, so keep it at most as long: {key} = 0 to {daily}",
                    daily = self.daily
                ));
            }
        }
        Ok(())
    }
}

/// Decides, per database, which of `points` to keep at `now`. Decisions come
/// back in the order of `points`.
///
/// A point dated after `now` (clock skew) falls in the current periods and
/// is kept: deleting what we cannot place in time would be the worse error.
pub fn decide(
    points: &[PointSummary],
    r: &Retention,
    tz: &TimeZone,
    now: Timestamp,
) -> Vec<Decision> {
    let today = tz.to_datetime(now).date();
    let mut by_database: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, p) in points.iter().enumerate() {
        by_database.entry(&p.database).or_default().push(i);
    }
    let mut verdicts: Vec<Option<Decision>> = vec![None; points.len()];
    for members in by_database.values() {
        for (i, d) in decide_database(points, members, r, tz, today) {
            verdicts[i] = Some(d);
        }
    }
    verdicts
        .into_iter()
        .map(|d| d.expect("every point belongs to a database"))
        .collect()
}

/// One grandfather-father-son period: how far back it reaches and how its
/// buckets are named.
struct Period {
    name: &'static str,
    count: u32,
    /// Whole periods between the point's period and today's.
    distance: fn(today: Date, d: Date) -> i64,
    label: fn(Date) -> String,
}

fn days_between(today: Date, d: Date) -> i64 {
    i64::from((today - d).get_days())
}

fn periods(r: &Retention) -> [Period; 4] {
    [
        Period {
            name: "daily",
            count: r.daily,
            distance: days_between,
            label: |d| d.to_string(),
        },
        Period {
            name: "weekly",
            count: r.weekly,
            // Distance between the Mondays that start each ISO week.
            distance: |today, d| {
                let off = |d: Date| i64::from(d.weekday().to_monday_zero_offset());
                (days_between(today, d) - off(today) + off(d)).div_euclid(7)
            },
            label: |d| {
                let w = d.iso_week_date();
                format!("{}-W{:02}", w.year(), w.week())
            },
        },
        Period {
            name: "monthly",
            count: r.monthly,
            distance: |today, d| {
                let months = |d: Date| i64::from(d.year()) * 12 + i64::from(d.month());
                months(today) - months(d)
            },
            label: |d| format!("{:04}-{:02}", d.year(), d.month()),
        },
        Period {
            name: "yearly",
            count: r.yearly,
            distance: |today, d| i64::from(today.year()) - i64::from(d.year()),
            label: |d| format!("{:04}", d.year()),
        },
    ]
}

fn days_words(n: u32) -> String {
    if n == 1 {
        "1 day".into()
    } else {
        format!("{n} days")
    }
}

fn decide_database(
    points: &[PointSummary],
    members: &[usize],
    r: &Retention,
    tz: &TimeZone,
    today: Date,
) -> Vec<(usize, Decision)> {
    let date = |i: usize| tz.to_datetime(points[i].created_at).date();
    let newer = |a: usize, b: usize| {
        (points[a].created_at, &points[a].id) > (points[b].created_at, &points[b].id)
    };
    let mut keep: HashMap<usize, Vec<String>> = HashMap::new();
    let mut delete_reason: HashMap<usize, String> = HashMap::new();
    let fulls: Vec<usize> = members
        .iter()
        .copied()
        .filter(|&i| points[i].kind == BackupKind::Full)
        .collect();

    for period in periods(r) {
        // Newest full of each bucket within reach.
        let mut winners: BTreeMap<String, usize> = BTreeMap::new();
        for &i in &fulls {
            let d = date(i);
            if (period.distance)(today, d) < i64::from(period.count) {
                let w = winners.entry((period.label)(d)).or_insert(i);
                if newer(i, *w) {
                    *w = i;
                }
            }
        }
        for (label, &w) in &winners {
            keep.entry(w)
                .or_default()
                .push(format!("{} {label}", period.name));
        }
        // The finest period a losing full falls in names the full that
        // replaces it.
        for &i in &fulls {
            let label = (period.label)(date(i));
            if let Some(&w) = winners.get(&label)
                && w != i
            {
                delete_reason.entry(i).or_insert_with(|| {
                    format!("superseded by {} ({} {label})", points[w].id, period.name)
                });
            }
        }
    }
    if let Some(newest) = fulls
        .iter()
        .copied()
        .reduce(|a, b| if newer(b, a) { b } else { a })
    {
        keep.entry(newest).or_default().push("newest full".into());
    }

    for &i in members {
        let (days, kind) = match points[i].kind {
            BackupKind::Full => continue,
            BackupKind::Differential => (r.differential_days.unwrap_or(r.daily), "differential"),
            BackupKind::Log => (r.log_days.unwrap_or(r.daily), "log"),
        };
        if days_between(today, date(i)) < i64::from(days) {
            keep.entry(i)
                .or_default()
                .push(format!("within the last {} ({kind})", days_words(days)));
        } else {
            delete_reason.insert(
                i,
                format!("older than the last {} ({kind})", days_words(days)),
            );
        }
    }

    keep_dependencies(points, members, &mut keep);

    members
        .iter()
        .map(|&i| {
            let decision = match keep.remove(&i) {
                Some(reasons) => Decision {
                    id: points[i].id.clone(),
                    keep: true,
                    reasons,
                },
                None => Decision {
                    id: points[i].id.clone(),
                    keep: false,
                    reasons: vec![
                        delete_reason
                            .remove(&i)
                            .unwrap_or_else(|| "older than every retention range".into()),
                    ],
                },
            };
            (i, decision)
        })
        .collect()
}

/// Keeps, transitively, every point a kept point depends on, and says which
/// kept points need it. Dependants are summed up per kind so that a full
/// under a day of 15-minute logs gets one line, not a hundred.
fn keep_dependencies(
    points: &[PointSummary],
    members: &[usize],
    keep: &mut HashMap<usize, Vec<String>>,
) {
    let by_id: HashMap<&str, usize> = members
        .iter()
        .map(|&i| (points[i].id.as_str(), i))
        .collect();
    let parent = |i: usize| {
        points[i]
            .depends_on
            .as_deref()
            .and_then(|id| by_id.get(id).copied())
    };

    let mut work: Vec<usize> = keep.keys().copied().collect();
    while let Some(i) = work.pop() {
        if let Some(p) = parent(i)
            && !keep.contains_key(&p)
        {
            keep.insert(p, Vec::new());
            work.push(p);
        }
    }

    // parent → kind → (newest dependant, count)
    let mut needed: BTreeMap<usize, BTreeMap<BackupKind, (usize, usize)>> = BTreeMap::new();
    for &i in members {
        if let Some(p) = parent(i)
            && keep.contains_key(&i)
        {
            let slot = needed
                .entry(p)
                .or_default()
                .entry(points[i].kind)
                .or_insert((i, 0));
            if (points[i].created_at, &points[i].id)
                > (points[slot.0].created_at, &points[slot.0].id)
            {
                slot.0 = i;
            }
            slot.1 += 1;
        }
    }
    for (p, kinds) in needed {
        let reasons = keep.get_mut(&p).expect("parents of kept points are kept");
        for (kind, (newest, count)) in kinds {
            let mut reason = format!("needed by {} ({kind})", points[newest].id);
            if count > 1 {
                reason.push_str(&format!(" and {} other {kind} backups", count - 1));
            }
            reasons.push(reason);
        }
    }
}

#[cfg(test)]
mod tests;
