//! Discovery of a server's databases, backing up several (`--database a,b`)
//! or all of them (`--all`), and restoring one table (`--table`).

mod common;
mod pg_common;

use common::{Out, Scratch, Vault, point_of};
use pg_common::compare::contents;
use pg_common::{PG_PASSWORD, cluster};
use serde_json::Value;
use std::process::Command;
use std::sync::Mutex;

const FIXTURE: &str = include_str!("pg_common/fixture.sql");

/// The tests here create databases and `--all` counts them: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn pg_cmd(v: &Vault) -> Command {
    let mut c = v.cmd();
    cluster().env(&mut c);
    c
}

fn run(c: &mut Command) -> Out {
    common::run_hiding(c, PG_PASSWORD)
}

fn server_url() -> String {
    format!("postgres://postgres@127.0.0.1:{}/", cluster().port)
}

fn row<'a>(rows: &'a [Value], name: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no {name:?} in {rows:#?}"))
}

#[test]
fn discover_lists_databases_and_backups_take_several_or_all() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let pg = cluster();
    for db in ["disc_one", "Disc_One", " spaced", "disc_two"] {
        pg.create_db(db);
    }
    pg.client("disc_one")
        .batch_execute("CREATE TABLE a (x int); CREATE TABLE b (y int) PARTITION BY RANGE (y);")
        .unwrap();
    let s = Scratch::new();
    let v = Vault::init(&s, s.join("repo"));

    let out = run(pg_cmd(&v).args(["--json", "discover"]).arg(server_url()));
    out.expect_code(0);
    let rows = out.json().as_array().unwrap().clone();
    assert!(
        rows.iter()
            .all(|r| r["name"] != "template1" && r["name"] != "template0")
    );
    let one = row(&rows, "disc_one");
    assert_eq!(one["tables"], 2);
    assert_eq!(one["owner"], "postgres");
    assert_eq!(one["encoding"], "UTF8");
    assert_eq!(one["protected"], false);
    assert!(one["size_bytes"].as_i64().unwrap() > 0);
    assert!(
        one["warnings"]
            .to_string()
            .contains("only in case from `Disc_One`")
    );
    assert!(
        row(&rows, " spaced")["warnings"]
            .to_string()
            .contains("leading or trailing spaces")
    );
    assert_eq!(row(&rows, "disc_two")["warnings"], serde_json::json!([]));

    let out = run(pg_cmd(&v)
        .args(["--json", "discover", "--include-templates"])
        .arg(server_url()));
    assert_eq!(
        row(out.json().as_array().unwrap(), "template1")["template"],
        true
    );

    // Two named databases: two restore points, and discover sees them protected.
    let out = run(pg_cmd(&v)
        .args(["--json", "backup", "--database", "disc_one,disc_two"])
        .arg(server_url()));
    out.expect_code(0);
    let report = out.json();
    let names: Vec<&str> = report["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["database"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["disc_one", "disc_two"]);
    let out = run(pg_cmd(&v).args(["--json", "discover"]).arg(server_url()));
    let rows = out.json().as_array().unwrap().clone();
    assert_eq!(row(&rows, "disc_one")["protected"], true);
    assert_eq!(row(&rows, "disc_two")["protected"], true);
    assert_eq!(row(&rows, "Disc_One")["protected"], false);

    // The table for people names the databases too.
    let out = run(pg_cmd(&v).args(["discover"]).arg(server_url()));
    out.expect_code(0);
    assert!(out.stdout.contains("disc_two") && out.stdout.contains("protected"));

    // --all: every database that is not a template, tricky names included.
    let expected: Vec<String> = {
        let mut c = pg.client("postgres");
        c.query(
            "SELECT datname::text FROM pg_database WHERE NOT datistemplate ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
    };
    let out = run(pg_cmd(&v)
        .args(["--json", "backup", "--all"])
        .arg(server_url()));
    out.expect_code(0);
    let r = out.json();
    let mut got: Vec<String> = r["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["database"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(r["status"], "ok");

    // --all without a server URL is a usage error.
    let out = run(pg_cmd(&v).args(["backup", "--all", "some.db"]));
    out.expect_code(2);
}

#[test]
fn one_table_restores_into_an_existing_database() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let pg = cluster();
    pg.create_db("tbl_src");
    pg.client("tbl_src").batch_execute(FIXTURE).unwrap();
    pg.create_db("tbl_dst");
    let s = Scratch::new();
    let v = Vault::init(&s, s.join("repo"));
    let out = run(pg_cmd(&v).args(["--json", "backup"]).arg(pg.url("tbl_src")));
    out.expect_code(0);
    let point = point_of(&out.json()["databases"][0]);

    let table = "Sales Dept.Order \"Lines\"";
    let out = run(pg_cmd(&v)
        .args(["--json", "restore", &point, "--table", table, "--to"])
        .arg(pg.url("tbl_dst")));
    out.expect_code(0);
    let key = "r Sales Dept.Order \"Lines\"";
    let src = contents(&mut pg.client("tbl_src"));
    let dst = contents(&mut pg.client("tbl_dst"));
    assert_eq!(src[key], dst[key]);
    let mut c = pg.client("tbl_dst");
    let idx: Vec<String> = c
        .query(
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'Sales Dept' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(idx, ["Order \"Lines\"_pkey", "idx Order Lines created"]);

    // Again: refused, unless --clean.
    let out = run(pg_cmd(&v)
        .args(["restore", &point, "--table", table, "--to"])
        .arg(pg.url("tbl_dst")));
    out.expect_code(2);
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
    run(pg_cmd(&v)
        .args(["restore", &point, "--clean", "--table", table, "--to"])
        .arg(pg.url("tbl_dst")))
    .expect_code(0);

    // A table whose types the target lacks fails, and is not left half made.
    let out = run(pg_cmd(&v)
        .args(["restore", &point, "--table", "public.kitchen_sink", "--to"])
        .arg(pg.url("tbl_dst")));
    out.expect_code(1);
    let left: bool = c
        .query_one("SELECT to_regclass('public.kitchen_sink') IS NOT NULL", &[])
        .unwrap()
        .get(0);
    assert!(!left, "a failed --table restore left the table behind");

    let out = run(pg_cmd(&v)
        .args(["restore", &point, "--table", "public.no_such", "--to"])
        .arg(pg.url("tbl_dst")));
    out.expect_code(2);
}
