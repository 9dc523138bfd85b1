//! Recovery targets: where a point-in-time restore stops replaying WAL.

use super::wal::Lsn;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, PartialEq)]
pub enum RecoveryTarget {
    /// Replay everything the archive holds.
    #[default]
    End,
    /// Stop as soon as the base backup is consistent.
    Immediate,
    Time(jiff::Timestamp),
    Lsn(Lsn),
    Xid(String),
    /// A restore point made with `pg_create_restore_point`.
    Name(String),
}

/// Parse `--time`: `2026-12-02 10:15:30+01`, RFC 3339, or a local time
/// without an offset (this machine's time zone).
pub fn parse_time(s: &str) -> Result<jiff::Timestamp> {
    let t = s.trim();
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Ok(ts);
    }
    // `+01` is what PostgreSQL prints; jiff wants `+01:00`.
    if let Some(pos) = t.rfind(['+', '-'])
        && pos > 10
        && t[pos + 1..].len() == 2
        && let Ok(ts) = format!("{t}:00").parse::<jiff::Timestamp>()
    {
        return Ok(ts);
    }
    if let Ok(dt) = t.parse::<jiff::civil::DateTime>()
        && let Ok(z) = dt.to_zoned(jiff::tz::TimeZone::system())
    {
        return Ok(z.timestamp());
    }
    Err(Error::usage(format!("`{s}` is not a time")).with_hint(
        "write it as '2026-12-02 10:15:30+01' (an offset, or Z for UTC; without one, local time)",
    ))
}

impl RecoveryTarget {
    /// The `postgresql.auto.conf` lines that set it.
    pub fn settings(&self, inclusive: bool) -> Vec<(&'static str, String)> {
        let mut out = match self {
            RecoveryTarget::End => return Vec::new(),
            RecoveryTarget::Immediate => vec![("recovery_target", "immediate".to_string())],
            RecoveryTarget::Time(t) => vec![(
                "recovery_target_time",
                t.strftime("%Y-%m-%d %H:%M:%S%.6f+00").to_string(),
            )],
            RecoveryTarget::Lsn(l) => vec![("recovery_target_lsn", l.to_string())],
            RecoveryTarget::Xid(x) => vec![("recovery_target_xid", x.clone())],
            RecoveryTarget::Name(n) => vec![("recovery_target_name", n.clone())],
        };
        if !matches!(self, RecoveryTarget::Immediate | RecoveryTarget::Name(_)) {
            out.push((
                "recovery_target_inclusive",
                if inclusive { "on" } else { "off" }.into(),
            ));
        }
        out
    }

    /// For reports: `time 2026-12-02T09:15:30Z`.
    pub fn describe(&self) -> String {
        match self {
            RecoveryTarget::End => "the end of the archive".into(),
            RecoveryTarget::Immediate => "the end of the base backup".into(),
            RecoveryTarget::Time(t) => format!("time {t}"),
            RecoveryTarget::Lsn(l) => format!("LSN {l}"),
            RecoveryTarget::Xid(x) => format!("transaction {x}"),
            RecoveryTarget::Name(n) => format!("restore point `{n}`"),
        }
    }
}

/// Quote a value for `postgresql.conf`.
pub fn conf_quote(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let a = parse_time("2026-12-02 10:15:30+01").unwrap();
        let b = parse_time("2026-12-02T09:15:30Z").unwrap();
        assert_eq!(a, b);
        assert!(parse_time("yesterday").is_err());
        let s = RecoveryTarget::Time(b).settings(true);
        assert_eq!(s[0].1, "2026-12-02 09:15:30.000000+00");
        assert_eq!(s[1], ("recovery_target_inclusive", "on".to_string()));
    }

    #[test]
    fn quoting() {
        assert_eq!(conf_quote("it's"), "'it''s'");
    }
}
