//! Point-in-time recovery on real clusters: a server archiving through
//! `sqlvault wal push`, base backups over the replication protocol, and
//! restores to times, LSNs and named restore points that must hold exactly
//! the rows committed up to the target.

use crate::common;
use crate::pg_common;

use common::{Out, Rng, run as run_cmd};
use pg_common::archiving::Archiving;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One row the writer committed, with the WAL position right after it.
#[derive(Debug, Clone)]
struct Written {
    id: i32,
    lsn_after: String,
}

/// Insert a row every 100 ms until told to stop; after row `name_at`,
/// create the restore point `before_name`.
fn writer(a: &Archiving, stop: Arc<AtomicBool>, log: Arc<Mutex<Vec<Written>>>, name_at: i32) {
    let mut c = a.client();
    let mut id = 0;
    while !stop.load(Ordering::Relaxed) {
        id += 1;
        c.execute("INSERT INTO ticks (id) VALUES ($1)", &[&id])
            .unwrap();
        if id == name_at {
            c.batch_execute("SELECT pg_create_restore_point('before_name')")
                .unwrap();
        }
        let lsn: String = c
            .query_one("SELECT pg_current_wal_insert_lsn()::text", &[])
            .unwrap()
            .get(0);
        log.lock().unwrap().push(Written { id, lsn_after: lsn });
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn base_backup(a: &Archiving) -> Value {
    let out = a.vault(&[
        "--json",
        "backup",
        "--physical",
        "--cluster",
        &a.cluster,
        &a.url(),
    ]);
    out.expect_code(0);
    out.json()
}

/// Restore `latest` with the given target flags into a new directory,
/// start the copy, and return the ids it holds.
fn restore_ids(a: &Archiving, point: &str, name: &str, target: &[&str]) -> (Vec<i32>, Value) {
    let to = a.target(name);
    let mut args = vec!["--json", "restore", point, "--to"];
    let to_s = to.display().to_string();
    args.push(&to_s);
    args.extend_from_slice(target);
    let out: Out = a.vault(&args);
    out.expect_code(0);
    let report = out.json();
    let copy = a.start_copy(&to);
    let ids = copy
        .client()
        .query("SELECT id FROM ticks ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    (ids, report)
}

/// The server's clock, in UTC.
fn server_now(a: &Archiving) -> String {
    a.client()
        .query_one(
            "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
            &[],
        )
        .unwrap()
        .get(0)
}

fn check_text(report: &Value) -> String {
    report["databases"][0]["check"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn restores_hold_exactly_the_rows_committed_up_to_the_target() {
    let a = Archiving::start("main", &["track_commit_timestamp = on"]);
    a.client()
        .batch_execute(
            "CREATE TABLE ticks (id int PRIMARY KEY, at timestamptz DEFAULT clock_timestamp());
             CREATE TABLE filler AS SELECT g, md5(g::text) AS v FROM generate_series(1, 50000) g;",
        )
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut first = Value::Null;
    let mut second = Value::Null;
    let mut first_done = String::new();
    std::thread::scope(|scope| {
        let w = {
            let (stop, log, a) = (stop.clone(), log.clone(), &a);
            scope.spawn(move || writer(a, stop, log, 150))
        };
        let started = Instant::now();
        std::thread::sleep(Duration::from_secs(3));
        first = base_backup(&a);
        first_done = server_now(&a);
        while started.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_secs(5));
            a.switch_and_wait();
            if second.is_null() && started.elapsed() > Duration::from_secs(25) {
                second = base_backup(&a);
            }
        }
        stop.store(true, Ordering::Relaxed);
        w.join().unwrap();
    });
    a.switch_and_wait();
    let first_id = first["databases"][0]["restore_point"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(
        first["databases"][0]["restore_point"],
        second["databases"][0]["restore_point"]
    );

    // Commit times as the server recorded them: what recovery_target_time compares.
    let commits: Vec<(i32, String)> = a
        .client()
        .query(
            "SELECT id, to_char(pg_xact_commit_timestamp(xmin) AT TIME ZONE 'UTC',
                    'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')
             FROM ticks ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let written = log.lock().unwrap().clone();
    assert!(commits.len() > 400, "only {} rows written", commits.len());

    // The window starts when the first base backup ended.
    let first_end = commits
        .iter()
        .position(|(_, t)| t.parse::<jiff::Timestamp>().unwrap() > first_done.parse().unwrap())
        .unwrap();

    let mut rng = Rng::new(12);
    for i in 0..10 {
        let k = first_end + 1 + rng.below((commits.len() - first_end - 3) as u64) as usize;
        // Halfway between two commits, to the microsecond.
        let (t0, t1): (jiff::Timestamp, jiff::Timestamp) = (
            commits[k].1.parse().unwrap(),
            commits[k + 1].1.parse().unwrap(),
        );
        let mid = t0 + (t1.duration_since(t0) / 2);
        let time = mid.to_string();
        let (ids, report) = restore_ids(&a, "latest", &format!("time{i}"), &["--time", &time]);
        let expected: Vec<i32> = commits[..=k].iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, expected, "restore to {time}: {report:#}");
        assert!(
            check_text(&report).contains("pg_amcheck clean"),
            "{report:#}"
        );
    }

    // An LSN right after a commit: that row is in, the next is not.
    let k = written.len() * 3 / 4;
    let (ids, report) = restore_ids(&a, "latest", "lsn", &["--lsn", &written[k].lsn_after]);
    assert_eq!(ids.last(), Some(&written[k].id), "{report:#}");
    assert_eq!(ids.len(), written[k].id as usize);

    // The named restore point was made right after row 150, before the
    // second base backup: it is reached from the first.
    let (ids, report) = restore_ids(&a, &first_id, "name", &["--name", "before_name"]);
    assert_eq!(ids.last(), Some(&150), "{report:#}");
    assert_eq!(ids.len(), 150);

    // Without a target: everything that was archived.
    let (ids, _) = restore_ids(&a, "latest", "end", &[]);
    assert_eq!(ids.len(), commits.len());
}

/// Insert rows `from..=to` into `ticks` and return the server's clock after.
fn insert_rows(c: &mut postgres::Client, from: i32, to: i32) -> String {
    for id in from..=to {
        c.execute("INSERT INTO ticks (id) VALUES ($1)", &[&id])
            .unwrap();
    }
    std::thread::sleep(Duration::from_millis(20));
    c.query_one(
        "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
        &[],
    )
    .unwrap()
    .get(0)
}

#[test]
fn timelines_a_restored_copy_that_keeps_archiving_and_the_old_timeline_after_the_fork() {
    let a = Archiving::start("tl", &[]);
    let mut c = a.client();
    c.batch_execute("CREATE TABLE ticks (id int PRIMARY KEY)")
        .unwrap();
    insert_rows(&mut c, 1, 10);
    base_backup(&a);
    let t1 = insert_rows(&mut c, 11, 20);
    insert_rows(&mut c, 21, 22);
    a.switch_and_wait();

    // A copy at t1 promotes to timeline 2 and archives into the same place.
    let to = a.target("fork");
    let out = a.vault(&[
        "--json",
        "restore",
        "latest",
        "--time",
        &t1,
        "--keep-archiving",
        "--to",
        &to.display().to_string(),
    ]);
    out.expect_code(0);
    assert!(
        check_text(&out.json()).contains("timeline 2"),
        "{}",
        out.stdout
    );
    let t2 = {
        let copy = a.start_copy(&to);
        let mut cc = copy.client();
        let t2 = insert_rows(&mut cc, 1001, 1010);
        insert_rows(&mut cc, 1011, 1011);
        copy.switch_and_wait();
        t2
    };
    // The original goes on writing on timeline 1.
    let t3 = insert_rows(&mut c, 23, 30);
    insert_rows(&mut c, 31, 31);
    a.switch_and_wait();

    let expect = |r: std::ops::RangeInclusive<i32>, s: std::ops::RangeInclusive<i32>| {
        r.chain(s).collect::<Vec<i32>>()
    };
    // t2 is reached by both timelines, which hold different rows then:
    // refused without --timeline, naming both and the fork.
    assert_refused(
        &a,
        "ambiguous",
        &["--time", &t2],
        2,
        "reached by 2 timelines that hold different data: timeline 1 (the base backup's), timeline 2 (forked from timeline 1 at",
    );
    let (ids, report) = restore_ids(&a, "latest", "tl2", &["--time", &t2, "--timeline", "2"]);
    assert_eq!(ids, expect(1..=20, 1001..=1010), "{report:#}");
    // A time before the fork is the same on both: no --timeline needed.
    let (ids, report) = restore_ids(&a, "latest", "tl0", &["--time", &t1]);
    assert_eq!(ids, (1..=20).collect::<Vec<i32>>(), "{report:#}");
    let (ids, report) = restore_ids(&a, "latest", "tl1", &["--time", &t3, "--timeline", "1"]);
    assert_eq!(ids, (1..=30).collect::<Vec<i32>>(), "{report:#}");

    // A base backup taken on timeline 1 after the fork cannot follow
    // timeline 2: refused with the reason.
    base_backup(&a);
    assert_refused(
        &a,
        "wrong-timeline",
        &["--timeline", "2"],
        2,
        "forked from timeline 1",
    );

    // The window follows the newest timeline.
    let points = a.vault(&["--json", "points"]);
    points.expect_code(0);
    let w = &points.json()[0]["restorable"];
    assert_eq!(points.json().as_array().unwrap().len(), 2);
    assert_eq!(w["timeline"], 2, "{w:#}");
    assert!(w.get("missing").is_none(), "{w:#}");
    assert!(
        w["forks"][0]
            .as_str()
            .is_some_and(|f| f.starts_with("timeline 2 (forked from timeline 1 at")),
        "{w:#}"
    );
}

/// `restore latest --to <target name> <extra>` is refused with exit code
/// `code` and `reason` in its error, before anything is written.
#[track_caller]
fn assert_refused(a: &Archiving, target: &str, extra: &[&str], code: i32, reason: &str) {
    let to = a.target(target);
    let to_s = to.display().to_string();
    let mut args = vec!["restore", "latest"];
    args.extend_from_slice(extra);
    args.extend(["--to", to_s.as_str()]);
    let out = a.vault(&args);
    out.expect_code(code);
    assert!(out.stderr.contains(reason), "{}", out.stderr);
    assert!(!to.exists(), "a refused restore created {to:?}");
}

#[test]
fn faults_are_refused_with_the_reason_and_nothing_is_left_behind() {
    let a = Archiving::start("faults", &[]);
    let mut c = a.client();
    c.batch_execute("CREATE TABLE ticks (id int PRIMARY KEY)")
        .unwrap();
    insert_rows(&mut c, 1, 5);
    let before_backup = insert_rows(&mut c, 6, 6);
    let report = base_backup(&a);
    let mut last = String::new();
    for round in 0..3 {
        last = insert_rows(&mut c, 100 * (round + 1), 100 * (round + 1) + 5);
        a.switch_and_wait();
    }
    insert_rows(&mut c, 1000, 1000);
    a.switch_and_wait();
    assert_eq!(report["status"], "ok");

    // A time before the base backup ended.
    assert_refused(
        &a,
        "early",
        &["--time", &before_backup],
        2,
        "no base backup ended before",
    );

    // A time after the last archived commit.
    assert_refused(
        &a,
        "late",
        &["--time", "2099-01-01T00:00:00Z"],
        2,
        "after the last commit in the archive",
    );

    // A directory that is not empty.
    let full = a.target("full");
    std::fs::create_dir_all(&full).unwrap();
    std::fs::write(full.join("PG_VERSION"), "15").unwrap();
    let out = a.vault(&["restore", "latest", "--to", &full.display().to_string()]);
    out.expect_code(2);
    assert!(out.stderr.contains("is not empty"), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(full.join("PG_VERSION")).unwrap(),
        "15"
    );

    // Server binaries of another major version: refused before anything
    // is written (a stand-in that reports version 16 is enough to ask).
    let other_bin = a.dir.join("pg16/bin");
    std::fs::create_dir_all(&other_bin).unwrap();
    std::fs::write(
        other_bin.join("postgres"),
        "#!/bin/sh\necho 'postgres (PostgreSQL) 16.4'\n",
    )
    .unwrap();
    std::fs::set_permissions(
        other_bin.join("postgres"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let bin = other_bin.display().to_string();
    assert_refused(&a, "v16", &["--pg-bin", &bin], 2, "is version 16");

    // Pushing an archived segment again is fine; other content under its name is not.
    let archived: Vec<String> = std::fs::read_dir(a.repo.join("wal/faults"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.len() == 24)
        .collect();
    let mut archived = archived;
    archived.sort();
    let seg = archived[archived.len() - 2].clone();
    let fetched = a.dir.join("restores").join(&seg);
    a.vault(&[
        "wal",
        "fetch",
        &seg,
        &fetched.display().to_string(),
        "--cluster",
        "faults",
    ])
    .expect_code(0);
    a.vault(&[
        "wal",
        "push",
        &fetched.display().to_string(),
        "--cluster",
        "faults",
    ])
    .expect_code(0);
    let mut bytes = std::fs::read(&fetched).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 0xff;
    std::fs::write(&fetched, &bytes).unwrap();
    let out = a.vault(&[
        "wal",
        "push",
        &fetched.display().to_string(),
        "--cluster",
        "faults",
    ]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("different content"), "{}", out.stderr);
    // ... and under another cluster's name that is bound to this one, neither.
    let other = Archiving::start("other", &[]);
    let theirs = other.data().join("pg_wal/000000010000000000000001");
    let out = a.vault(&[
        "wal",
        "push",
        &theirs.display().to_string(),
        "--cluster",
        "faults",
    ]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("belongs to another database cluster"),
        "{}",
        out.stderr
    );
    drop(other);
    // An unreachable repository: a failure the server retries.
    let out = run_cmd(a.vault_cmd_at(&a.dir.join("nowhere")).args([
        "wal",
        "push",
        &fetched.display().to_string(),
        "--cluster",
        "faults",
    ]));
    assert_ne!(out.code, 0);
    assert_eq!(out.error_lines().len(), 1, "{}", out.stderr);
    // A file the archive does not hold: exit 1, the end of the archive.
    a.vault(&[
        "wal",
        "fetch",
        "0000000100000000000000FF",
        &fetched.display().to_string(),
        "--cluster",
        "faults",
    ])
    .expect_code(1);

    // A missing segment: points names it, verify fails the base backup,
    // and a restore past it is refused before anything is written.
    let gone = archived[archived.len() - 3].clone();
    std::fs::remove_file(a.repo.join("wal/faults").join(&gone)).unwrap();
    let out = a.vault(&["points"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains(&format!("WAL segment {gone}")),
        "{}",
        out.stderr
    );
    let out = a.vault(&["--json", "verify"]);
    out.expect_code(1);
    assert!(out.stdout.contains(&gone), "{}", out.stdout);
    assert_refused(&a, "gap", &[], 4, &gone);
    let _ = last;
}

#[test]
fn a_role_without_replication_is_refused_with_the_privilege_to_grant() {
    let a = Archiving::start("norepl", &[]);
    a.client().batch_execute("CREATE ROLE plain LOGIN").unwrap();
    let url = format!("postgres://plain@127.0.0.1:{}/postgres", a.port);
    let out = a.vault(&["backup", "--physical", "--cluster", "norepl", &url]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("REPLICATION"), "{}", out.stderr);
}

fn policy_run(a: &Archiving, policy: &std::path::Path, cmd: &[&str], now: jiff::Timestamp) -> Out {
    let mut c = common::bare_command(&a.dir.join("home"));
    c.arg("--no-progress")
        .arg("--json")
        .args(cmd)
        .arg("--policy")
        .arg(policy)
        .env("SQLVAULT_NOW", now.to_string());
    common::run(&mut c)
}

#[test]
fn a_physical_policy_takes_base_backups_keeps_the_objective_and_prunes_wal_by_the_chain() {
    let a = Archiving::start("pol", &[]);
    let mut c = a.client();
    c.batch_execute("CREATE TABLE ticks (id int PRIMARY KEY)")
        .unwrap();
    insert_rows(&mut c, 1, 5);
    let policy = a.dir.join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            r#"
[repository]
path = "{repo}"
key-file = "{key}"

[[source]]
name = "db1"
engine = "postgres"
url = "postgres://postgres@127.0.0.1:{port}/"
physical = true
cluster = "pol"

[schedule]
time-zone = "UTC"
full = {{ frequency = "daily", at = "00:00" }}
log-every-minutes = 5

[retention]
daily = 1
log-days = 1
"#,
            repo = a.repo.display(),
            key = a.key.display(),
            port = a.port,
        ),
    )
    .unwrap();
    let now = jiff::Timestamp::now();
    let out = policy_run(&a, &policy, &["run"], now);
    out.expect_code(0);
    let item = &out.json()["databases"][0];
    assert_eq!(item["kind"], "full", "{item:#}");
    assert_eq!(item["database"], "pol", "{item:#}");
    for round in 0..3 {
        insert_rows(&mut c, 10 + round * 10, 15 + round * 10);
        a.switch_and_wait();
    }

    // Ten minutes later the newest archived WAL is older than the
    // objective: the run switches WAL and sees it archived.
    insert_rows(&mut c, 100, 101);
    let later = now + jiff::SignedDuration::from_mins(10);
    let out = policy_run(&a, &policy, &["run"], later);
    out.expect_code(0);
    let item = &out.json()["databases"][0];
    assert_eq!(item["kind"], "log", "{item:#}");
    assert!(
        item["note"].as_str().unwrap().contains("switched WAL"),
        "{item:#}"
    );

    // With archiving broken, the objective is missed, loudly.
    c.batch_execute("ALTER SYSTEM SET archive_command = 'false'")
        .unwrap();
    c.batch_execute("SELECT pg_reload_conf()").unwrap();
    insert_rows(&mut c, 200, 201);
    let out = policy_run(
        &a,
        &policy,
        &["run"],
        later + jiff::SignedDuration::from_mins(10),
    );
    out.expect_code(1);
    let item = &out.json()["databases"][0];
    assert!(
        item["error"]
            .as_str()
            .unwrap()
            .contains("recovery point objective missed"),
        "{item:#}"
    );
    c.batch_execute("ALTER SYSTEM RESET archive_command")
        .unwrap();
    c.batch_execute("SELECT pg_reload_conf()").unwrap();
    a.switch_and_wait();

    // Two days on, a new base backup; then prune keeps WAL from its start.
    let two_days = now + jiff::SignedDuration::from_hours(49);
    let out = policy_run(&a, &policy, &["run"], two_days);
    out.expect_code(0);
    assert_eq!(out.json()["databases"][0]["kind"], "full");
    a.switch_and_wait();
    let before = a.vault(&["--json", "points"]).json();
    let second = before
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|p| p["created_at"].as_str().unwrap().to_string())
        .unwrap()
        .clone();
    let start_seg = &second["restorable"]["last_segment"];
    assert!(start_seg.is_string(), "{second:#}");
    let out = policy_run(&a, &policy, &["prune", "--dry-run"], two_days);
    out.expect_code(0);
    let notes = out.json()["notes"].to_string();
    assert!(
        notes.contains("WAL of cluster `pol`: would delete"),
        "{notes}"
    );
    let wal_before = std::fs::read_dir(a.repo.join("wal/pol")).unwrap().count();
    let out = policy_run(&a, &policy, &["prune"], two_days);
    out.expect_code(0);
    let wal_after = std::fs::read_dir(a.repo.join("wal/pol")).unwrap().count();
    assert!(wal_after < wal_before, "{wal_before} -> {wal_after}");
    // What is left restores, and holds every row.
    let out = a.vault(&["--json", "verify"]);
    out.expect_code(0);
    let (ids, report) = restore_ids(&a, "latest", "after-prune", &[]);
    assert!(ids.contains(&201), "{report:#}");
}

#[test]
fn one_database_at_a_point_in_time_into_a_running_server() {
    let a = Archiving::start("onedb", &[]);
    a.client()
        .batch_execute("CREATE DATABASE app; CREATE DATABASE other")
        .unwrap_or_else(|_| {
            let mut c = a.client();
            c.batch_execute("CREATE DATABASE app").unwrap();
            c.batch_execute("CREATE DATABASE other").unwrap();
        });
    let mut app = a.client_of("app");
    app.batch_execute(
        "CREATE TABLE orders (id int PRIMARY KEY, note text, at timestamptz DEFAULT now());
         INSERT INTO orders SELECT g, md5(g::text) FROM generate_series(1, 5000) g;
         CREATE SEQUENCE s; SELECT setval('s', 42);",
    )
    .unwrap();
    base_backup(&a);
    app.batch_execute("UPDATE orders SET note = 'changed' WHERE id % 7 = 0")
        .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let expected = pg_common::compare::contents(&mut app);
    let at = server_now(&a);
    std::thread::sleep(Duration::from_millis(50));
    // Sequences are not transactional: a setval before the first commit
    // after the target would be replayed. After it, it is not.
    app.batch_execute("DELETE FROM orders WHERE id > 4000")
        .unwrap();
    app.batch_execute("SELECT setval('s', 99)").unwrap();
    a.switch_and_wait();

    let url = format!("postgres://postgres@127.0.0.1:{}/app_at", a.port);
    let points = |a: &Archiving| {
        let out = a.vault(&["--json", "points"]);
        out.expect_code(0);
        out.json()
    };
    let before = points(&a);
    let out = a.vault(&[
        "--json",
        "restore",
        "latest",
        "--time",
        &at,
        "--database",
        "app",
        "--to",
        &url,
    ]);
    out.expect_code(0);
    let report = out.json();
    let got = pg_common::compare::contents(&mut a.client_of("app_at"));
    assert_eq!(got, expected, "{report:#}");
    // The report names the base backup it recovered from; the repository
    // gained no restore point (`latest` of `app` would have moved to it).
    let base = report["databases"][0]["restore_point"].as_str().unwrap();
    assert!(
        check_text(&report).contains(&format!("recovered from base backup {}", &base[..8])),
        "{report:#}"
    );
    assert_eq!(points(&a), before, "a restore added to the repository");
    let out = a.vault(&["restore", "latest", "--database", "app", "--to", "/nowhere"]);
    assert!(
        out.stderr.contains("no restore point of database `app`"),
        "a restore point of `app` appeared: {}",
        out.stderr
    );
    // The scratch cluster is gone.
    let left: Vec<_> = std::fs::read_dir(a.dir.join("home/tmp"))
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("sqlvault-pitr-")
        })
        .collect();
    assert!(left.is_empty(), "scratch clusters left: {left:?}");

    // Without --database: refused, and nothing is created.
    let out = a.vault(&[
        "restore",
        "latest",
        "--time",
        &at,
        "--to",
        &url.replace("app_at", "none"),
    ]);
    out.expect_code(2);
    assert!(out.stderr.contains("--database"), "{}", out.stderr);
}

/// SIGKILL `cmd` after `ms` milliseconds, or let it finish; its exit code
/// (-1 when killed).
fn kill_after(mut cmd: std::process::Command, ms: u64) -> i32 {
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let began = Instant::now();
    while began.elapsed() < Duration::from_millis(ms) {
        if let Some(st) = child.try_wait().unwrap() {
            return st.code().unwrap_or(-1);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = child.kill();
    child.wait().unwrap();
    -1
}

#[test]
fn killed_pushes_and_base_backups_leave_the_archive_complete() {
    let a = Archiving::start("kills", &[]);
    let mut c = a.client();
    c.batch_execute(
        "CREATE TABLE ticks (id int PRIMARY KEY);
         CREATE TABLE filler AS SELECT g, md5(g::text) AS v FROM generate_series(1, 100000) g;",
    )
    .unwrap();
    insert_rows(&mut c, 1, 5);
    a.switch_and_wait();
    c.batch_execute("CHECKPOINT").unwrap();
    a.switch_and_wait();
    let dir = a.repo.join("wal/kills");
    let mut segs: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.len() == 24)
        .collect();
    segs.sort();
    let seg = segs.last().unwrap().clone();
    let file = a.dir.join("restores").join(&seg);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    a.vault(&[
        "wal",
        "fetch",
        &seg,
        &file.display().to_string(),
        "--cluster",
        "kills",
    ])
    .expect_code(0);
    let original = std::fs::read(&file).unwrap();

    // A fetch spools the next segments in the background; the next fetch
    // takes its segment from there.
    let first = a.dir.join("restores").join("first");
    a.vault(&[
        "wal",
        "fetch",
        &segs[0],
        &first.display().to_string(),
        "--cluster",
        "kills",
        "--prefetch",
        "2",
    ])
    .expect_code(0);
    let spooled = a.dir.join("restores/.sqlvault-prefetch").join(&segs[1]);
    let began = Instant::now();
    while !spooled.exists() {
        assert!(
            began.elapsed() < Duration::from_secs(20),
            "{spooled:?} was not prefetched"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = a.dir.join("restores").join("second");
    a.vault(&[
        "wal",
        "fetch",
        &segs[1],
        &second.display().to_string(),
        "--cluster",
        "kills",
        "--prefetch",
        "0",
    ])
    .expect_code(0);
    assert!(!spooled.exists(), "the spooled segment was not taken");
    assert_eq!(std::fs::metadata(&second).unwrap().len(), 16 << 20);

    // Killed at random moments, then retried as the server would.
    let mut rng = Rng::new(7);
    for _ in 0..12 {
        std::fs::remove_file(dir.join(&seg)).unwrap();
        let mut cmd = a.vault_cmd();
        cmd.args([
            "wal",
            "push",
            &file.display().to_string(),
            "--cluster",
            "kills",
        ]);
        let code = kill_after(cmd, rng.below(60));
        if code != -1 {
            assert_eq!(code, 0);
        }
        a.vault(&[
            "wal",
            "push",
            &file.display().to_string(),
            "--cluster",
            "kills",
        ])
        .expect_code(0);
    }
    std::fs::remove_file(&file).unwrap();
    a.vault(&[
        "wal",
        "fetch",
        &seg,
        &file.display().to_string(),
        "--cluster",
        "kills",
    ])
    .expect_code(0);
    assert!(
        std::fs::read(&file).unwrap() == original,
        "the segment changed"
    );

    // A base backup killed part-way leaves the repository valid, and the
    // next one is restorable.
    for ms in [300, 900] {
        let mut cmd = a.vault_cmd();
        cmd.args(["backup", "--physical", "--cluster", "kills", &a.url()]);
        kill_after(cmd, ms);
    }
    base_backup(&a);
    let last = insert_rows(&mut c, 6, 9);
    insert_rows(&mut c, 10, 10);
    a.switch_and_wait();
    // verify --restore test-restores the newest base backup to the end of
    // the archive and to a random time inside its window.
    let out = a.vault(&["--json", "verify", "--restore"]);
    out.expect_code(0);
    let checks: Vec<String> = out.json()["databases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["check"].as_str().map(str::to_string))
        .collect();
    assert!(
        checks
            .iter()
            .any(|c| c.contains("to the end of the archive")
                && c.matches("pg_amcheck clean").count() == 2),
        "{checks:#?}"
    );
    let (ids, report) = restore_ids(&a, "latest", "after-kills", &["--time", &last]);
    assert_eq!(ids, (1..=9).collect::<Vec<i32>>(), "{report:#}");
}

#[test]
fn a_base_backup_read_from_a_standby_names_the_primary_and_restores_exactly() {
    let a = Archiving::start("stby", &["hot_standby = on"]);
    let mut c = a.client();
    c.batch_execute("CREATE TABLE ticks (id int PRIMARY KEY)")
        .unwrap();
    insert_rows(&mut c, 1, 5);
    let standby = a.start_standby();
    let target: String = c
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .unwrap()
        .get(0);
    let began = Instant::now();
    while !standby
        .client()
        .query_one(
            "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn",
            &[&target],
        )
        .unwrap()
        .get::<_, bool>(0)
    {
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "the standby did not catch up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = a.vault(&[
        "--json",
        "backup",
        "--physical",
        "--cluster",
        "stby",
        "--standby",
        &standby.url(),
        &a.url(),
    ]);
    out.expect_code(0);
    let report = out.json();
    let source = report["databases"][0]["source"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(source.contains(&format!(":{}", a.port)), "{report:#}");
    let at = insert_rows(&mut c, 6, 8);
    insert_rows(&mut c, 9, 9);
    a.switch_and_wait();
    let (ids, report) = restore_ids(&a, "latest", "from-standby", &["--time", &at]);
    assert_eq!(ids, (1..=8).collect::<Vec<i32>>(), "{report:#}");
}

#[test]
fn a_server_without_a_replication_line_in_pg_hba_is_refused_with_the_line_to_add() {
    let a = Archiving::start("nohba", &[]);
    let hba = a.data().join("pg_hba.conf");
    let text: String = std::fs::read_to_string(&hba)
        .unwrap()
        .lines()
        .filter(|l| !l.contains("replication"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&hba, text).unwrap();
    a.client().batch_execute("SELECT pg_reload_conf()").unwrap();
    let out = a.vault(&["backup", "--physical", "--cluster", "nohba", &a.url()]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("host replication"), "{}", out.stderr);
    assert_eq!(out.error_lines().len(), 1, "{}", out.stderr);
}

#[test]
fn a_server_that_does_not_archive_is_refused_and_a_stuck_archive_times_out() {
    let a = Archiving::start("noarch", &["archive_mode = off"]);
    let out = a.vault(&["backup", "--physical", "--cluster", "noarch", &a.url()]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("archive_mode = off") && out.stderr.contains("archive_mode = on"),
        "{}",
        out.stderr
    );
    drop(a);
    let a = Archiving::start("stuck", &["archive_command = 'false'"]);
    let out = a.vault(&[
        "backup",
        "--physical",
        "--cluster",
        "stuck",
        "--wal-timeout",
        "3",
        &a.url(),
    ]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("pg_stat_archiver"), "{}", out.stderr);
    assert_eq!(out.error_lines().len(), 1, "{}", out.stderr);
}

#[test]
fn tablespaces_are_restored_where_the_map_says() {
    let a = Archiving::start("spaces", &[]);
    let old = a.target("space-old");
    std::fs::create_dir_all(&old).unwrap();
    pg_common::chown_to_postgres(&old);
    let mut c = a.client();
    c.batch_execute(&format!(
        "CREATE TABLESPACE extra LOCATION '{}'",
        old.display()
    ))
    .unwrap();
    c.batch_execute(
        "CREATE TABLE ticks (id int PRIMARY KEY) TABLESPACE extra;
         CREATE TABLE filler TABLESPACE extra AS SELECT g, md5(g::text) AS v FROM generate_series(1, 20000) g;",
    )
    .unwrap();
    insert_rows(&mut c, 1, 5);
    base_backup(&a);
    let at = insert_rows(&mut c, 6, 8);
    insert_rows(&mut c, 9, 9);
    a.switch_and_wait();

    let new = a.target("space-new");
    let map = format!("{}={}", old.display(), new.display());
    let (ids, report) = restore_ids(
        &a,
        "latest",
        "spaces",
        &["--time", &at, "--tablespace-map", &map],
    );
    assert_eq!(ids, (1..=8).collect::<Vec<i32>>(), "{report:#}");
    // The copy's link points at the new place, which holds the files.
    let links: Vec<_> = std::fs::read_dir(a.target("spaces").join("pg_tblspc"))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_link(e.path()).unwrap())
        .collect();
    assert_eq!(links, vec![new.clone()], "{report:#}");
    assert!(std::fs::read_dir(&new).unwrap().count() > 0);
}
