//! A policy protecting a PostgreSQL server: auto-protection of every
//! database (new ones included, exclusions honoured), the password from the
//! variable the policy names, ad hoc backups and restores by policy, and an
//! unreachable source that fails alone.

mod common;
mod pg_common;

use common::{Out, Scratch, Vault};
use pg_common::compare::{assert_same_contents, contents};
use pg_common::{PG_PASSWORD, cluster};
use std::path::Path;
use std::process::Command;

fn run(c: &mut Command) -> Out {
    common::run_hiding(c, PG_PASSWORD)
}

/// The binary with the policy's password variable set and no PG* variable,
/// so the server password can only come from the policy.
fn cmd(v: &Vault, args: &[&str], policy: &Path) -> Command {
    let mut c = v.cmd();
    cluster().env(&mut c);
    c.env_remove("PGPASSWORD")
        .env("POLICY_PG_PASSWORD", PG_PASSWORD)
        .arg("--json")
        .args(args)
        .arg("--policy")
        .arg(policy);
    c
}

fn names(out: &Out) -> Vec<String> {
    let mut n: Vec<String> = out.json()["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["database"].as_str().unwrap().to_string())
        .collect();
    n.sort();
    n
}

fn note_of(out: &Out, db: &str) -> String {
    out.json()["databases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["database"] == db)
        .and_then(|i| i["note"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_policy_protects_every_database_of_a_server() {
    let pg = cluster();
    for (db, n) in [("pol_a", 300), ("pol_b", 50), ("pol_skip", 10)] {
        pg.create_db(db);
        pg.client(db)
            .batch_execute(&format!(
                "CREATE TABLE t (id int PRIMARY KEY, v text);
                 INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, {n}) g;"
            ))
            .unwrap();
    }
    let s = Scratch::new();
    let v = Vault::init(&s, s.join("repo"));
    let policy = s.join("pg.toml");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    std::fs::write(
        &policy,
        format!(
            r#"
[repository]
path = "{repo}"
password-env = "SQLVAULT_PASSWORD"

[[source]]
name = "main"
engine = "postgres"
url = "postgres://postgres@127.0.0.1:{port}/?connect_timeout=5"
password-env = "POLICY_PG_PASSWORD"
auto-protect = true
exclude = ["postgres", "pol_skip"]
jobs = 2

[[source]]
name = "gone"
engine = "postgres"
url = "postgres://postgres@127.0.0.1:{closed_port}/?connect_timeout=2"
databases = ["app"]

[schedule]
time-zone = "UTC"
full = {{ frequency = "daily", at = "00:00" }}

[retention]
daily = 7
"#,
            repo = v.repo.display(),
            port = pg.port,
        ),
    )
    .unwrap();

    let out = run(v.cmd().args(["policy", "check"]).arg(&policy));
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("every database on `postgres://postgres@127.0.0.1:")
            && out.stdout.contains("except postgres, pol_skip"),
        "{}",
        out.stdout
    );
    let out = run(&mut cmd(&v, &["run"], &policy));
    out.expect_code(1);
    assert_eq!(names(&out), ["app", "pol_a", "pol_b"]);
    assert!(note_of(&out, "pol_a").contains("newly protected"));
    let gone = out.json()["databases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["database"] == "app")
        .unwrap()
        .clone();
    assert_eq!(gone["status"], "failed");

    // A database created later is protected by the next run; the others
    // are not due again today.
    pg.create_db("pol_c");
    let out = run(&mut cmd(&v, &["run"], &policy));
    assert_eq!(names(&out), ["app", "pol_c"]);
    assert!(note_of(&out, "pol_c").contains("newly protected"));

    // Ad hoc, by name, outside the schedule.
    pg.client("pol_a")
        .batch_execute("INSERT INTO t SELECT g, 'later' FROM generate_series(301, 400) g")
        .unwrap();
    let expected = contents(&mut pg.client("pol_a"));
    let out = run(&mut cmd(&v, &["backup", "--database", "pol_a"], &policy));
    out.expect_code(0);
    assert_eq!(names(&out), ["pol_a"]);

    // Restore by policy, and the rows are those of the ad hoc backup.
    pg.drop_db("pol_a_copy");
    let mut c = cmd(&v, &["restore", "latest", "--database", "pol_a"], &policy);
    c.arg("--to")
        .arg(pg.url("pol_a_copy"))
        .env("PGPASSWORD", PG_PASSWORD);
    run(&mut c).expect_code(0);
    assert_same_contents(&expected, &contents(&mut pg.client("pol_a_copy")));

    // A password written into the url is used, with a warning.
    let inline = s.join("inline.toml");
    let text = std::fs::read_to_string(&policy).unwrap().replace(
        "url = \"postgres://postgres@127.0.0.1",
        &format!("url = \"postgres://postgres:{PG_PASSWORD}@127.0.0.1"),
    );
    std::fs::write(&inline, text).unwrap();
    let mut c = v.cmd();
    c.args(["policy", "check"]).arg(&inline);
    let out = run(&mut c);
    out.expect_code(0);
    assert!(
        out.stderr.contains("has a password in its url")
            || out.stdout.contains("has a password in its url"),
        "{}{}",
        out.stdout,
        out.stderr
    );
}
