use super::*;
use crate::policy::model::{DifferentialSchedule, FullSchedule};
use crate::policy::testing::ts;
use BackupKind::{Differential as D, Full as F, Log as L};
use Weekday::*;

fn at(s: &str) -> TimeOfDay {
    s.parse().unwrap()
}

fn daily(tz: &str, time: &str, log: Option<u32>) -> Schedule {
    Schedule {
        time_zone: tz.into(),
        full: FullSchedule {
            frequency: Frequency::Daily,
            at: at(time),
            weekday: None,
        },
        differential: None,
        log_every_minutes: log,
    }
}

fn weekly(
    tz: &str,
    day: Weekday,
    time: &str,
    diff: Option<(&str, &[Weekday])>,
    log: Option<u32>,
) -> Schedule {
    Schedule {
        time_zone: tz.into(),
        full: FullSchedule {
            frequency: Frequency::Weekly,
            at: at(time),
            weekday: Some(day),
        },
        differential: diff.map(|(time, days)| DifferentialSchedule {
            at: at(time),
            weekdays: days.to_vec(),
        }),
        log_every_minutes: log,
    }
}

fn points(tz: &TimeZone, list: &[(BackupKind, &str)]) -> Vec<PointSummary> {
    list.iter()
        .enumerate()
        .map(|(i, &(kind, created))| PointSummary {
            id: format!("p{i}"),
            database: "shop".into(),
            kind,
            created_at: ts(tz, created),
            depends_on: None,
        })
        .collect()
}

struct DueCase {
    name: &'static str,
    schedule: Schedule,
    points: &'static [(BackupKind, &'static str)],
    now: &'static str,
    expect: Option<(BackupKind, &'static str)>,
}

fn run_due(cases: Vec<DueCase>) {
    for c in cases {
        let tz = c.schedule.zone().unwrap();
        let got = due(&c.schedule, &points(&tz, c.points), ts(&tz, c.now)).unwrap();
        let want = c.expect.map(|(kind, slot)| Due {
            kind,
            slot: ts(&tz, slot),
        });
        assert_eq!(got, want, "case: {}", c.name);
    }
}

#[test]
fn due_daily_and_calendar_edges() {
    let berlin = || daily("Europe/Berlin", "01:30", None);
    run_due(vec![
        DueCase {
            name: "no points: a full at once",
            schedule: berlin(),
            points: &[],
            now: "2026-03-14T09:17",
            expect: Some((F, "2026-03-14T09:17")),
        },
        DueCase {
            name: "a differential is no full: a full at once",
            schedule: berlin(),
            points: &[(D, "2026-03-13T01:30")],
            now: "2026-03-14T09:17",
            expect: Some((F, "2026-03-14T09:17")),
        },
        DueCase {
            name: "before today's slot: nothing",
            schedule: berlin(),
            points: &[(F, "2026-03-13T01:31")],
            now: "2026-03-14T01:29",
            expect: None,
        },
        DueCase {
            name: "at today's slot: due",
            schedule: berlin(),
            points: &[(F, "2026-03-13T01:31")],
            now: "2026-03-14T01:30",
            expect: Some((F, "2026-03-14T01:30")),
        },
        DueCase {
            name: "a full after the slot settles it for the rest of the day",
            schedule: berlin(),
            points: &[(F, "2026-03-14T01:30:05")],
            now: "2026-03-14T23:59",
            expect: None,
        },
        DueCase {
            name: "after days off only the latest slot is due",
            schedule: berlin(),
            points: &[(F, "2026-03-10T01:30")],
            now: "2026-03-14T09:00",
            expect: Some((F, "2026-03-14T01:30")),
        },
        DueCase {
            name: "month end: Monday's due slot is Saturday Feb 28",
            schedule: weekly("Europe/Berlin", Saturday, "23:00", None, None),
            points: &[(F, "2026-02-21T23:00")],
            now: "2026-03-02T08:00",
            expect: Some((F, "2026-02-28T23:00")),
        },
        DueCase {
            name: "leap year: a Tuesday full on Feb 29 2028",
            schedule: weekly("UTC", Tuesday, "01:00", None, None),
            points: &[(F, "2028-02-22T01:00")],
            now: "2028-03-01T12:00",
            expect: Some((F, "2028-02-29T01:00")),
        },
        DueCase {
            name: "no leap day in 2027: a Sunday full on Feb 28",
            schedule: weekly("UTC", Sunday, "01:00", None, None),
            points: &[(F, "2027-02-21T01:00")],
            now: "2027-03-01T12:00",
            expect: Some((F, "2027-02-28T01:00")),
        },
    ]);
}

#[test]
fn due_across_dst_changes() {
    run_due(vec![
        DueCase {
            name: "Berlin spring-forward: 02:30 does not exist, runs at 03:00",
            schedule: daily("Europe/Berlin", "02:30", None),
            points: &[(F, "2026-03-28T02:30")],
            now: "2026-03-29T03:05",
            expect: Some((F, "2026-03-29T03:00+02:00")),
        },
        DueCase {
            name: "Berlin spring-forward: due at the first instant after the gap",
            schedule: daily("Europe/Berlin", "02:30", None),
            points: &[(F, "2026-03-28T02:30")],
            now: "2026-03-29T03:00",
            expect: Some((F, "2026-03-29T03:00+02:00")),
        },
        DueCase {
            name: "Berlin spring-forward: a second before the gap, nothing yet",
            schedule: daily("Europe/Berlin", "02:30", None),
            points: &[(F, "2026-03-28T02:30")],
            now: "2026-03-29T01:59:59",
            expect: None,
        },
        DueCase {
            name: "New York spring-forward: 02:30 runs at 03:00 EDT",
            schedule: daily("America/New_York", "02:30", None),
            points: &[(F, "2026-03-07T02:30")],
            now: "2026-03-08T09:00",
            expect: Some((F, "2026-03-08T03:00-04:00")),
        },
        DueCase {
            name: "New York fall-back: 01:30 is due at its first occurrence",
            schedule: daily("America/New_York", "01:30", None),
            points: &[(F, "2026-10-31T01:30")],
            now: "2026-11-01T01:31-05:00",
            expect: Some((F, "2026-11-01T01:30-04:00")),
        },
        DueCase {
            name: "New York fall-back: the second 01:30 is not due again",
            schedule: daily("America/New_York", "01:30", None),
            points: &[(F, "2026-11-01T01:30:10-04:00")],
            now: "2026-11-01T01:45-05:00",
            expect: None,
        },
        DueCase {
            name: "Berlin fall-back: 02:30 is due at its first occurrence (CEST)",
            schedule: daily("Europe/Berlin", "02:30", None),
            points: &[(F, "2026-10-24T02:30")],
            now: "2026-10-25T02:45+01:00",
            expect: Some((F, "2026-10-25T02:30+02:00")),
        },
    ]);
}

#[test]
fn due_differentials_and_logs() {
    let plan = |log| {
        weekly(
            "Europe/Berlin",
            Sunday,
            "01:30",
            Some(("01:30", &[Wednesday, Friday])),
            log,
        )
    };
    run_due(vec![
        DueCase {
            name: "a differential on Wednesday",
            schedule: plan(None),
            points: &[(F, "2026-03-08T01:30")],
            now: "2026-03-11T01:35",
            expect: Some((D, "2026-03-11T01:30")),
        },
        DueCase {
            name: "Wednesday's differential taken: nothing",
            schedule: plan(None),
            points: &[(F, "2026-03-08T01:30"), (D, "2026-03-11T01:31")],
            now: "2026-03-11T12:00",
            expect: None,
        },
        DueCase {
            name: "a missed full wins over the differential",
            schedule: plan(None),
            points: &[(F, "2026-03-01T01:30")],
            now: "2026-03-11T01:35",
            expect: Some((F, "2026-03-08T01:30")),
        },
        DueCase {
            name: "a late full settles the differential slot before it",
            schedule: plan(None),
            points: &[(F, "2026-03-01T01:30"), (F, "2026-03-11T02:00")],
            now: "2026-03-12T12:00",
            expect: None,
        },
        DueCase {
            name: "Thursday: nothing until Friday's slot",
            schedule: plan(None),
            points: &[(F, "2026-03-08T01:30"), (D, "2026-03-11T01:31")],
            now: "2026-03-13T01:29",
            expect: None,
        },
        DueCase {
            name: "Friday's slot",
            schedule: plan(None),
            points: &[(F, "2026-03-08T01:30"), (D, "2026-03-11T01:31")],
            now: "2026-03-13T01:30",
            expect: Some((D, "2026-03-13T01:30")),
        },
        DueCase {
            name: "a differential wins over an overdue log",
            schedule: plan(Some(15)),
            points: &[(F, "2026-03-08T01:30"), (L, "2026-03-11T00:00")],
            now: "2026-03-11T01:40",
            expect: Some((D, "2026-03-11T01:30")),
        },
        DueCase {
            name: "log: the interval has not passed",
            schedule: daily("UTC", "01:30", Some(15)),
            points: &[(F, "2026-03-14T01:30")],
            now: "2026-03-14T01:44:59",
            expect: None,
        },
        DueCase {
            name: "log: due one interval after the full",
            schedule: daily("UTC", "01:30", Some(15)),
            points: &[(F, "2026-03-14T01:30")],
            now: "2026-03-14T01:45",
            expect: Some((L, "2026-03-14T01:45")),
        },
        DueCase {
            name: "log: counted from the last log",
            schedule: daily("UTC", "01:30", Some(15)),
            points: &[(F, "2026-03-14T01:30"), (L, "2026-03-14T09:50")],
            now: "2026-03-14T10:07",
            expect: Some((L, "2026-03-14T10:05")),
        },
        DueCase {
            name: "log: a due full wins",
            schedule: daily("UTC", "01:30", Some(15)),
            points: &[(F, "2026-03-13T01:30"), (L, "2026-03-14T01:00")],
            now: "2026-03-14T02:00",
            expect: Some((F, "2026-03-14T01:30")),
        },
    ]);
}

/// Runs the scheduler every 5 minutes, taking whatever is due at once, and
/// checks the slots it produced: each exactly once, and the right ones.
#[test]
fn never_due_twice() {
    struct Sim {
        name: &'static str,
        schedule: Schedule,
        first_full: &'static str,
        from: &'static str,
        until: &'static str,
        expect: &'static [(BackupKind, &'static str)],
    }
    let cases = [
        Sim {
            name: "Berlin daily 02:30 across spring-forward",
            schedule: daily("Europe/Berlin", "02:30", None),
            first_full: "2026-03-27T02:30",
            from: "2026-03-27T12:00",
            until: "2026-03-31T12:00",
            expect: &[
                (F, "2026-03-28T02:30+01:00"),
                (F, "2026-03-29T03:00+02:00"),
                (F, "2026-03-30T02:30+02:00"),
                (F, "2026-03-31T02:30+02:00"),
            ],
        },
        Sim {
            name: "New York daily 01:30 across fall-back: once on Nov 1",
            schedule: daily("America/New_York", "01:30", None),
            first_full: "2026-10-30T01:30",
            from: "2026-10-30T12:00",
            until: "2026-11-02T12:00",
            expect: &[
                (F, "2026-10-31T01:30-04:00"),
                (F, "2026-11-01T01:30-04:00"),
                (F, "2026-11-02T01:30-05:00"),
            ],
        },
        Sim {
            name: "weekly Sunday full with Wednesday and Friday differentials",
            schedule: weekly(
                "Europe/Berlin",
                Sunday,
                "01:30",
                Some(("01:30", &[Wednesday, Friday])),
                None,
            ),
            first_full: "2026-03-01T01:30",
            from: "2026-03-01T12:00",
            until: "2026-03-15T12:00",
            expect: &[
                (D, "2026-03-04T01:30"),
                (D, "2026-03-06T01:30"),
                (F, "2026-03-08T01:30"),
                (D, "2026-03-11T01:30"),
                (D, "2026-03-13T01:30"),
                (F, "2026-03-15T01:30"),
            ],
        },
        Sim {
            name: "daily full with logs every 6 hours",
            schedule: daily("UTC", "00:00", Some(360)),
            first_full: "2026-03-13T23:00",
            from: "2026-03-14T00:00",
            until: "2026-03-15T00:00",
            expect: &[
                (F, "2026-03-14T00:00"),
                (L, "2026-03-14T06:00"),
                (L, "2026-03-14T12:00"),
                (L, "2026-03-14T18:00"),
                (F, "2026-03-15T00:00"),
            ],
        },
    ];
    for c in cases {
        let tz = c.schedule.zone().unwrap();
        let mut taken = points(&tz, &[(F, c.first_full)]);
        let mut slots = Vec::new();
        let (mut now, until) = (ts(&tz, c.from), ts(&tz, c.until));
        while now <= until {
            if let Some(d) = due(&c.schedule, &taken, now).unwrap() {
                assert!(!slots.contains(&d), "case: {}: {d:?} due twice", c.name);
                slots.push(d);
                taken.push(PointSummary {
                    created_at: now,
                    kind: d.kind,
                    ..taken[0].clone()
                });
            }
            now = now.checked_add(SignedDuration::from_mins(5)).unwrap();
        }
        let want: Vec<Due> = c
            .expect
            .iter()
            .map(|&(kind, s)| Due {
                kind,
                slot: ts(&tz, s),
            })
            .collect();
        assert_eq!(slots, want, "case: {}", c.name);
    }
}

#[test]
fn next_slots_in_order() {
    // (case, schedule, from, n, the slots expected)
    type Plan = &'static [(BackupKind, &'static str)];
    let cases: [(&str, Schedule, &str, usize, Plan); 6] = [
        (
            "Berlin spring-forward moves one slot to 03:00",
            daily("Europe/Berlin", "02:30", None),
            "2026-03-28T00:00",
            3,
            &[
                (F, "2026-03-28T02:30+01:00"),
                (F, "2026-03-29T03:00+02:00"),
                (F, "2026-03-30T02:30+02:00"),
            ],
        ),
        (
            "New York fall-back: one slot on Nov 1",
            daily("America/New_York", "01:30", None),
            "2026-10-31T12:00",
            2,
            &[(F, "2026-11-01T01:30-04:00"), (F, "2026-11-02T01:30-05:00")],
        ),
        (
            "2028: a Tuesday differential on Feb 29",
            weekly(
                "UTC",
                Sunday,
                "01:30",
                Some(("01:30", &[Tuesday, Thursday])),
                None,
            ),
            "2028-02-27T12:00",
            3,
            &[
                (D, "2028-02-29T01:30"),
                (D, "2028-03-02T01:30"),
                (F, "2028-03-05T01:30"),
            ],
        ),
        (
            "2027: Sunday Feb 28, then March",
            weekly(
                "UTC",
                Sunday,
                "01:30",
                Some(("01:30", &[Tuesday, Thursday])),
                None,
            ),
            "2027-02-27T12:00",
            3,
            &[
                (F, "2027-02-28T01:30"),
                (D, "2027-03-02T01:30"),
                (D, "2027-03-04T01:30"),
            ],
        ),
        (
            "a slot exactly at `from` is not next",
            daily("UTC", "01:30", None),
            "2026-03-14T01:30",
            1,
            &[(F, "2026-03-15T01:30")],
        ),
        (
            "none asked, none given",
            daily("UTC", "01:30", None),
            "2026-03-14T01:30",
            0,
            &[],
        ),
    ];
    for (name, s, from, n, expect) in cases {
        let tz = s.zone().unwrap();
        let want: Vec<Due> = expect
            .iter()
            .map(|&(kind, t)| Due {
                kind,
                slot: ts(&tz, t),
            })
            .collect();
        assert_eq!(
            next_slots(&s, ts(&tz, from), n).unwrap(),
            want,
            "case: {name}"
        );
    }
}

#[test]
fn describe_in_words() {
    let cases = [
        (
            weekly(
                "Europe/Berlin",
                Sunday,
                "01:30",
                Some(("01:30", &[Wednesday])),
                Some(15),
            ),
            "full backups weekly on Sunday at 01:30 Europe/Berlin; differentials on Wed at 01:30; log backups every 15 minutes",
        ),
        (
            daily("America/New_York", "02:30", None),
            "full backups daily at 02:30 America/New_York",
        ),
        (
            weekly(
                "UTC",
                Saturday,
                "23:00",
                Some(("22:00", &[Friday, Monday, Wednesday])),
                Some(60),
            ),
            "full backups weekly on Saturday at 23:00 UTC; differentials on Mon, Wed and Fri at 22:00; log backups every hour",
        ),
        (
            daily("UTC", "00:05", Some(120)),
            "full backups daily at 00:05 UTC; log backups every 2 hours",
        ),
        (
            daily("UTC", "00:05", Some(90)),
            "full backups daily at 00:05 UTC; log backups every 90 minutes",
        ),
    ];
    for (s, want) in cases {
        assert_eq!(s.describe(), want);
    }
}

#[test]
fn validation() {
    let diff = |days: &'static [Weekday]| {
        weekly(
            "Europe/Berlin",
            Sunday,
            "01:30",
            Some(("01:30", days)),
            None,
        )
    };
    let mut daily_with_weekday = daily("UTC", "01:30", None);
    daily_with_weekday.full.weekday = Some(Monday);
    let mut weekly_without_weekday = weekly("UTC", Sunday, "01:30", None, None);
    weekly_without_weekday.full.weekday = None;
    let mut daily_with_diff = daily("UTC", "01:30", None);
    daily_with_diff.differential = diff(&[Wednesday]).differential;

    let cases: Vec<(Schedule, Result<(), &str>)> = vec![
        (diff(&[Monday, Wednesday, Saturday]), Ok(())),
        (daily("UTC", "00:00", Some(5)), Ok(())),
        (daily("UTC", "23:59", Some(1440)), Ok(())),
        (
            daily("Europe/Berln", "01:30", None),
            Err(
                "unknown time zone `Europe/Berln`: use an IANA name such as `Europe/Berlin`, `America/New_York` or `UTC`",
            ),
        ),
        (
            weekly_without_weekday,
            Err(
                "weekly full backups need a weekday: add weekday = \"sunday\" (any of monday to sunday)",
            ),
        ),
        (
            daily_with_weekday,
            Err(
                "daily full backups run every day, so weekday = \"monday\" is not allowed: remove it, or set frequency = \"weekly\"",
            ),
        ),
        (
            daily_with_diff,
            Err(
                "differential backups need weekly full backups: set the full frequency to \"weekly\" or remove the differential schedule",
            ),
        ),
        (
            diff(&[]),
            Err(
                "differential backups have no weekdays: list one or more days other than the full backup's day",
            ),
        ),
        (
            diff(&[Wednesday, Friday, Wednesday]),
            Err(
                "at most one differential a day: Wednesday is listed twice in the differential weekdays",
            ),
        ),
        (
            diff(&[Wednesday, Sunday]),
            Err(
                "differentials never run on the full backup's day (Sunday): remove it from the differential weekdays",
            ),
        ),
        (
            daily("UTC", "01:30", Some(4)),
            Err("log-every-minutes is 4: allowed is 5 to 1440 minutes"),
        ),
        (
            daily("UTC", "01:30", Some(1441)),
            Err("log-every-minutes is 1441: allowed is 5 to 1440 minutes"),
        ),
        (
            daily("UTC", "01:30", Some(0)),
            Err("log-every-minutes is 0: allowed is 5 to 1440 minutes"),
        ),
    ];
    for (s, want) in cases {
        let want = want.map_err(String::from);
        assert_eq!(s.validate(), want, "{s:?}");
        // The planners refuse what validation refuses, with the same words.
        let now = "2026-03-14T12:00:00Z".parse().unwrap();
        if let Err(e) = &want {
            assert_eq!(due(&s, &[], now).as_ref(), Err(e));
            assert_eq!(next_slots(&s, now, 1).as_ref(), Err(e));
        } else {
            assert!(due(&s, &[], now).unwrap().is_some());
        }
    }
}
