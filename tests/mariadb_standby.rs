//! A MariaDB backup read from a standby (`--standby`, a read-only replica):
//! the table data comes from the replica, not the primary; the point
//! belongs to the primary's database and restores identical to it.

mod common;
mod mariadb_common;

use common::{Out, Scratch, Vault, point_of};
use mariadb_common::{MARIADB_PASSWORD, assert_same_contents, replica, server};
use std::process::Command;

fn run(c: &mut Command) -> Out {
    common::run_hiding(c, MARIADB_PASSWORD)
}

#[test]
fn a_backup_from_the_standby_reads_the_replica_and_restores_the_primary() {
    let primary = server();
    let standby = replica();
    primary.create_db("stb_src", "utf8mb4");
    primary.exec(
        Some("stb_src"),
        "CREATE TABLE big (id INT PRIMARY KEY, pad VARCHAR(200));
         INSERT INTO big SELECT seq, REPEAT(CHAR(65 + seq % 26), 200) FROM seq_1_to_20000;",
    );
    standby.catch_up(primary);
    let scratch = Scratch::new();
    let v = Vault::init(&scratch, scratch.join("repo"));
    let mut c = v.cmd();
    c.env("MYSQL_PWD", MARIADB_PASSWORD);

    let (primary_sent, standby_sent) = (primary.status("Bytes_sent"), standby.status("Bytes_sent"));
    let out = run(c
        .args(["--json", "backup", "--jobs", "2", "--standby"])
        .arg(standby.url())
        .arg(format!("{}stb_src", primary.url())));
    out.expect_code(0);
    let item = &out.json()["databases"][0];
    assert_eq!(item["status"], "ok", "{item:#}");
    // About 4 MB of rows: they came from the standby.
    let from_standby = standby.status("Bytes_sent") - standby_sent;
    let from_primary = primary.status("Bytes_sent") - primary_sent;
    assert!(
        from_standby > 4_000_000,
        "the standby sent {from_standby} bytes"
    );
    assert!(
        from_primary < 1_000_000,
        "the primary sent {from_primary} bytes"
    );

    let point = point_of(item);
    let shown = run(v.cmd().args(["--json", "show", &point]));
    shown.expect_code(0);
    let source = shown.json()["source"].as_str().unwrap().to_string();
    assert!(
        source.ends_with(&format!("{}/stb_src", primary.port)),
        "{source}"
    );

    let mut c = v.cmd();
    c.env("MYSQL_PWD", MARIADB_PASSWORD);
    let out = run(c
        .args(["restore", &point, "--to"])
        .arg(format!("{}stb_copy", primary.url())));
    out.expect_code(0);
    assert_same_contents(&primary.contents("stb_src"), &primary.contents("stb_copy"));
    primary.exec(None, "DROP DATABASE stb_src; DROP DATABASE stb_copy");
}
