//! The policy's vocabulary: restore points as the policy sees them, and the
//! retention and schedule settings. Plain data, so a TOML policy file can
//! embed these types as they are; the rules live in `retention` and
//! `schedule`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackupKind {
    Full,
    Differential,
    Log,
}

impl BackupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupKind::Full => "full",
            BackupKind::Differential => "differential",
            BackupKind::Log => "log",
        }
    }
}

impl fmt::Display for BackupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the policy needs to know about one restore point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PointSummary {
    pub id: String,
    pub database: String,
    pub kind: BackupKind,
    pub created_at: Timestamp,
    /// The point this one cannot be restored without: a differential's
    /// full, a log backup's previous full or differential.
    #[serde(default)]
    pub depends_on: Option<String>,
}

/// How long restore points are kept. Grandfather-father-son over full
/// backups; differentials and logs by age.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Retention {
    /// Calendar days (counting today) whose newest full is kept.
    pub daily: u32,
    /// ISO weeks (counting this one) whose newest full is kept.
    #[serde(default)]
    pub weekly: u32,
    /// Calendar months (counting this one) whose newest full is kept.
    #[serde(default)]
    pub monthly: u32,
    /// Years (counting this one) whose newest full is kept.
    #[serde(default)]
    pub yearly: u32,
    /// Days differentials are kept; `daily` when absent.
    #[serde(default)]
    pub differential_days: Option<u32>,
    /// Days log backups are kept; `daily` when absent.
    #[serde(default)]
    pub log_days: Option<u32>,
}

/// When backups run, in the policy's own time zone so that "01:30" stays
/// 01:30 on the wall clock across daylight saving changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Schedule {
    /// IANA name, such as `Europe/Berlin` or `UTC`.
    pub time_zone: String,
    pub full: FullSchedule,
    #[serde(default)]
    pub differential: Option<DifferentialSchedule>,
    #[serde(default)]
    pub log_every_minutes: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Frequency {
    Daily,
    Weekly,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FullSchedule {
    pub frequency: Frequency,
    pub at: TimeOfDay,
    /// Required for weekly fulls, not allowed for daily ones.
    #[serde(default)]
    pub weekday: Option<Weekday>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DifferentialSchedule {
    pub at: TimeOfDay,
    pub weekdays: Vec<Weekday>,
}

/// Our own weekday so the policy file spells it `sunday` (or `sun`) and not
/// in whatever form jiff would serialise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Weekday {
    #[serde(alias = "mon")]
    Monday,
    #[serde(alias = "tue")]
    Tuesday,
    #[serde(alias = "wed")]
    Wednesday,
    #[serde(alias = "thu")]
    Thursday,
    #[serde(alias = "fri")]
    Friday,
    #[serde(alias = "sat")]
    Saturday,
    #[serde(alias = "sun")]
    Sunday,
}

impl Weekday {
    pub fn name(self) -> &'static str {
        match self {
            Weekday::Monday => "Monday",
            Weekday::Tuesday => "Tuesday",
            Weekday::Wednesday => "Wednesday",
            Weekday::Thursday => "Thursday",
            Weekday::Friday => "Friday",
            Weekday::Saturday => "Saturday",
            Weekday::Sunday => "Sunday",
        }
    }

    pub fn short_name(self) -> &'static str {
        &self.name()[..3]
    }
}

impl From<Weekday> for jiff::civil::Weekday {
    fn from(day: Weekday) -> Self {
        use jiff::civil::Weekday as J;
        match day {
            Weekday::Monday => J::Monday,
            Weekday::Tuesday => J::Tuesday,
            Weekday::Wednesday => J::Wednesday,
            Weekday::Thursday => J::Thursday,
            Weekday::Friday => J::Friday,
            Weekday::Saturday => J::Saturday,
            Weekday::Sunday => J::Sunday,
        }
    }
}

/// A wall-clock time written `HH:MM` (24-hour). Checked when the policy is
/// read, so a schedule never holds a time it cannot run at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeOfDay(jiff::civil::Time);

impl TimeOfDay {
    pub fn new(hour: i8, minute: i8) -> Result<Self, String> {
        jiff::civil::Time::new(hour, minute, 0, 0)
            .map(TimeOfDay)
            .map_err(|_| format!("{hour:02}:{minute:02} is not a time of day: use 00:00 to 23:59"))
    }

    pub fn time(self) -> jiff::civil::Time {
        self.0
    }
}

impl FromStr for TimeOfDay {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a time of day: write HH:MM, from 00:00 to 23:59");
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        let two_digits = |p: &str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit());
        if !two_digits(h) || !two_digits(m) {
            return Err(bad());
        }
        let (h, m) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        TimeOfDay::new(h, m).map_err(|_| bad())
    }
}

impl TryFrom<String> for TimeOfDay {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<TimeOfDay> for String {
    fn from(t: TimeOfDay) -> String {
        t.to_string()
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0.hour(), self.0.minute())
    }
}

#[cfg(test)]
mod tests;
