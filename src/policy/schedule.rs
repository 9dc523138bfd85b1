//! When a backup is due. Slots are wall-clock times in the policy's time
//! zone; on a DST change a slot inside the skipped hour runs at the first
//! instant after the jump, and a slot inside the repeated hour runs at its
//! first occurrence only.
//!
//! Only the most recent slot counts: a machine that was off for three days
//! takes one full backup, not three. A slot is settled by any point of its
//! kind (or a full) created at or after it, so it is never due twice.

use super::model::{BackupKind, Frequency, PointSummary, Schedule, TimeOfDay, Weekday};
use jiff::civil::Date;
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use std::ops::RangeInclusive;

/// A backup of `kind` that became due at `slot`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Due {
    pub kind: BackupKind,
    pub slot: Timestamp,
}

/// Log intervals we accept: shorter ones would spend more time starting
/// backups than taking them; longer ones would skip days.
pub const LOG_MINUTES: RangeInclusive<u32> = 5..=1440;

impl Schedule {
    /// The policy's time zone, looked up in the time zone database.
    pub fn zone(&self) -> Result<TimeZone, String> {
        jiff::tz::db().get(&self.time_zone).map_err(|_| {
            format!(
                "unknown time zone `{}`: use an IANA name such as `Europe/Berlin`, `America/New_York` or `UTC`",
                self.time_zone
            )
        })
    }

    /// Checks the rules a policy file cannot express by types alone.
    pub fn validate(&self) -> Result<(), String> {
        self.zone()?;
        let full_day = match (self.full.frequency, self.full.weekday) {
            (Frequency::Weekly, None) => {
                return Err("weekly full backups need a weekday: add weekday = \"sunday\" (any of monday to sunday)".into());
            }
            (Frequency::Daily, Some(day)) => {
                return Err(format!(
                    "daily full backups run every day, so weekday = \"{}\" is not allowed: remove it, or set frequency = \"weekly\"",
                    day.name().to_lowercase()
                ));
            }
            (_, day) => day,
        };
        if let Some(diff) = &self.differential {
            let Some(full_day) = full_day else {
                return Err("differential backups need weekly full backups: set the full frequency to \"weekly\" or remove the differential schedule".into());
            };
            if diff.weekdays.is_empty() {
                return Err("differential backups have no weekdays: list one or more days other than the full backup's day".into());
            }
            for (i, day) in diff.weekdays.iter().enumerate() {
                if diff.weekdays[..i].contains(day) {
                    return Err(format!(
                        "at most one differential a day: {} is listed twice in the differential weekdays",
                        day.name()
                    ));
                }
            }
            if diff.weekdays.contains(&full_day) {
                return Err(format!(
                    "differentials never run on the full backup's day ({}): remove it from the differential weekdays",
                    full_day.name()
                ));
            }
        }
        if let Some(m) = self.log_every_minutes
            && !LOG_MINUTES.contains(&m)
        {
            return Err(format!(
                "log-every-minutes is {m}: allowed is {} to {} minutes",
                LOG_MINUTES.start(),
                LOG_MINUTES.end()
            ));
        }
        Ok(())
    }

    /// The schedule in one sentence, for `policy check`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        parts.push(match (self.full.frequency, self.full.weekday) {
            (Frequency::Weekly, day) => format!(
                "full backups weekly on {} at {} {}",
                day.map_or("(no weekday)", Weekday::name),
                self.full.at,
                self.time_zone
            ),
            (Frequency::Daily, _) => {
                format!("full backups daily at {} {}", self.full.at, self.time_zone)
            }
        });
        if let Some(diff) = &self.differential {
            let mut days = diff.weekdays.clone();
            days.sort();
            days.dedup();
            let names: Vec<&str> = days.iter().map(|d| d.short_name()).collect();
            let days = match names.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
                _ => names.concat(),
            };
            parts.push(format!("differentials on {days} at {}", diff.at));
        }
        if let Some(m) = self.log_every_minutes {
            parts.push(match (m / 60, m % 60) {
                (1, 0) => "log backups every hour".to_string(),
                (h, 0) => format!("log backups every {h} hours"),
                _ => format!("log backups every {m} minutes"),
            });
        }
        parts.join("; ")
    }

    fn at_on(&self, kind: BackupKind, date: Date) -> Option<TimeOfDay> {
        let weekday = |d: Weekday| jiff::civil::Weekday::from(d) == date.weekday();
        match kind {
            BackupKind::Full => match self.full.frequency {
                Frequency::Daily => Some(self.full.at),
                Frequency::Weekly => self
                    .full
                    .weekday
                    .filter(|&d| weekday(d))
                    .map(|_| self.full.at),
            },
            BackupKind::Differential => {
                let diff = self.differential.as_ref()?;
                diff.weekdays.iter().any(|&d| weekday(d)).then_some(diff.at)
            }
            BackupKind::Log => None,
        }
    }
}

/// The instant `at` happens on `date` in `tz`.
fn instant(tz: &TimeZone, date: Date, at: TimeOfDay) -> Option<Timestamp> {
    let dt = date.to_datetime(at.time());
    let ambiguous = tz.to_ambiguous_timestamp(dt);
    match ambiguous.offset() {
        // The clock jumps over `dt`. Read with the later offset, `dt` falls
        // just before the jump, so the next transition is the jump itself.
        AmbiguousOffset::Gap { after, .. } => {
            let before_jump = after.to_timestamp(dt).ok()?;
            tz.following(before_jump).next().map(|t| t.timestamp())
        }
        // Unambiguous, or the first occurrence of a repeated hour.
        _ => ambiguous.earlier().ok(),
    }
}

/// The most recent slot of `kind` at or before `now`.
fn last_slot(s: &Schedule, tz: &TimeZone, kind: BackupKind, now: Timestamp) -> Option<Timestamp> {
    let mut date = tz.to_datetime(now).date();
    // A week back finds a weekly slot; one more day covers a slot that DST
    // moved across midnight.
    for _ in 0..=8 {
        if let Some(at) = s.at_on(kind, date)
            && let Some(slot) = instant(tz, date, at)
            && slot <= now
        {
            return Some(slot);
        }
        date = date.yesterday().ok()?;
    }
    None
}

/// What backup of one database's `points` is due at `now`, if any. A full
/// wins over a differential, and a differential over a log backup.
///
/// Errs with the `validate` message when the schedule is not valid.
pub fn due(s: &Schedule, points: &[PointSummary], now: Timestamp) -> Result<Option<Due>, String> {
    s.validate()?;
    let tz = s.zone()?;
    if !points.iter().any(|p| p.kind == BackupKind::Full) {
        return Ok(Some(Due {
            kind: BackupKind::Full,
            slot: now,
        }));
    }
    let settled = |slot: Timestamp, kinds: &[BackupKind]| {
        points
            .iter()
            .any(|p| kinds.contains(&p.kind) && p.created_at >= slot)
    };
    for (kind, settles) in [
        (BackupKind::Full, &[BackupKind::Full][..]),
        (
            BackupKind::Differential,
            &[BackupKind::Full, BackupKind::Differential][..],
        ),
    ] {
        if let Some(slot) = last_slot(s, &tz, kind, now)
            && !settled(slot, settles)
        {
            return Ok(Some(Due { kind, slot }));
        }
    }
    if let Some(minutes) = s.log_every_minutes {
        let last = points
            .iter()
            .map(|p| p.created_at)
            .max()
            .expect("a full exists");
        let interval = SignedDuration::from_mins(i64::from(minutes));
        if let Ok(slot) = last.checked_add(interval)
            && slot <= now
        {
            return Ok(Some(Due {
                kind: BackupKind::Log,
                slot,
            }));
        }
    }
    Ok(None)
}

/// The next `n` full and differential slots strictly after `from`, in
/// order. Log backups have no fixed slots: they follow the last backup.
///
/// Errs with the `validate` message when the schedule is not valid.
pub fn next_slots(s: &Schedule, from: Timestamp, n: usize) -> Result<Vec<Due>, String> {
    s.validate()?;
    let tz = s.zone()?;
    let mut slots = Vec::with_capacity(n);
    let mut date = tz.to_datetime(from).date();
    // A valid schedule has a full every 7 days, so this bound never cuts a
    // plan short; it only guards the loop.
    for _ in 0..n.saturating_mul(7).saturating_add(2) {
        if slots.len() >= n {
            break;
        }
        let mut today: Vec<Due> = [BackupKind::Full, BackupKind::Differential]
            .into_iter()
            .filter_map(|kind| {
                let slot = instant(&tz, date, s.at_on(kind, date)?)?;
                (slot > from).then_some(Due { kind, slot })
            })
            .collect();
        today.sort_by_key(|d| d.slot);
        slots.extend(today);
        let Ok(next) = date.tomorrow() else { break };
        date = next;
    }
    slots.truncate(n);
    Ok(slots)
}

#[cfg(test)]
mod tests;
