//! Policy runs end to end: check, run (due once, never twice, even when two
//! runs overlap; auto-protection; giving up after 3 failures), prune and
//! archive, against real SQLite files and a real repository.

use crate::common;

use common::*;
use std::path::{Path, PathBuf};

struct Setup {
    s: Scratch,
    vault: Vault,
    dbs: PathBuf,
    policy: PathBuf,
}

fn setup(extra: &str, retention: &str) -> Setup {
    let s = Scratch::new();
    let vault = Vault::init(&s, s.join("repo"));
    let dbs = s.join("dbs");
    std::fs::create_dir_all(&dbs).unwrap();
    make_fixture(&dbs.join("a.db"), "wal", 1);
    make_fixture(&dbs.join("b.db"), "delete", 2);
    std::fs::write(dbs.join("notes.txt"), "not a database").unwrap();
    let policy = s.join("p.toml");
    std::fs::write(
        &policy,
        format!(
            r#"
[repository]
path = "{repo}"
password-env = "SQLVAULT_PASSWORD"

[[source]]
name = "local"
engine = "sqlite"
directory = "{dbs}"
auto-protect = true
{extra}

[schedule]
time-zone = "UTC"
full = {{ frequency = "daily", at = "00:00" }}

[retention]
{retention}
"#,
            repo = vault.repo.display(),
            dbs = dbs.display()
        ),
    )
    .unwrap();
    Setup {
        s,
        vault,
        dbs,
        policy,
    }
}

impl Setup {
    fn run(&self, args: &[&str]) -> Out {
        let mut c = self.vault.cmd();
        c.arg("--json").args(args).arg("--policy").arg(&self.policy);
        run(&mut c)
    }
}

/// An archive repository, named in the policy with `after-days = 0`.
fn with_archive(t: &Setup) -> Vault {
    let archive = Vault::init(&t.s, t.s.join("archive"));
    let mut text = std::fs::read_to_string(&t.policy).unwrap();
    text += &format!(
        "\n[archive]\npath = \"{}\"\nafter-days = 0\npassword-env = \"SQLVAULT_PASSWORD\"\n",
        archive.repo.display()
    );
    std::fs::write(&t.policy, text).unwrap();
    archive
}

fn items(out: &Out) -> Vec<serde_json::Value> {
    out.json()["databases"].as_array().unwrap().clone()
}

fn names(items: &[serde_json::Value]) -> Vec<String> {
    let mut n: Vec<String> = items
        .iter()
        .map(|i| i["database"].as_str().unwrap().to_string())
        .collect();
    n.sort();
    n
}

#[test]
fn policy_check_accepts_the_examples_and_points_at_mistakes() {
    let s = Scratch::new();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sqlite-policy.toml");
    let out = run(s.command().arg("policy").arg("check").arg(&example));
    out.expect_code(0);
    assert!(out.stdout.contains("is valid"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("full backups weekly on Sunday at 01:30 Europe/Berlin"),
        "{}",
        out.stdout
    );
    let bad = s.join("bad.toml");
    let text = std::fs::read_to_string(&example)
        .unwrap()
        .replace("daily = 7", "daily = 7\nhourly = 2");
    std::fs::write(&bad, text).unwrap();
    let out = run(s.command().arg("policy").arg("check").arg(&bad));
    out.expect_code(2);
    let line = out.error_lines()[0].to_string();
    assert!(
        line.contains("bad.toml:") && line.contains("unknown field `hourly`"),
        "{line}"
    );
}

#[test]
fn run_backs_up_what_is_due_once_and_protects_new_databases() {
    let t = setup("", "daily = 7");
    let dry = t.run(&["run", "--dry-run"]);
    dry.expect_code(0);
    assert_eq!(
        names(&items(&dry)),
        ["/dbs/a.db", "/dbs/b.db"].map(|n| t.s.path().display().to_string() + n)
    );
    assert!(t.vault.points().is_empty(), "dry run stored nothing");

    let first = t.run(&["run"]);
    first.expect_code(0);
    let done = items(&first);
    assert_eq!(names(&done), ["a", "b"]);
    assert!(
        done.iter()
            .all(|i| i["note"] == "newly protected" && i["kind"] == "full"),
        "{done:?}"
    );

    // Due once per slot: an immediate second run does nothing.
    let second = t.run(&["run"]);
    second.expect_code(0);
    assert!(items(&second).is_empty(), "{:?}", items(&second));

    // A database created later is picked up by the next run.
    make_fixture(&t.dbs.join("c.db"), "wal", 3);
    let expected = fingerprint(&t.dbs.join("c.db"));
    let third = t.run(&["run"]);
    assert_eq!(names(&items(&third)), ["c"]);
    let point = items(&third)[0]["restore_point"]
        .as_str()
        .unwrap()
        .to_string();
    let target = t.s.join("c-restored.db");
    t.vault.restore(&point, &target);
    assert_same_db(&target, &expected);
    assert_eq!(t.vault.points().len(), 3);

    let sessions = t.vault.run(&["--json", "sessions"]);
    let runs = sessions
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["command"] == "run")
        .count();
    assert_eq!(runs, 3, "dry runs are not recorded, real runs are");
}

#[test]
fn overlapping_runs_never_take_the_same_backup_twice() {
    let t = setup("", "daily = 7");
    let spawn = || {
        let mut c = t.vault.cmd();
        c.arg("--json").arg("run").arg("--policy").arg(&t.policy);
        c.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        c.spawn().unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success());
    let points = t.vault.points();
    assert_eq!(points.len(), 2, "one point per database: {points:?}");
}

#[test]
fn a_failing_database_is_retried_three_times_then_reported_without_retry() {
    let t = setup("databases = [\"/nonexistent/dir/gone.db\"]", "daily = 7");
    for attempt in 1..=3 {
        let out = t.run(&["run"]);
        out.expect_code(1);
        let failed: Vec<_> = items(&out)
            .into_iter()
            .filter(|i| i["status"] == "failed")
            .collect();
        assert_eq!(failed.len(), 1, "attempt {attempt}");
        assert!(
            failed[0]["error"]
                .as_str()
                .unwrap()
                .contains("does not exist"),
            "{failed:?}"
        );
    }
    let out = t.run(&["run"]);
    out.expect_code(1);
    let failed: Vec<_> = items(&out)
        .into_iter()
        .filter(|i| i["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap()
            .contains("not retried after 3 failed attempts"),
        "{failed:?}"
    );
    // The healthy databases were protected on the first run and are not due again.
    assert_eq!(t.vault.points().len(), 2);
}

#[test]
fn prune_keeps_what_retention_says_and_frees_the_rest() {
    let t = setup("", "daily = 1");
    let a = t.dbs.join("a.db");
    let mut ids = Vec::new();
    for round in 0..3 {
        let mut c = open(&a);
        add_fixture_rows(
            &mut c,
            10 + round,
            1000 * (round as i64 + 1),
            1000 * (round as i64 + 1) + 400,
        );
        drop(c);
        ids.push(t.vault.backup_one(&a));
    }
    let expected = fingerprint(&a);
    let dry = t.run(&["prune", "--dry-run"]);
    dry.expect_code(0);
    assert_eq!(t.vault.points().len(), 3, "dry run deletes nothing");
    let out = t.run(&["prune"]);
    out.expect_code(0);
    let left: Vec<String> = t
        .vault
        .points()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        left,
        vec![ids[2].clone()],
        "only the newest full of today stays"
    );
    let decisions = items(&out);
    assert_eq!(
        decisions
            .iter()
            .filter(|d| d["note"].as_str().unwrap().starts_with("deleted"))
            .count(),
        2
    );
    t.vault.verify(true).expect_code(0);
    let target = t.s.join("a-restored.db");
    t.vault.restore(&ids[2], &target);
    assert_same_db(&target, &expected);
}

#[test]
fn archive_moves_old_points_after_checking_the_copy() {
    let t = setup("", "daily = 7");
    let archive = with_archive(&t);
    let expected = fingerprint(&t.dbs.join("b.db"));
    t.vault.backup_one(&t.dbs.join("b.db"));
    let out = t.run(&["archive"]);
    out.expect_code(0);
    assert!(t.vault.points().is_empty(), "moved out of the primary");
    let moved = archive.points();
    assert_eq!(moved.len(), 1);
    archive.verify(true).expect_code(0);
    let target = t.s.join("b-from-archive.db");
    archive.restore(moved[0]["id"].as_str().unwrap(), &target);
    assert_same_db(&target, &expected);

    // The policy sees both repositories: `points` says where each point
    // lives, and `restore` finds an archived point without --repo.
    t.vault.backup_one(&t.dbs.join("a.db"));
    let out = run(t
        .vault
        .cmd()
        .args(["--json", "points", "--policy"])
        .arg(&t.policy));
    out.expect_code(0);
    let listed: Vec<(String, String)> = out
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["database"].as_str().unwrap().to_string(),
                p["location"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![
            ("b".to_string(), "archive".to_string()),
            ("a".to_string(), "primary".to_string())
        ]
    );
    let again = t.s.join("b-by-policy.db");
    let out = run(t
        .vault
        .cmd()
        .args(["restore", &moved[0]["id"].as_str().unwrap()[..8], "--to"])
        .arg(&again)
        .arg("--policy")
        .arg(&t.policy));
    out.expect_code(0);
    assert_same_db(&again, &expected);
    let out = run(t
        .vault
        .cmd()
        .args(["restore", "ffffffff", "--to"])
        .arg(t.s.join("none.db"))
        .arg("--policy")
        .arg(&t.policy));
    out.expect_code(2);
}

#[test]
fn backup_with_a_policy_takes_ad_hoc_backups_outside_the_schedule() {
    let t = setup("", "daily = 7");
    // A differential needs a full first.
    let out = t.run(&["backup", "--type", "differential", "--database", "a"]);
    out.expect_code(1);
    assert!(
        out.stdout.contains("needs a full one first"),
        "{}",
        out.stdout
    );
    // All of the policy's databases, full by default, into its repository.
    let out = t.run(&["backup"]);
    out.expect_code(0);
    let done = items(&out);
    assert_eq!(names(&done), ["a", "b"]);
    assert!(done.iter().all(|i| i["kind"] == "full"), "{done:?}");
    // One database by name, as a differential that depends on its full.
    let out = t.run(&["backup", "--type", "differential", "--database", "a"]);
    out.expect_code(0);
    let one = items(&out);
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["kind"], "differential");
    let points = t.vault.points();
    assert_eq!(points.len(), 3);
    // The same backup is not due by the schedule's rules any more: ad hoc
    // backups count, so `run` takes nothing today.
    let out = t.run(&["run"]);
    out.expect_code(0);
    assert!(items(&out).is_empty(), "{:?}", items(&out));
    // A name the policy does not protect is a usage error naming the ones it does.
    let out = t.run(&["backup", "--database", "nope"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("no database named `nope`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("a.db"), "{}", out.stderr);
    // --type without --policy is refused by the command line.
    run(t
        .vault
        .cmd()
        .args(["backup", "--type", "full"])
        .arg(t.dbs.join("a.db")))
    .expect_code(2);
    let target = t.s.join("a-restored.db");
    let id = one[0]["restore_point"].as_str().unwrap();
    t.vault.restore(id, &target);
    assert_same_db(&target, &fingerprint(&t.dbs.join("a.db")));
}

#[test]
fn an_archive_run_killed_before_removing_the_original_copies_no_point_twice() {
    let t = setup("", "daily = 7");
    let archive = with_archive(&t);
    let expected = fingerprint(&t.dbs.join("b.db"));
    t.vault.backup_one(&t.dbs.join("b.db"));
    // The primary as it was when the copy's manifest had been written and
    // the original not yet removed.
    let saved = t.s.join("primary-before");
    let cp = |from: &std::path::Path, to: &std::path::Path| {
        let ok = std::process::Command::new("cp")
            .arg("-a")
            .arg(from)
            .arg(to)
            .status()
            .unwrap()
            .success();
        assert!(ok, "cp -a {from:?} {to:?}");
    };
    cp(&t.vault.repo, &saved);
    t.run(&["archive"]).expect_code(0);
    assert_eq!(archive.points().len(), 1);
    std::fs::remove_dir_all(&t.vault.repo).unwrap();
    cp(&saved, &t.vault.repo);

    let out = t.run(&["archive"]);
    out.expect_code(0);
    assert!(t.vault.points().is_empty(), "moved out of the primary");
    let moved = archive.points();
    assert_eq!(moved.len(), 1, "copied twice: {moved:#?}");
    let target = t.s.join("b-from-archive.db");
    archive.restore(moved[0]["id"].as_str().unwrap(), &target);
    assert_same_db(&target, &expected);
}

#[test]
fn an_auto_protected_database_that_goes_bad_fails_every_run_until_excluded() {
    let t = setup("", "daily = 7");
    for n in ["c", "d", "e"] {
        make_fixture(&t.dbs.join(format!("{n}.db")), "delete", 3);
    }
    t.run(&["run"]).expect_code(0);
    assert_eq!(t.vault.points().len(), 5);
    // c: its header overwritten; d: emptied; e: replaced by a directory.
    let c = t.dbs.join("c.db");
    let mut bytes = std::fs::read(&c).unwrap();
    bytes[..16].copy_from_slice(b"garbage garbage!");
    std::fs::write(&c, bytes).unwrap();
    std::fs::write(t.dbs.join("d.db"), b"").unwrap();
    std::fs::remove_file(t.dbs.join("e.db")).unwrap();
    std::fs::create_dir(t.dbs.join("e.db")).unwrap();
    for round in 0..2 {
        let out = t.run(&["run"]);
        out.expect_code(1);
        let failed: Vec<String> = items(&out)
            .iter()
            .filter(|i| i["status"] == "failed")
            .map(|i| i["error"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(failed.len(), 3, "round {round}: {failed:?}");
        for (name, what) in [("c.db", "header"), ("d.db", "empty"), ("e.db", "directory")] {
            assert!(
                failed.iter().any(|e| e.contains(name) && e.contains(what)),
                "round {round}: {name} not failed as {what}: {failed:?}"
            );
        }
    }
    // Excluded, they are no longer protected; their points stay.
    let text = std::fs::read_to_string(&t.policy).unwrap().replace(
        "auto-protect = true",
        "auto-protect = true\nexclude = [\"c.db\", \"d.db\", \"e.db\"]",
    );
    std::fs::write(&t.policy, text).unwrap();
    t.run(&["run"]).expect_code(0);
    assert_eq!(t.vault.points().len(), 5);
}
