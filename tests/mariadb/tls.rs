//! MariaDB over TLS, on a private server that offers it with a certificate
//! for 127.0.0.1 signed by a test authority: a backup and a restore with
//! `ssl-mode=verify-identity` really handshake and come back identical
//! (the schema dump tool included), a certificate from another authority
//! is refused, and `ssl-mode=required` against a server without TLS fails
//! clearly.

use crate::common;
use crate::mariadb_common;

use common::{Out, Scratch, Vault, point_of};
use mariadb_common::{
    MARIADB_PASSWORD, assert_same_contents, make_certificates, server, tls_server,
};
use std::path::Path;
use std::process::Command;

fn cmd(v: &Vault) -> Command {
    let mut c = v.cmd();
    c.env("MYSQL_PWD", MARIADB_PASSWORD);
    c
}

fn run(c: &mut Command) -> Out {
    common::run_hiding(c, MARIADB_PASSWORD)
}

fn url(port: u16, db: &str, mode: &str, ca: &Path) -> String {
    format!(
        "mariadb://root@127.0.0.1:{port}/{db}?ssl-mode={mode}&ssl-ca={}",
        ca.display()
    )
}

#[test]
fn backup_and_restore_over_tls_check_the_certificate() {
    let s = tls_server();
    s.create_db("tls_src", "utf8mb4");
    s.exec(
        Some("tls_src"),
        "CREATE TABLE t (id INT PRIMARY KEY, note VARCHAR(40), KEY (note));
         INSERT INTO t SELECT seq, CONCAT('row ', seq) FROM seq_1_to_500;",
    );
    let scratch = Scratch::new();
    let v = Vault::init(&scratch, scratch.join("repo"));
    let ca = s.tls_ca();

    let before = s.tls_accepts();
    let out = run(cmd(&v).args(["--json", "backup", "--jobs", "2"]).arg(url(
        s.port,
        "tls_src",
        "verify-identity",
        &ca,
    )));
    out.expect_code(0);
    let item = &out.json()["databases"][0];
    assert_eq!(item["status"], "ok", "{item:#}");
    let point = point_of(item);
    // Two data connections and the schema dump tool, at least.
    assert!(s.tls_accepts() >= before + 3, "the backup did not use TLS");

    let before = s.tls_accepts();
    let out = run(cmd(&v).args(["--json", "restore", &point, "--to"]).arg(url(
        s.port,
        "tls_copy",
        "verify-ca",
        &ca,
    )));
    out.expect_code(0);
    assert!(s.tls_accepts() > before, "the restore did not use TLS");
    assert_same_contents(&s.contents("tls_src"), &s.contents("tls_copy"));

    // A certificate signed by another authority is refused.
    let other = scratch.join("other-ca");
    make_certificates(&other);
    let out =
        run(cmd(&v)
            .arg("backup")
            .arg(url(s.port, "tls_src", "verify-ca", &other.join("ca.pem"))));
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("presented a certificate that ssl-mode=verify-ca does not accept"),
        "{}",
        out.stderr
    );
    s.exec(None, "DROP DATABASE tls_src; DROP DATABASE tls_copy");
}

#[test]
fn required_tls_against_a_server_without_it_fails_clearly() {
    let s = server();
    s.create_db("plain_src", "utf8mb4");
    let scratch = Scratch::new();
    let v = Vault::init(&scratch, scratch.join("repo"));
    let out = run(cmd(&v).arg("backup").arg(format!(
        "mariadb://root@127.0.0.1:{}/plain_src?ssl-mode=required",
        s.port
    )));
    out.expect_code(1);
    assert!(out.stderr.contains("does not offer TLS"), "{}", out.stderr);
    s.exec(None, "DROP DATABASE plain_src");
}
