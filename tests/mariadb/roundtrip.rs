//! MariaDB backup and restore on the test binary's private server: a
//! database with one of every object and value a logical backup commonly
//! gets wrong comes back identical (the `mariadb-dump --no-data` of source
//! and copy equal but for AUTO_INCREMENT counters, and every column of
//! every table, invisible ones included, equal byte for byte); a large
//! table is read in key ranges by several connections; an existing target
//! is refused without `--clean`; bad input fails clearly.

use crate::common;
use crate::mariadb_common;

use common::{Out, Scratch, Vault, point_of};
use mariadb_common::{MARIADB_PASSWORD, assert_same_contents, encode, quote_ident, server};
use mysql::prelude::Queryable;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The vault's command with the password in `MYSQL_PWD`.
fn cmd(v: &Vault) -> Command {
    let mut c = v.cmd();
    server().env(&mut c);
    c.env("MYSQL_PWD", MARIADB_PASSWORD);
    c
}

fn run(c: &mut Command) -> Out {
    common::run_hiding(c, MARIADB_PASSWORD)
}

/// `mariadb://root@127.0.0.1:PORT/db`.
fn url(db: &str) -> String {
    format!("{}{}", server().url(), encode(db))
}

/// Run a script with DELIMITER blocks through the `mariadb` client.
fn source(db: &str, script: &str) {
    let s = server();
    let mut child = Command::new("mariadb")
        .args(["--no-defaults", "--protocol=tcp", "--host=127.0.0.1"])
        .arg(format!("--port={}", s.port))
        .args([
            "--user=root",
            "--default-character-set=utf8mb4",
            "--database",
        ])
        .arg(db)
        .env("MYSQL_PWD", MARIADB_PASSWORD)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the mariadb client (scripts/test-deps installs it)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "the script failed on {db}");
}

fn assert_same(source: &str, copy: &str) {
    let s = server();
    assert_eq!(s.schema_dump(source), s.schema_dump(copy), "schemas differ");
    assert_same_contents(&s.contents(source), &s.contents(copy));
}

#[test]
fn every_kind_of_object_and_value_comes_back_identical() {
    let s = server();
    let src = "fidelity `ü` db";
    s.exec(
        None,
        &format!(
            "DROP DATABASE IF EXISTS {q}; CREATE DATABASE {q} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
            q = quote_ident(src)
        ),
    );
    source(src, include_str!("../fixtures/mariadb_fidelity.sql"));

    let scratch = Scratch::new();
    let v = Vault::init(&scratch, scratch.join("repo"));
    let out = run(cmd(&v)
        .args(["--json", "backup", "--jobs", "3"])
        .arg(url(src)));
    out.expect_code(0);
    let item = &out.json()["databases"][0];
    assert_eq!(item["database"], src);
    assert!(
        item["note"].as_str().is_some_and(|n| n.contains("legacy")),
        "the Aria table is reported: {item}"
    );
    let point = point_of(item);

    // `show` names every table with its rows, and the binary log position.
    let shown = run(v.cmd().args(["--json", "show", &point]));
    shown.expect_code(0);
    let shown = shown.json();
    let text = shown.to_string();
    assert!(text.contains("binlog"), "{text}");
    for t in [
        "cust omer",
        "ordér`s",
        "blobs",
        "places",
        "prices",
        "empty table",
    ] {
        assert!(
            text.contains(&serde_json::to_string(t).unwrap()),
            "{t} not in {text}"
        );
    }

    let copy = "fidelity copy";
    s.exec(
        None,
        &format!("DROP DATABASE IF EXISTS {}", quote_ident(copy)),
    );
    let out = run(cmd(&v)
        .args(["--json", "restore", &point, "--jobs", "3", "--to"])
        .arg(url(copy)));
    out.expect_code(0);
    let check = out.json()["databases"][0]["check"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(check, "full: 9 fingerprints match");
    assert_same(src, copy);

    // The copy works: triggers fire, routines run, AUTO_INCREMENT goes on
    // after the highest key, the sequence never hands out a used value.
    let mut c = s.client();
    c.query_drop(format!("USE {}", quote_ident(copy))).unwrap();
    c.query_drop("INSERT INTO `cust omer` (name) VALUES ('after restore')")
        .unwrap();
    let id: u64 = c.query_first("SELECT LAST_INSERT_ID()").unwrap().unwrap();
    assert_eq!(id, 1002);
    let audit: u64 = c
        .query_first("SELECT COUNT(*) FROM articles WHERE id = 101002")
        .unwrap()
        .unwrap();
    assert_eq!(audit, 1, "the trigger fires in the copy");
    let next: i64 = c
        .query_first("SELECT NEXTVAL(invoice_no)")
        .unwrap()
        .unwrap();
    assert!(next > 5005, "{next}");
    let gross: Option<String> = c
        .query_first("SELECT CAST(`with tax`(10) AS CHAR)")
        .unwrap();
    assert_eq!(gross.as_deref(), Some("12.0000"));

    // An existing, non-empty target is refused, then replaced with --clean.
    let out = run(cmd(&v).args(["restore", &point, "--to"]).arg(url(copy)));
    out.expect_code(2);
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
    assert!(out.stderr.contains("--clean"), "{}", out.stderr);
    run(cmd(&v)
        .args(["restore", &point, "--clean", "--to"])
        .arg(url(copy)))
    .expect_code(0);
    assert_same(src, copy);

    // One table into an existing database, with its triggers; refused
    // when it exists, replaced with --clean.
    let one = "one table";
    s.create_db(one, "utf8mb4");
    for t in ["cust omer", "ordér`s", "cust omer"] {
        let out = run(cmd(&v)
            .args(["restore", &point, "--clean", "--table", t, "--to"])
            .arg(url(one)));
        out.expect_code(0);
        assert!(
            out.stdout.contains("full: 1 fingerprints match"),
            "{}",
            out.stdout
        );
    }
    let out = run(cmd(&v)
        .args(["restore", &point, "--table", "cust omer", "--to"])
        .arg(url(one)));
    out.expect_code(2);
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
    let (whole, part) = (s.contents(src), s.contents(one));
    assert_eq!(part.len(), 2);
    for (t, rows) in &part {
        assert_eq!(rows, &whole[t], "table `{t}` differs");
    }
    let mut c = s.client();
    let triggers: Vec<String> = c
        .exec(
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY 1",
            (one,),
        )
        .unwrap();
    assert_eq!(triggers, ["customer_audit", "orders touch"]);
    s.exec(
        None,
        &format!(
            "DROP DATABASE {}; DROP DATABASE {}; DROP DATABASE {}",
            quote_ident(src),
            quote_ident(copy),
            quote_ident(one)
        ),
    );
}

#[test]
fn a_large_table_is_read_in_key_ranges_by_several_connections() {
    let s = server();
    let src = "big_src";
    s.create_db(src, "utf8mb4");
    s.exec(
        Some(src),
        "CREATE TABLE big (id BIGINT PRIMARY KEY, a CHAR(32), b VARCHAR(80), KEY (a));
         INSERT INTO big SELECT seq, MD5(seq), CONCAT(MD5(seq * 7), MD5(seq * 11)) FROM seq_1_to_700000;
         CREATE TABLE small (id INT); INSERT INTO small VALUES (1), (2);
         ANALYZE TABLE big;",
    );
    let scratch = Scratch::new();
    let v = Vault::init(&scratch, scratch.join("repo"));
    let out = run(cmd(&v)
        .args(["--json", "backup", "--jobs", "3"])
        .arg(url(src)));
    out.expect_code(0);
    let point = point_of(&out.json()["databases"][0]);
    let shown = run(v.cmd().args(["--json", "show", &point]));
    let text = shown.json().to_string();
    assert!(text.contains("data/big#2"), "three parts of `big`: {text}");
    assert!(!text.contains("data/small#"), "{text}");

    let copy = "big_copy";
    s.exec(None, "DROP DATABASE IF EXISTS big_copy");
    run(cmd(&v)
        .args(["restore", &point, "--jobs", "2", "--to"])
        .arg(url(copy)))
    .expect_code(0);
    assert_same(src, copy);
    s.exec(None, "DROP DATABASE big_src; DROP DATABASE big_copy");
}

#[test]
fn bad_input_fails_with_one_clear_line_and_leaves_nothing() {
    let s = server();
    s.create_db("bad_src", "utf8mb4");
    s.exec(
        Some("bad_src"),
        "CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1);",
    );
    let scratch = Scratch::new();
    let v = Vault::init(&scratch, scratch.join("repo"));

    // A database that does not exist.
    let out = run(cmd(&v).arg("backup").arg(url("no_such_db")));
    out.expect_code(1);
    assert!(out.stderr.contains("`no_such_db`"), "{}", out.stderr);

    // A wrong password: the backup's database fails (exit 1, as a failed
    // database of a run does); a restore exits 3, below.
    let mut wrong = cmd(&v);
    wrong.env("MYSQL_PWD", "not-the-password");
    let out = run(wrong.arg("backup").arg(url("bad_src")));
    out.expect_code(1);
    assert!(out.stderr.contains("refused the login"), "{}", out.stderr);
    assert!(!out.stderr.contains("not-the-password"), "{}", out.stderr);

    // Nothing listening: a clear error well within the connect timeout.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let t0 = Instant::now();
    let out = run(cmd(&v)
        .arg("backup")
        .arg(format!("mariadb://root@127.0.0.1:{port}/bad_src")));
    out.expect_code(1);
    assert!(out.stderr.contains("connection refused"), "{}", out.stderr);
    assert!(t0.elapsed() < Duration::from_secs(15));

    // Another backup holds the backup lock: ours gives up after
    // --lock-wait-timeout, naming the way out.
    let mut holder = s.client();
    holder.query_drop("BACKUP STAGE START").unwrap();
    let t0 = Instant::now();
    let out = run(cmd(&v)
        .args(["backup", "--jobs", "2", "--lock-wait-timeout", "1"])
        .arg(url("bad_src")));
    holder.query_drop("BACKUP STAGE END").unwrap();
    out.expect_code(1);
    assert!(out.stderr.contains("within 1s"), "{}", out.stderr);
    assert!(out.stderr.contains("--lock-wait-timeout"), "{}", out.stderr);
    assert!(t0.elapsed() < Duration::from_secs(20));

    // A dump tool older than the server may not know its syntax: refused,
    // naming both versions' series and where to point sqlvault instead.
    let old_tools = scratch.join("old-tools");
    std::fs::create_dir(&old_tools).unwrap();
    let fake = old_tools.join("mariadb-dump");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'mariadb-dump  Ver 10.19 Distrib 10.5.1-MariaDB, for debian-linux-gnu (x86_64)'\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let client = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v mariadb"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    std::os::unix::fs::symlink(client.trim(), old_tools.join("mariadb")).unwrap();
    let out = run(cmd(&v)
        .env("SQLVAULT_MARIADB_BINDIR", &old_tools)
        .arg("backup")
        .arg(url("bad_src")));
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("10.5.1-MariaDB is older than the MariaDB 10.11 server"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("SQLVAULT_MARIADB_BINDIR"),
        "{}",
        out.stderr
    );

    // A point restored to a target of another engine is refused.
    let out = run(cmd(&v).args(["--json", "backup"]).arg(url("bad_src")));
    out.expect_code(0);
    let point = point_of(&out.json()["databases"][0]);
    let out = run(cmd(&v)
        .args(["restore", &point, "--to"])
        .arg(scratch.join("x.db")));
    out.expect_code(2);
    assert!(out.stderr.contains("mariadb://"), "{}", out.stderr);

    // A restore with a wrong password creates nothing.
    let mut wrong = cmd(&v);
    wrong.env("MYSQL_PWD", "not-the-password");
    let out = run(wrong.args(["restore", &point, "--to"]).arg(url("bad_copy")));
    out.expect_code(3);
    let exists: Option<String> = s
        .client()
        .query_first(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'bad_copy'",
        )
        .unwrap();
    assert_eq!(exists, None);
    s.exec(None, "DROP DATABASE bad_src");
}

#[test]
fn a_policy_protects_the_databases_of_a_server() {
    let s = server();
    for db in ["pol_a", "pol_b"] {
        s.create_db(db, "utf8mb4");
        s.exec(
            Some(db),
            "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO t VALUES (1, 'x'), (2, NULL);",
        );
    }
    let scratch = Scratch::new();
    let repo = scratch.join("repo");
    let policy = scratch.join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[repository]\npath = \"{}\"\npassword-env = \"REPO_PW\"\n\n\
             [[source]]\nname = \"maria\"\nengine = \"mariadb\"\nurl = \"{}\"\n\
             password-env = \"MARIA_PW\"\ndatabases = [\"pol_a\", \"pol_b\"]\njobs = 2\n\n\
             [schedule]\ntime-zone = \"UTC\"\nfull = {{ frequency = \"daily\", at = \"01:00\" }}\n\n[retention]\ndaily = 7\n",
            repo.display(),
            s.url()
        ),
    )
    .unwrap();
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mariadb-policy.toml");
    run(scratch.command().args(["policy", "check"]).arg(&example)).expect_code(0);

    let policy_cmd = || {
        let mut c = scratch.command();
        server().env(&mut c);
        c.env("REPO_PW", "repo-pw-1")
            .env("MARIA_PW", MARIADB_PASSWORD);
        c
    };
    run(policy_cmd()
        .args(["init", "--repo"])
        .arg(&repo)
        .env("SQLVAULT_PASSWORD", "repo-pw-1"))
    .expect_code(0);
    let out = run(policy_cmd()
        .args(["--json", "run", "--policy"])
        .arg(&policy));
    out.expect_code(0);
    let items = out.json()["databases"].as_array().unwrap().clone();
    let mut names: Vec<&str> = items
        .iter()
        .map(|i| i["database"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["pol_a", "pol_b"]);

    // Without the password the policy names, the login is refused.
    let mut c = policy_cmd();
    c.env_remove("MARIA_PW");
    let out = run(c.args(["run", "--policy"]).arg(&policy));
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("MARIA_PW"), "{}", out.stderr);

    // Restored, and left out of the binary log unless asked (replicas
    // then replay it).
    let point = point_of(&items[0]);
    s.exec(None, "DROP DATABASE IF EXISTS pol_copy");
    let logged = |extra: &[&str]| -> usize {
        let mut c = s.client();
        c.query_drop("FLUSH BINARY LOGS").unwrap();
        let status: mysql::Row = c.query_first("SHOW MASTER STATUS").unwrap().unwrap();
        let file: String = status.get(0).unwrap();
        let out = run(policy_cmd()
            .env("SQLVAULT_PASSWORD", "repo-pw-1")
            .env("MYSQL_PWD", MARIADB_PASSWORD)
            .args(["--json", "restore", &point, "--clean", "--repo"])
            .arg(&repo)
            .args(extra)
            .arg("--to")
            .arg(url("pol_copy")));
        out.expect_code(0);
        let events: Vec<mysql::Row> = c.query(format!("SHOW BINLOG EVENTS IN '{file}'")).unwrap();
        events
            .iter()
            .filter(|e| {
                e.get::<Option<String>, _>("Info")
                    .flatten()
                    .is_some_and(|i| i.contains("pol_copy"))
            })
            .count()
    };
    assert_eq!(logged(&[]), 0);
    assert_same(items[0]["database"].as_str().unwrap(), "pol_copy");
    assert!(logged(&["--binlog"]) > 0);
    assert_same(items[0]["database"].as_str().unwrap(), "pol_copy");
    s.exec(
        None,
        "DROP DATABASE pol_a; DROP DATABASE pol_b; DROP DATABASE pol_copy",
    );
}
