//! Test helpers: instants written the way a person reads a wall clock.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

pub fn zone(name: &str) -> TimeZone {
    jiff::tz::db()
        .get(name)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `2026-03-14T01:30` is read as wall-clock time in `tz`; a string with an
/// offset (`2026-11-01T01:30-05:00`, `...Z`) is taken as it is, which is how
/// tests name one side of a DST fold.
pub fn ts(tz: &TimeZone, s: &str) -> Timestamp {
    if let Ok(t) = s.parse::<Timestamp>() {
        return t;
    }
    let dt: DateTime = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
    tz.to_ambiguous_timestamp(dt)
        .unambiguous()
        .unwrap_or_else(|e| panic!("{s} is ambiguous in {tz:?}, write its offset: {e}"))
}
