use super::*;
use crate::policy::testing::{ts, zone};
use BackupKind::{Differential as D, Full as F, Log as L};

fn keep(daily: u32, weekly: u32, monthly: u32, yearly: u32) -> Retention {
    Retention {
        daily,
        weekly,
        monthly,
        yearly,
        differential_days: None,
        log_days: None,
    }
}

fn keep_days(daily: u32, differential_days: Option<u32>, log_days: Option<u32>) -> Retention {
    Retention {
        differential_days,
        log_days,
        ..keep(daily, 0, 0, 0)
    }
}

/// (database, id, kind, created at, depends on)
type Point = (
    &'static str,
    &'static str,
    BackupKind,
    &'static str,
    Option<&'static str>,
);

struct Case {
    name: &'static str,
    zone: &'static str,
    now: &'static str,
    retention: Retention,
    points: &'static [Point],
    /// (id, keep, reasons), one per point in the order of `points`.
    expect: &'static [(&'static str, bool, &'static [&'static str])],
}

const OLDER: &[&str] = &["older than every retention range"];

fn run(cases: &[Case]) {
    for c in cases {
        let tz = zone(c.zone);
        let points: Vec<PointSummary> = c
            .points
            .iter()
            .map(|&(database, id, kind, created, depends_on)| PointSummary {
                id: id.into(),
                database: database.into(),
                kind,
                created_at: ts(&tz, created),
                depends_on: depends_on.map(Into::into),
            })
            .collect();
        let got = decide(&points, &c.retention, &tz, ts(&tz, c.now));
        let want: Vec<Decision> = c
            .expect
            .iter()
            .map(|&(id, keep, reasons)| Decision {
                id: id.into(),
                keep,
                reasons: reasons.iter().map(|r| r.to_string()).collect(),
            })
            .collect();
        assert_eq!(got, want, "case: {}", c.name);
    }
}

#[test]
fn calendar_periods() {
    run(&[
        Case {
            name: "month end: days are Berlin days, not UTC days",
            zone: "Europe/Berlin",
            now: "2026-02-01T10:00",
            retention: keep(2, 0, 0, 0),
            points: &[
                ("shop", "f1", F, "2026-01-30T01:00", None),
                ("shop", "f2", F, "2026-01-31T01:00", None),
                ("shop", "f3", F, "2026-01-31T22:00", None),
                // 23:30 UTC on Jan 31, but Feb 1 on the policy's calendar.
                ("shop", "f4", F, "2026-02-01T00:30", None),
            ],
            expect: &[
                ("f1", false, OLDER),
                ("f2", false, &["superseded by f3 (daily 2026-01-31)"]),
                ("f3", true, &["daily 2026-01-31"]),
                ("f4", true, &["daily 2026-02-01", "newest full"]),
            ],
        },
        Case {
            name: "month end: monthly reaches back from March into February",
            zone: "UTC",
            now: "2026-03-01T12:00",
            retention: keep(1, 0, 2, 0),
            points: &[
                ("shop", "f1", F, "2026-01-31T23:00", None),
                ("shop", "f2", F, "2026-02-27T23:00", None),
                ("shop", "f3", F, "2026-02-28T23:00", None),
                ("shop", "f4", F, "2026-03-01T01:00", None),
            ],
            expect: &[
                ("f1", false, OLDER),
                ("f2", false, &["superseded by f3 (monthly 2026-02)"]),
                ("f3", true, &["monthly 2026-02"]),
                (
                    "f4",
                    true,
                    &["daily 2026-03-01", "monthly 2026-03", "newest full"],
                ),
            ],
        },
        Case {
            name: "leap year 2028: Feb 29 is a day of its own",
            zone: "UTC",
            now: "2028-03-01T12:00",
            retention: keep(2, 0, 0, 0),
            points: &[
                ("shop", "f1", F, "2028-02-28T12:00", None),
                ("shop", "f2", F, "2028-02-29T12:00", None),
                ("shop", "f3", F, "2028-03-01T06:00", None),
            ],
            expect: &[
                ("f1", false, OLDER),
                ("f2", true, &["daily 2028-02-29"]),
                ("f3", true, &["daily 2028-03-01", "newest full"]),
            ],
        },
        Case {
            name: "2027 has no Feb 29: the day before Mar 1 is Feb 28",
            zone: "UTC",
            now: "2027-03-01T12:00",
            retention: keep(2, 0, 0, 0),
            points: &[
                ("shop", "f1", F, "2027-02-27T12:00", None),
                ("shop", "f2", F, "2027-02-28T12:00", None),
                ("shop", "f3", F, "2027-03-01T06:00", None),
            ],
            expect: &[
                ("f1", false, OLDER),
                ("f2", true, &["daily 2027-02-28"]),
                ("f3", true, &["daily 2027-03-01", "newest full"]),
            ],
        },
        Case {
            name: "30 days back from 2027-03-01 reach Jan 31",
            zone: "UTC",
            now: "2027-03-01T12:00",
            retention: keep(30, 0, 0, 0),
            points: &[
                ("shop", "f1", F, "2027-01-30T12:00", None),
                ("shop", "f2", F, "2027-01-31T12:00", None),
                ("shop", "f3", F, "2027-03-01T06:00", None),
            ],
            expect: &[
                ("f1", false, OLDER),
                ("f2", true, &["daily 2027-01-31"]),
                ("f3", true, &["daily 2027-03-01", "newest full"]),
            ],
        },
        Case {
            name: "30 days back from 2028-03-01 stop at Feb 1: Feb 29 takes one",
            zone: "UTC",
            now: "2028-03-01T12:00",
            retention: keep(30, 0, 0, 0),
            points: &[
                ("shop", "f1", F, "2028-01-31T12:00", None),
                ("shop", "f2", F, "2028-02-01T12:00", None),
                ("shop", "f3", F, "2028-03-01T06:00", None),
            ],
            expect: &[
                ("f1", false, OLDER),
                ("f2", true, &["daily 2028-02-01"]),
                ("f3", true, &["daily 2028-03-01", "newest full"]),
            ],
        },
        Case {
            name: "ISO week 53 of 2026 runs into January 2027",
            zone: "UTC",
            now: "2027-01-06T12:00",
            retention: keep(1, 3, 0, 0),
            points: &[
                ("shop", "f1", F, "2026-12-20T12:00", None),
                ("shop", "f2", F, "2026-12-27T12:00", None),
                ("shop", "f3", F, "2027-01-01T12:00", None),
                ("shop", "f4", F, "2027-01-03T12:00", None),
                ("shop", "f5", F, "2027-01-05T12:00", None),
            ],
            expect: &[
                ("f1", false, OLDER),
                ("f2", true, &["weekly 2026-W52"]),
                ("f3", false, &["superseded by f4 (weekly 2026-W53)"]),
                ("f4", true, &["weekly 2026-W53"]),
                ("f5", true, &["weekly 2027-W01", "newest full"]),
            ],
        },
        Case {
            name: "ISO week 1 of 2026 starts in December 2025",
            zone: "UTC",
            now: "2026-01-07T12:00",
            retention: keep(1, 2, 0, 0),
            points: &[
                ("shop", "f1", F, "2025-12-28T12:00", None),
                ("shop", "f2", F, "2025-12-29T12:00", None),
                ("shop", "f3", F, "2025-12-31T12:00", None),
                ("shop", "f4", F, "2026-01-06T12:00", None),
            ],
            expect: &[
                ("f1", false, OLDER),
                ("f2", false, &["superseded by f3 (weekly 2026-W01)"]),
                ("f3", true, &["weekly 2026-W01"]),
                ("f4", true, &["weekly 2026-W02", "newest full"]),
            ],
        },
        Case {
            name: "yearly: New Year is the policy's New Year",
            zone: "Europe/Berlin",
            now: "2027-01-06T12:00",
            retention: keep(1, 0, 0, 2),
            points: &[
                ("shop", "f1", F, "2025-06-01T12:00", None),
                ("shop", "f2", F, "2026-12-31T12:00", None),
                // Still 2026 in UTC.
                ("shop", "f3", F, "2027-01-01T00:30", None),
            ],
            expect: &[
                ("f1", false, OLDER),
                ("f2", true, &["yearly 2026"]),
                ("f3", true, &["yearly 2027", "newest full"]),
            ],
        },
        Case {
            name: "DST fall-back in New York: both 01:30s are one day",
            zone: "America/New_York",
            now: "2026-11-01T12:00",
            retention: keep(1, 0, 0, 0),
            points: &[
                ("shop", "f0", F, "2026-10-31T23:30", None),
                ("shop", "f1", F, "2026-11-01T01:30-04:00", None),
                ("shop", "f2", F, "2026-11-01T01:30-05:00", None),
            ],
            expect: &[
                ("f0", false, OLDER),
                ("f1", false, &["superseded by f2 (daily 2026-11-01)"]),
                ("f2", true, &["daily 2026-11-01", "newest full"]),
            ],
        },
        Case {
            name: "DST spring-forward in Berlin: the 23-hour day is one day",
            zone: "Europe/Berlin",
            now: "2026-03-30T00:10",
            retention: keep(2, 0, 0, 0),
            points: &[
                ("shop", "f1", F, "2026-03-28T23:50", None),
                // Mar 28 in UTC, Mar 29 in Berlin.
                ("shop", "f2", F, "2026-03-29T00:30", None),
                ("shop", "f3", F, "2026-03-29T23:50", None),
            ],
            expect: &[
                ("f1", false, OLDER),
                ("f2", false, &["superseded by f3 (daily 2026-03-29)"]),
                ("f3", true, &["daily 2026-03-29", "newest full"]),
            ],
        },
    ]);
}

#[test]
fn dependencies_and_the_newest_full() {
    run(&[
        Case {
            name: "a full outside retention stays while a kept differential needs it",
            zone: "UTC",
            now: "2026-03-14T12:00",
            retention: keep_days(3, Some(3), None),
            points: &[
                ("shop", "f1", F, "2026-03-01T01:00", None),
                ("shop", "d1", D, "2026-03-04T01:00", Some("f1")),
                ("shop", "f2", F, "2026-03-08T01:00", None),
                ("shop", "d2", D, "2026-03-11T01:00", Some("f2")),
                ("shop", "d3", D, "2026-03-13T01:00", Some("f2")),
                ("shop", "f3", F, "2026-03-14T01:00", None),
            ],
            expect: &[
                ("f1", false, OLDER),
                ("d1", false, &["older than the last 3 days (differential)"]),
                ("f2", true, &["needed by d3 (differential)"]),
                ("d2", false, &["older than the last 3 days (differential)"]),
                ("d3", true, &["within the last 3 days (differential)"]),
                ("f3", true, &["daily 2026-03-14", "newest full"]),
            ],
        },
        Case {
            name: "a kept log keeps its differential and that differential's full",
            zone: "UTC",
            now: "2026-03-14T12:00",
            retention: keep_days(2, Some(1), Some(2)),
            points: &[
                ("shop", "f1", F, "2026-03-08T01:00", None),
                ("shop", "d1", D, "2026-03-11T01:00", Some("f1")),
                ("shop", "l1", L, "2026-03-11T01:15", Some("d1")),
                ("shop", "l2", L, "2026-03-13T23:00", Some("d1")),
                ("shop", "f2", F, "2026-03-14T01:00", None),
                ("shop", "l3", L, "2026-03-14T01:15", Some("f2")),
                ("shop", "l4", L, "2026-03-14T01:30", Some("f2")),
                ("shop", "l5", L, "2026-03-14T01:45", Some("f2")),
            ],
            expect: &[
                ("f1", true, &["needed by d1 (differential)"]),
                ("d1", true, &["needed by l2 (log)"]),
                ("l1", false, &["older than the last 2 days (log)"]),
                ("l2", true, &["within the last 2 days (log)"]),
                (
                    "f2",
                    true,
                    &[
                        "daily 2026-03-14",
                        "newest full",
                        "needed by l5 (log) and 2 other log backups",
                    ],
                ),
                ("l3", true, &["within the last 2 days (log)"]),
                ("l4", true, &["within the last 2 days (log)"]),
                ("l5", true, &["within the last 2 days (log)"]),
            ],
        },
        Case {
            name: "the newest full is never deleted, however old; a lost parent is no error",
            zone: "UTC",
            now: "2026-03-14T12:00",
            retention: keep(1, 0, 0, 0),
            points: &[
                ("shop", "f1", F, "2025-01-01T01:00", None),
                ("shop", "f2", F, "2025-02-01T01:00", None),
                ("shop", "d1", D, "2025-02-02T01:00", Some("f2")),
                ("shop", "d2", D, "2026-03-14T02:00", Some("gone")),
            ],
            expect: &[
                ("f1", false, OLDER),
                ("f2", true, &["newest full"]),
                ("d1", false, &["older than the last 1 day (differential)"]),
                ("d2", true, &["within the last 1 day (differential)"]),
            ],
        },
        Case {
            name: "each database keeps its own newest full",
            zone: "UTC",
            now: "2026-03-14T12:00",
            retention: keep(1, 0, 0, 0),
            points: &[
                ("shop", "a0", F, "2026-03-13T01:00", None),
                ("crm", "b1", F, "2026-03-10T01:00", None),
                ("shop", "a1", F, "2026-03-14T01:00", None),
            ],
            expect: &[
                ("a0", false, OLDER),
                ("b1", true, &["newest full"]),
                ("a1", true, &["daily 2026-03-14", "newest full"]),
            ],
        },
        Case {
            name: "a full dated after now (clock skew) is kept",
            zone: "UTC",
            now: "2026-03-14T12:00",
            retention: keep(1, 0, 0, 0),
            points: &[
                ("shop", "f1", F, "2026-03-14T01:00", None),
                ("shop", "f2", F, "2026-03-15T01:00", None),
            ],
            expect: &[
                ("f1", true, &["daily 2026-03-14"]),
                ("f2", true, &["daily 2026-03-15", "newest full"]),
            ],
        },
    ]);
}

#[test]
fn no_points_no_decisions() {
    assert_eq!(
        decide(
            &[],
            &keep(7, 4, 12, 5),
            &zone("UTC"),
            ts(&zone("UTC"), "2026-03-14T12:00")
        ),
        vec![]
    );
}

#[test]
fn iso_week_53_exists_in_2026_and_not_in_2027() {
    use jiff::civil::date;
    let cases = [
        (date(2026, 12, 31), 2026, 53),
        (date(2027, 1, 3), 2026, 53),
        (date(2027, 1, 4), 2027, 1),
        (date(2027, 12, 31), 2027, 52),
    ];
    for (d, year, week) in cases {
        let w = d.iso_week_date();
        assert_eq!((w.year(), w.week()), (year, week), "{d}");
    }
}

#[test]
fn validation() {
    let cases: [(Retention, Result<(), &str>); 6] = [
        (keep(1, 0, 0, 0), Ok(())),
        (keep_days(7, Some(7), Some(0)), Ok(())),
        (
            keep(0, 4, 12, 1),
            Err("retention daily is 0: keep at least 1 day of full backups (daily = 1 or more)"),
        ),
        (
            keep_days(7, Some(8), None),
            Err(
                "retention differential-days is 8 but daily is 7: a differential is useless without \
                 its full backup, so keep it at most as long: differential-days = 0 to 7",
            ),
        ),
        (
            keep_days(7, None, Some(30)),
            Err(
                "retention log-days is 30 but daily is 7: a log backup is useless without \
                 its full backup, so keep it at most as long: log-days = 0 to 7",
            ),
        ),
        (
            keep_days(7, Some(9), Some(30)),
            Err(
                "retention differential-days is 9 but daily is 7: a differential is useless without \
                 its full backup, so keep it at most as long: differential-days = 0 to 7",
            ),
        ),
    ];
    for (r, want) in cases {
        assert_eq!(r.validate(), want.map_err(String::from), "{r:?}");
    }
}
