use super::*;

#[test]
fn time_of_day_is_strict_hh_mm() {
    for (text, h, m) in [("01:30", 1, 30), ("00:00", 0, 0), ("23:59", 23, 59)] {
        let t: TimeOfDay = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!((t.time().hour(), t.time().minute()), (h, m));
        assert_eq!(t.to_string(), text);
    }
    for text in ["24:00", "12:60", "1:30", "12:30:00", "+1:30", "noon", ""] {
        assert_eq!(
            text.parse::<TimeOfDay>(),
            Err(format!(
                "`{text}` is not a time of day: write HH:MM, from 00:00 to 23:59"
            ))
        );
    }
}

#[test]
fn schedule_reads_kebab_case_and_short_weekdays() {
    let s: Schedule = serde_json::from_str(
        r#"{"time-zone": "Europe/Berlin",
            "full": {"frequency": "weekly", "at": "01:30", "weekday": "sun"},
            "differential": {"at": "02:00", "weekdays": ["wednesday", "fri"]},
            "log-every-minutes": 15}"#,
    )
    .unwrap();
    assert_eq!(s.full.weekday, Some(Weekday::Sunday));
    assert_eq!(s.full.at, TimeOfDay::new(1, 30).unwrap());
    let diff = s.differential.as_ref().unwrap();
    assert_eq!(diff.weekdays, [Weekday::Wednesday, Weekday::Friday]);
    assert_eq!(s.log_every_minutes, Some(15));
    // Written back in the long form, and read again to the same value.
    let json = serde_json::to_string(&s).unwrap();
    assert!(
        json.contains(r#""weekday":"sunday""#) && json.contains(r#""at":"01:30""#),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<Schedule>(&json).unwrap(), s);
}

#[test]
fn policy_types_refuse_what_they_do_not_know() {
    let cases = [
        (
            r#"{"time-zone": "UTC", "full": {"frequency": "daily", "at": "01:30"}, "log-every-minute": 15}"#,
            "unknown field `log-every-minute`",
        ),
        (
            r#"{"time-zone": "UTC", "full": {"frequency": "daily", "at": "25:00"}}"#,
            "`25:00` is not a time of day: write HH:MM, from 00:00 to 23:59",
        ),
        (
            r#"{"time-zone": "UTC", "full": {"frequency": "hourly", "at": "01:30"}}"#,
            "unknown variant `hourly`",
        ),
    ];
    for (json, want) in cases {
        let err = serde_json::from_str::<Schedule>(json)
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{json}: {err}");
    }
}

#[test]
fn retention_and_points_read_with_defaults() {
    let r: Retention = serde_json::from_str(r#"{"daily": 7, "log-days": 3}"#).unwrap();
    assert_eq!(
        r,
        Retention {
            daily: 7,
            weekly: 0,
            monthly: 0,
            yearly: 0,
            differential_days: None,
            log_days: Some(3)
        }
    );
    let err = serde_json::from_str::<Retention>(r#"{"daily": 7, "hourly": 3}"#).unwrap_err();
    assert!(err.to_string().contains("unknown field `hourly`"), "{err}");

    let p: PointSummary = serde_json::from_str(
        r#"{"id": "d1", "database": "shop", "kind": "differential",
            "created-at": "2026-03-14T01:30:00Z", "depends-on": "f1"}"#,
    )
    .unwrap();
    assert_eq!(p.kind, BackupKind::Differential);
    assert_eq!(
        p.created_at,
        "2026-03-14T01:30:00Z".parse::<Timestamp>().unwrap()
    );
    assert_eq!(p.depends_on.as_deref(), Some("f1"));
}
