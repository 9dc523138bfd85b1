//! Backups read from a hot standby: the data is the primary's, the restore
//! point names the primary, and a server that is not a standby is refused.

use crate::common;
use crate::pg_common;

use common::{Scratch, Vault, point_of};
use pg_common::compare::{assert_same_contents, contents};
use pg_common::{PG_PASSWORD, cluster};
use std::process::Command;

fn pg_cmd(v: &Vault) -> Command {
    let mut c = v.cmd();
    cluster().env(&mut c);
    c
}

fn run(c: &mut Command) -> common::Out {
    common::run_hiding(c, PG_PASSWORD)
}

#[test]
fn a_backup_reads_from_the_standby_and_names_the_primary() {
    let pg = cluster();
    pg.create_db("stb_src");
    pg.client("stb_src")
        .batch_execute(
            "CREATE TABLE t (id int PRIMARY KEY, v text);
             INSERT INTO t SELECT g, repeat(md5(g::text), 20) FROM generate_series(1, 20000) g;
             CREATE SEQUENCE s; SELECT setval('s', 77);",
        )
        .unwrap();
    let standby = pg.start_standby();
    standby.catch_up();
    let expected = contents(&mut pg.client("stb_src"));

    let s = Scratch::new();
    let v = Vault::init(&s, s.join("repo"));
    // Traffic on the standby shows that it, and not the primary, was read.
    let reads_before = copies_of_t(standby.port);
    let out = run(pg_cmd(&v)
        .args(["--json", "backup", "--jobs", "2", "--standby"])
        .arg(standby.url("postgres"))
        .arg(pg.url("stb_src")));
    out.expect_code(0);
    let report = out.json();
    assert!(
        copies_of_t(standby.port) > reads_before,
        "the standby was not read"
    );
    let item = &report["databases"][0];
    assert_eq!(item["database"], "stb_src");
    assert_eq!(
        item["source"],
        format!("postgres://postgres@127.0.0.1:{}/stb_src", pg.port)
    );

    pg.drop_db("stb_copy");
    let out = run(pg_cmd(&v)
        .args(["--json", "restore", &point_of(item), "--to"])
        .arg(pg.url("stb_copy")));
    out.expect_code(0);
    assert_same_contents(&expected, &contents(&mut pg.client("stb_copy")));

    // The primary is not a standby: refused before anything is stored.
    let out = run(pg_cmd(&v)
        .args(["--json", "backup", "--standby"])
        .arg(pg.url("postgres"))
        .arg(pg.url("stb_src")));
    out.expect_code(1);
    assert!(
        out.stdout.contains("is not a standby") || out.stderr.contains("is not a standby"),
        "{}{}",
        out.stdout,
        out.stderr
    );
    assert_eq!(v.points().len(), 1);
}

/// Sequential scans of table `t` in `stb_src` on the server at `port`.
fn copies_of_t(port: u16) -> i64 {
    let mut c = postgres::Config::new()
        .host("127.0.0.1")
        .port(port)
        .user("postgres")
        .password(PG_PASSWORD)
        .dbname("stb_src")
        .connect(postgres::NoTls)
        .unwrap();
    c.query_one(
        "SELECT coalesce(seq_scan, 0) FROM pg_stat_user_tables WHERE relname = 't'",
        &[],
    )
    .unwrap()
    .get(0)
}
