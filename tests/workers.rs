//! Workers through Azure Queue Storage (a private Azurite, Blob and Queue):
//! dispatched runs back up every database exactly once across several
//! workers, a killed worker's job is finished by another, failing jobs are
//! poisoned after their tries, archive and restore jobs, SIGTERM, and the
//! bad input a queue can bring.

mod azurite;
#[path = "azurite/cli.rs"]
mod azurite_cli;
mod common;
mod fleet;
mod pg_common;

use common::*;
use fleet::*;
use pg_common::compare::{assert_same_contents, contents};
use pg_common::{PG_PASSWORD, cluster};
use sqlvault::worker::queue::Which;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

fn items(out: &Out) -> Vec<serde_json::Value> {
    out.json()["databases"].as_array().unwrap().clone()
}

#[test]
fn a_dispatched_run_backs_up_each_database_once_across_three_workers() {
    let mut f = Fleet::new();
    let dbs = small_databases(&f.s.join("sqlite"), 20);
    let pg = cluster();
    let names = ["wk_app", "wk_shop"];
    for (i, n) in names.iter().enumerate() {
        pg.create_db(n);
        pg.client(n)
            .batch_execute(&format!(
                "CREATE TABLE items(id serial PRIMARY KEY, v text);
                 INSERT INTO items(v) SELECT 'item ' || g FROM generate_series(1, {}) g;",
                500 + i * 100
            ))
            .unwrap();
    }
    let policy = f.policy(
        "p.toml",
        &format!(
            r#"
[[source]]
name = "files"
engine = "sqlite"
databases = {}

[[source]]
name = "pg"
engine = "postgres"
url = "{}"
databases = ["wk_app", "wk_shop"]
password-env = "WK_PG_PW"
"#,
            toml_list(&dbs),
            pg.url("")
        ),
    );
    let p = policy.to_str().unwrap();
    let q = f.queue_url();
    // No worker yet: the jobs wait on the queue, as they travel.
    let mut c = f.dispatcher();
    c.args([
        "--json",
        "run",
        "--policy",
        p,
        "--dispatch",
        &q,
        "--no-wait",
    ]);
    let out = run(&mut c);
    out.expect_code(0);
    assert_eq!(items(&out).len(), 22, "{}", out.stdout);
    let texts = f.messages(Which::Jobs);
    assert_eq!(texts.len(), 22);
    assert_no_secrets(&texts, &[PG_PASSWORD]);

    // The same run again, waiting: its jobs have the ids of the queued
    // ones (the first full of each database), so each is done once. The
    // workers start once it has queued them all: a database a worker had
    // already backed up would not be due, and not be in this run's report.
    let mut c = f.dispatcher();
    c.env("WK_PG_PW", PG_PASSWORD).args([
        "--json",
        "run",
        "--policy",
        p,
        "--dispatch",
        &q,
        "--wait-timeout",
        "300",
    ]);
    let waiting = spawn(c);
    let queued = std::time::Instant::now();
    while f.queue().count(Which::Jobs).unwrap() < 44 {
        assert!(queued.elapsed() < MINUTE, "the second run queued no jobs");
        std::thread::sleep(Duration::from_millis(100));
    }
    let env = [("WK_PG_PW", PG_PASSWORD)];
    for _ in 0..3 {
        f.worker(&env, &["--visibility-timeout", "10"]);
    }
    let out = Out::from_output(waiting.wait_with_output().unwrap());
    out.expect_code(0);
    let got = items(&out);
    assert_eq!(got.len(), 22, "{}", out.stdout);
    for i in &got {
        assert_eq!(i["status"], "ok", "{i}");
        assert!(i["worker"]["host"].is_string(), "no worker named: {i}");
        assert_eq!(i["worker"]["binary_sha256"].as_str().unwrap().len(), 64);
    }
    let points = f.vault.points();
    assert_eq!(points.len(), 22, "every database exactly once: {points:?}");
    let per_db: HashSet<String> = points
        .iter()
        .map(|p| p["database"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(per_db.len(), 22);
    let by_name: HashMap<String, String> = points
        .iter()
        .map(|p| {
            (
                p["database"].as_str().unwrap().to_string(),
                p["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();

    // Every point restores identical.
    for db in &dbs {
        let stem = db.file_stem().unwrap().to_str().unwrap();
        let to = f.s.join(&format!("restored-{stem}.db"));
        f.vault.restore(&by_name[stem], &to);
        assert_same_db(&to, &fingerprint(db));
    }
    for n in names {
        let copy = format!("{n}_copy");
        pg.drop_db(&copy);
        let mut c = f.vault.cmd();
        pg.env(&mut c);
        run(c.args(["restore", &by_name[n], "--to", &pg.url(&copy)])).expect_code(0);
        assert_same_contents(
            &contents(&mut pg.client(n)),
            &contents(&mut pg.client(&copy)),
        );
        pg.drop_db(&copy);
    }
    // SIGTERM: each worker stops and says so, exit code 0.
    for w in f.workers().iter_mut() {
        w.signal(libc::SIGTERM);
        assert_eq!(w.wait_exit(MINUTE), 0, "{}", w.log_text());
        assert!(w.log_text().contains("stopped"), "{}", w.log_text());
    }
    assert!(f.messages(Which::Jobs).is_empty());
    for n in names {
        pg.drop_db(n);
    }
}

#[test]
fn a_killed_workers_job_is_finished_by_another_and_done_once() {
    let mut f = Fleet::new();
    let dbs = small_databases(&f.s.join("sqlite"), 1);
    let policy = f.sqlite_policy(&dbs, "");
    let q = f.queue_url();
    let slow = [("SQLVAULT_TEST_FAULT", "slow-job")];
    f.worker(&slow, &["--visibility-timeout", "4"]);
    let dispatcher = f
        .dispatcher()
        .args([
            "--json",
            "backup",
            "--policy",
            policy.to_str().unwrap(),
            "--dispatch",
            &q,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let first = &mut f.workers()[0];
    first.wait_for("took job", MINUTE);
    first.signal(libc::SIGKILL);
    first.wait_exit(MINUTE);
    let second = f.spawn_worker(&q, &[], &["--visibility-timeout", "4"]);
    let pid = second.pid();
    f.workers().push(second);
    let out = Out::from_output(dispatcher.wait_with_output().unwrap());
    out.expect_code(0);
    let got = items(&out);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["status"], "ok");
    assert_eq!(got[0]["worker"]["pid"], pid, "{}", out.stdout);
    assert_eq!(f.vault.points().len(), 1);
    let log = f.workers()[1].log_text();
    assert!(log.contains("try 2"), "the second worker's try: {log}");
}

#[test]
fn a_job_that_keeps_failing_is_poisoned_and_the_others_succeed() {
    let mut f = Fleet::new();
    let mut dbs = small_databases(&f.s.join("sqlite"), 2);
    dbs.push(f.s.join("sqlite/missing.db"));
    let policy = f.sqlite_policy(
        &dbs,
        "[options]
max-attempts = 2
",
    );
    f.worker(&[], &[]);
    let q = f.queue_url();
    let out = f.dispatch(&[
        "--json",
        "backup",
        "--policy",
        policy.to_str().unwrap(),
        "--dispatch",
        &q,
    ]);
    out.expect_code(1);
    let got = items(&out);
    assert_eq!(got.len(), 3, "{}", out.stdout);
    assert_eq!(got.iter().filter(|i| i["status"] == "ok").count(), 2);
    let bad = got.iter().find(|i| i["status"] == "failed").unwrap();
    assert!(
        bad["error"].as_str().unwrap().contains("does not exist"),
        "{bad}"
    );
    assert!(bad["note"].as_str().unwrap().contains("poison"), "{bad}");
    let status = f.status();
    assert_eq!(status["poisoned_count"], 1, "{status}");
    assert!(
        status["poisoned"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("does not exist")
    );
    assert_eq!(status["messages"], 0, "{status}");
    assert!(
        !status["workers"].as_array().unwrap().is_empty(),
        "{status}"
    );
    let poisoned = f.messages(Which::Poison);
    assert_eq!(poisoned.len(), 1);
    let entry: serde_json::Value = serde_json::from_str(&poisoned[0]).unwrap();
    assert_eq!(entry["job"]["failures"], 2, "{entry}");
    assert_eq!(f.vault.points().len(), 2);
}

#[test]
fn archive_and_restore_jobs_run_on_workers() {
    let mut f = Fleet::new();
    let dbs = small_databases(&f.s.join("sqlite"), 1);
    let archive = f.az.url("archive");
    let arch_vault = azurite_cli::AzVault::new(&f.s, &f.az, "archive");
    arch_vault.run(&["init"]).expect_code(0);
    let policy = f.policy(
        "p.toml",
        &format!(
            "[archive]\npath = \"{archive}\"\nafter-days = 1\npassword-env = \"ARCH_PW\"\n\n[[source]]\nname = \"files\"\nengine = \"sqlite\"\ndatabases = {}\n",
            toml_list(&dbs)
        ),
    );
    let p = policy.to_str().unwrap();
    f.worker(&[("ARCH_PW", PASSWORD)], &[]);
    let q = f.queue_url();
    f.dispatch(&["--json", "backup", "--policy", p, "--dispatch", &q])
        .expect_code(0);
    let point = f.vault.points()[0]["id"].as_str().unwrap().to_string();

    // Restore through a worker, checked there and here.
    let to = f.s.join("restored.db");
    let out = f.dispatch(&[
        "--json",
        "restore",
        &point,
        "--policy",
        p,
        "--to",
        to.to_str().unwrap(),
        "--dispatch",
        &q,
    ]);
    out.expect_code(0);
    let item = &items(&out)[0];
    assert!(
        item["check"].as_str().unwrap().starts_with("full"),
        "{item}"
    );
    assert!(item["worker"]["pid"].is_number(), "{item}");
    assert_same_db(&to, &fingerprint(&dbs[0]));

    // Archive through a worker, three days on.
    let later = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(72)).to_string();
    let mut c = f.dispatcher();
    c.env("SQLVAULT_NOW", &later)
        .args(["--json", "archive", "--policy", p, "--dispatch", &q]);
    let out = run(&mut c);
    out.expect_code(0);
    assert!(
        items(&out)[0]["note"].as_str().unwrap().contains("moved"),
        "{}",
        out.stdout
    );
    assert!(f.vault.points().is_empty());
    assert_eq!(arch_vault.points().len(), 1);
    assert_no_secrets(&f.messages(Which::Jobs), &[]);
}

#[test]
fn bad_input_from_queues_and_messages() {
    let mut f = Fleet::new();
    // An endpoint nobody listens on: one clear line, storage error (5).
    let mut c = f.vault.cmd();
    c.env("SQLVAULT_AZURE_RETRY_SECONDS", "1").args([
        "worker",
        "--queue",
        "azure-queue://devstoreaccount1/jobs?endpoint=http://127.0.0.1:9/devstoreaccount1",
    ]);
    let out = run(&mut c);
    out.expect_code(5);
    assert!(
        out.error_lines()[0].contains("cannot reach the queue service"),
        "{}",
        out.stderr
    );
    // Wrong credentials: auth error (3), no key in the message.
    let wrong =
        f.az.connection_string()
            .replace(azurite::KEY, "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk=");
    let mut c = f.vault.cmd();
    c.env("AZURE_STORAGE_CONNECTION_STRING", &wrong)
        .args(["worker", "--queue", &f.queue_url()]);
    let out = run(&mut c);
    out.expect_code(3);
    assert!(out.error_lines()[0].contains("denied"), "{}", out.stderr);
    assert!(!out.stderr.contains("d3Jvbmcta2V5"), "{}", out.stderr);
    // A bad queue URL is a usage error.
    let out = f.vault.run(&[
        "worker",
        "--queue",
        "azure-queue://devstoreaccount1/Bad_Name",
    ]);
    out.expect_code(2);

    // A queue that does not exist: the dispatcher says how to get one.
    let dbs = small_databases(&f.s.join("sqlite"), 1);
    let policy = f.sqlite_policy(&dbs, "");
    let p = policy.to_str().unwrap();
    let nosuch = f.az.queue_url("nosuch");
    let out = f.dispatch(&["--json", "backup", "--policy", p, "--dispatch", &nosuch]);
    out.expect_code(1);
    let item = &items(&out)[0];
    assert!(
        item["error"].as_str().unwrap().contains("does not exist"),
        "{item}"
    );
    assert!(
        item["hint"].as_str().unwrap().contains("sqlvault worker"),
        "{item}"
    );

    // A worker creates its queues; messages put there by hand that are not
    // jobs go to the poison queue, and the worker carries on.
    let w = f.worker(&[], &[]);
    w.wait_for("started", MINUTE);
    let queue = f.queue();
    queue.send(Which::Jobs, "{not json", None, None).unwrap();
    queue
        .send(
            Which::Jobs,
            r#"{"format": 1, "id": "x", "task": {"kind": "explode"}}"#,
            None,
            None,
        )
        .unwrap();
    // A job of a newer format is left for a newer worker.
    queue
        .send(Which::Jobs, r#"{"format": 99, "id": "future"}"#, None, None)
        .unwrap();
    f.dispatch(&[
        "--json",
        "backup",
        "--policy",
        p,
        "--dispatch",
        &f.queue_url(),
    ])
    .expect_code(0);
    let status = f.status();
    assert_eq!(status["poisoned_count"], 2, "{status}");
    let reasons: Vec<&str> = status["poisoned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.iter().all(|r| r.starts_with("malformed message")),
        "{reasons:?}"
    );
    assert!(f.workers()[0].log_text().contains("newer than this worker"));
    assert_eq!(status["messages"], 1, "the newer job stays: {status}");

    // A source whose URL holds a password is not dispatched.
    let policy = f.policy(
        "pw.toml",
        "[[source]]\nname = \"pg\"\nengine = \"postgres\"\nurl = \"postgres://u:hunter2-secret@127.0.0.1:9/\"\ndatabases = [\"app\"]\n",
    );
    let out = f.dispatch(&[
        "--json",
        "backup",
        "--policy",
        policy.to_str().unwrap(),
        "--dispatch",
        &f.queue_url(),
    ]);
    out.expect_code(1);
    let item = &items(&out)[0];
    assert!(
        item["error"].as_str().unwrap().contains("holds a password"),
        "{item}"
    );
    assert!(!out.stdout.contains("hunter2-secret") && !out.stderr.contains("hunter2-secret"));
}

#[test]
fn azurite_honours_the_visibility_timeout_and_the_heartbeat() {
    let f = Fleet::new();
    let q = f.queue();
    q.ensure_exists().unwrap();
    q.send(Which::Jobs, "one", None, None).unwrap();
    let mut m = q
        .receive(Duration::from_secs(2))
        .unwrap()
        .expect("a message");
    assert_eq!(m.dequeue_count, 1);
    assert!(
        q.receive(Duration::from_secs(2)).unwrap().is_none(),
        "hidden while taken"
    );
    // Extending keeps it hidden past the first timeout.
    q.update(&mut m, Duration::from_secs(5), None).unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        q.receive(Duration::from_secs(2)).unwrap().is_none(),
        "extended"
    );
    // Not extended again: it comes back, taken a second time.
    std::thread::sleep(Duration::from_secs(3));
    let again = q
        .receive(Duration::from_secs(2))
        .unwrap()
        .expect("visible again");
    assert_eq!(again.text, "one");
    assert_eq!(again.dequeue_count, 2);
    // The first taker's receipt is stale now: it cannot delete the message.
    assert!(q.delete(&m).is_err());
    q.delete(&again).unwrap();
    assert_eq!(q.count(Which::Jobs).unwrap(), 0);
}

#[test]
fn sigterm_finishes_the_running_job_then_exits() {
    let mut f = Fleet::new();
    let dbs = small_databases(&f.s.join("sqlite"), 2);
    let policy = f.sqlite_policy(&dbs, "");
    f.queue_backups(&policy);
    let w = f.worker(&[("SQLVAULT_TEST_FAULT", "slow-job")], &[]);
    w.wait_for("took job", MINUTE);
    w.signal(libc::SIGTERM);
    assert_eq!(w.wait_exit(MINUTE), 0, "{}", w.log_text());
    let log = w.log_text();
    assert_eq!(
        log.matches(" done").count(),
        1,
        "finished the one job: {log}"
    );
    assert_eq!(f.vault.points().len(), 1);
    // The other job is still queued for the next worker.
    assert_eq!(f.queue().count(Which::Jobs).unwrap(), 1);
}

#[test]
fn a_second_sigterm_releases_the_running_job_at_once() {
    let mut f = Fleet::new();
    let dbs = small_databases(&f.s.join("sqlite"), 1);
    let policy = f.sqlite_policy(&dbs, "");
    f.queue_backups(&policy);
    let w = f.worker(
        &[("SQLVAULT_TEST_FAULT", "slow-job")],
        &["--visibility-timeout", "600"],
    );
    w.wait_for("took job", MINUTE);
    w.signal(libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(300));
    w.signal(libc::SIGTERM);
    assert_eq!(w.wait_exit(MINUTE), 0, "{}", w.log_text());
    assert!(w.log_text().contains("released"), "{}", w.log_text());
    // Visible again at once, though its visibility timeout was 10 minutes.
    let m = f.queue().receive(Duration::from_secs(5)).unwrap();
    let m = m.expect("the released job is back on the queue");
    // A release is neither a failure nor a lost worker.
    let job: serde_json::Value = serde_json::from_str(&m.text).unwrap();
    assert_eq!(
        (job["releases"].as_u64(), job["failures"].as_u64()),
        (Some(1), Some(0))
    );
    assert!(f.vault.points().is_empty());
}

#[test]
fn a_worker_whose_log_reader_went_away_keeps_working() {
    let f = Fleet::new();
    let dbs = small_databases(&f.s.join("sqlite"), 2);
    let policy = f.sqlite_policy(&dbs, "");
    // Its log goes to a pipe nobody reads any more (a closed journal
    // reader, `worker 2>&1 | head`): it must neither die nor stop working.
    let mut c = f.vault.cmd();
    c.args(["worker", "--queue", &f.queue_url(), "--idle-max", "1"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    // It logs as it starts: by now a worker killed by SIGPIPE is gone.
    std::thread::sleep(std::time::Duration::from_secs(2));
    if let Some(st) = child.try_wait().unwrap() {
        panic!("the worker ended as it started: {st:?}");
    }
    let q = f.queue_url();
    let out = f.dispatch(&[
        "--json",
        "backup",
        "--policy",
        policy.to_str().unwrap(),
        "--dispatch",
        &q,
    ]);
    out.expect_code(0);
    assert_eq!(items(&out).len(), 2, "{}", out.stdout);
    assert_eq!(f.vault.points().len(), 2);
    // Still serving (it would have died of SIGPIPE at its first log line).
    let status = child.try_wait().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(status.is_none(), "the worker ended: {status:?}");
}
