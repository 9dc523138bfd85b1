//! PostgreSQL sources and targets that are wrong: each gives a clear
//! one-line error, the documented exit code, no password in any output,
//! and nothing half-written (no restore point, no leftover database).
//! A missing database, a wrong password and a target that is not empty
//! are part of the engine contract in tests/engine_conformance.rs.

use crate::common;
use crate::pg_common;

use common::{Out, Scratch, Vault, point_of};
use pg_common::{PG_PASSWORD, cluster};
use std::process::Command;

fn pg_cmd(v: &Vault) -> Command {
    let mut c = v.cmd();
    cluster().env(&mut c);
    c
}

fn run(c: &mut Command) -> Out {
    common::run_hiding(c, PG_PASSWORD)
}

#[track_caller]
fn assert_error(out: &Out, code: i32, needle: &str) {
    out.expect_code(code);
    let lines = out.error_lines();
    assert!(
        lines.iter().any(|l| l.contains(needle)),
        "expected an error line with {needle:?}, got:\n{}",
        out.stderr
    );
}

/// A small database with one table, backed up; returns the point id.
fn backed_up(v: &Vault, db: &str) -> String {
    let pg = cluster();
    pg.create_db(db);
    pg.client(db)
        .batch_execute("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 100) i;")
        .unwrap();
    let out = run(pg_cmd(v).args(["--json", "backup"]).arg(pg.url(db)));
    out.expect_code(0);
    point_of(&out.json()["databases"][0])
}

#[test]
fn a_server_that_never_answers_times_out_clearly() {
    // Accepts TCP connections (the kernel's backlog) but never speaks.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let s = Scratch::new();
    let v = Vault::init(&s, s.join("repo"));
    let url = format!("postgres://postgres:{PG_PASSWORD}@127.0.0.1:{port}/app?connect_timeout=2");
    let t0 = std::time::Instant::now();
    let out = run(pg_cmd(&v).arg("backup").arg(&url));
    assert_error(
        &out,
        1,
        "timed out after 2s connecting to `postgres://postgres@127.0.0.1",
    );
    assert!(t0.elapsed().as_secs() < 20, "took {:?}", t0.elapsed());
    assert!(out.stderr.contains("hint:"));
    assert!(v.points().is_empty());
    drop(silent);
}

#[test]
fn a_closed_port_is_refused_and_a_bad_url_is_a_usage_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = Scratch::new();
    let v = Vault::init(&s, s.join("repo"));
    let out = run(pg_cmd(&v)
        .arg("backup")
        .arg(format!("postgres://u@127.0.0.1:{port}/app")));
    assert_error(&out, 1, "connection refused");
    let out = run(pg_cmd(&v)
        .arg("backup")
        .arg(format!("postgres://u:{PG_PASSWORD}@127.0.0.1:notaport/app")));
    assert_error(&out, 2, "bad PostgreSQL URL");
    let out = run(pg_cmd(&v)
        .arg("backup")
        .arg("postgres://h/app?sslmode=sometimes"));
    assert_error(&out, 2, "unknown sslmode");
}

#[test]
fn no_password_at_all_is_said_so() {
    let pg = cluster();
    pg.create_db("pwcheck");
    let s = Scratch::new();
    let v = Vault::init(&s, s.join("repo"));
    // No password at all, none in the environment: said so.
    let mut c = v.cmd();
    for (k, _) in std::env::vars() {
        if k.starts_with("PG") {
            c.env_remove(k);
        }
    }
    let out = run(c.arg("backup").arg(pg.url("pwcheck")));
    assert_error(&out, 1, "asks for a password and none was given");
    assert!(v.points().is_empty());
}

#[test]
fn a_missing_pg_dump_fails_before_anything_is_stored() {
    let pg = cluster();
    pg.create_db("nodump");
    let s = Scratch::new();
    let v = Vault::init(&s, s.join("repo"));
    let empty = s.join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let out = run(pg_cmd(&v)
        .env("SQLVAULT_PG_BINDIR", &empty)
        .arg("backup")
        .arg(pg.url("nodump")));
    assert_error(&out, 1, "pg_dump was not found");
    assert!(out.stderr.contains("postgresql-client"), "{}", out.stderr);
    assert!(v.points().is_empty());
    assert!(
        common::objects(&v.repo, "packs").is_empty(),
        "packs were left behind"
    );
}

#[test]
fn an_existing_empty_database_is_a_fine_target_and_a_file_path_is_not() {
    let pg = cluster();
    let s = Scratch::new();
    let v = Vault::init(&s, s.join("repo"));
    let point = backed_up(&v, "exists_src");
    pg.create_db("empty_dst");
    run(pg_cmd(&v)
        .args(["restore", &point, "--to"])
        .arg(pg.url("empty_dst")))
    .expect_code(0);
    let n: i64 = pg
        .client("empty_dst")
        .query_one("SELECT count(*) FROM t", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 100);

    // A PostgreSQL point restored to a file path is a usage error.
    let out = run(pg_cmd(&v)
        .args(["restore", &point, "--to"])
        .arg(s.join("x.db")));
    assert_error(&out, 2, "is a PostgreSQL database");
}

#[test]
fn a_restore_that_fails_half_way_leaves_nothing_behind() {
    let pg = cluster();
    let s = Scratch::new();
    let v = Vault::init(&s, s.join("repo"));
    pg.create_db("halfway_src");
    pg.client("halfway_src")
        .batch_execute(
            "CREATE ROLE halfway_role;
             CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);
             GRANT SELECT ON t TO halfway_role;",
        )
        .unwrap();
    let out = run(pg_cmd(&v)
        .args(["--json", "backup"])
        .arg(pg.url("halfway_src")));
    out.expect_code(0);
    let point = point_of(&out.json()["databases"][0]);
    // The grant in the schema now names a role the server lacks.
    pg.client("halfway_src")
        .batch_execute("DROP OWNED BY halfway_role; DROP ROLE halfway_role;")
        .unwrap();
    let out = run(pg_cmd(&v)
        .args(["restore", &point, "--to"])
        .arg(pg.url("halfway_dst")));
    assert_error(&out, 1, "halfway_role");
    assert!(!pg.db_exists("halfway_dst"));
    assert!(pg.databases_like("sqlvault_restore_").is_empty());
}
