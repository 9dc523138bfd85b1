//! Discovery of a MariaDB server's databases through the real binary, and
//! every way of giving it the password: the URL, MYSQL_PWD, ~/.my.cnf,
//! --defaults-file, over TCP and the Unix socket; and the errors of a
//! wrong password and a server that is not there.

use crate::common;
use crate::mariadb_common;

use common::{Out, Scratch, Vault};
use mariadb_common::{MARIADB_PASSWORD, server};
use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};

/// The binary with a clean home and no MYSQL_* variables of the caller's.
fn cmd(s: &Scratch) -> Command {
    let mut c = s.command();
    server().env(&mut c);
    c
}

fn run(c: &mut Command) -> Out {
    common::run_hiding(c, MARIADB_PASSWORD)
}

fn discover_json(c: &mut Command) -> Vec<Value> {
    let out = run(c);
    out.expect_code(0);
    out.json()
        .as_array()
        .expect("an array of databases")
        .clone()
}

fn row<'a>(rows: &'a [Value], name: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no {name:?} in {rows:#?}"))
}

fn names(rows: &[Value]) -> Vec<&str> {
    rows.iter().map(|r| r["name"].as_str().unwrap()).collect()
}

fn write_private(path: &std::path::Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn discover_lists_databases_with_tables_engines_and_charsets() {
    let srv = server();
    srv.create_db("md_shop", "utf8mb4");
    srv.exec(
        Some("md_shop"),
        "CREATE TABLE orders (id INT PRIMARY KEY, note TEXT) ENGINE=InnoDB;
         CREATE TABLE items (id INT PRIMARY KEY) ENGINE=InnoDB;
         CREATE TABLE legacy (id INT) ENGINE=MyISAM;
         CREATE TABLE audit (id INT) ENGINE=Aria;
         CREATE VIEW recent AS SELECT id FROM orders;
         INSERT INTO orders VALUES (1, REPEAT('x', 5000)), (2, 'b');",
    );
    srv.create_db("md_latin", "latin1");
    srv.exec(Some("md_latin"), "CREATE TABLE t (x INT) ENGINE=InnoDB;");
    srv.create_db("md_Empty", "utf8mb4");

    let s = Scratch::new();
    let rows = discover_json(
        cmd(&s)
            .args(["--json", "discover"])
            .arg(srv.url_with_password()),
    );
    for system in ["mysql", "information_schema", "performance_schema", "sys"] {
        assert!(
            !names(&rows).contains(&system),
            "{system} listed: {rows:#?}"
        );
    }
    let shop = row(&rows, "md_shop");
    assert_eq!(shop["tables"], 4, "views are not tables: {shop:#}");
    assert_eq!(
        shop["engines"],
        serde_json::json!(["Aria", "InnoDB", "MyISAM"])
    );
    assert_eq!(shop["charset"], "utf8mb4");
    assert!(shop["collation"].as_str().unwrap().starts_with("utf8mb4_"));
    assert!(shop["size_bytes"].as_u64().unwrap() > 0);
    assert_eq!(shop["protected"], false);
    assert_eq!(
        shop["source"],
        format!("mariadb://root@127.0.0.1:{}/md_shop", srv.port)
    );
    assert_eq!(
        shop["warnings"],
        serde_json::json!(["2 Aria/MyISAM tables: not consistent without a lock"])
    );
    let latin = row(&rows, "md_latin");
    assert_eq!(latin["charset"], "latin1");
    assert_eq!(latin["tables"], 1);
    assert_eq!(latin["warnings"], serde_json::json!([]));
    let empty = row(&rows, "md_Empty");
    assert_eq!(empty["tables"], 0);
    assert_eq!(empty["engines"], serde_json::json!([]));

    // The table for people, through mysql:// and with a repository that
    // holds no restore point of the server.
    let v = Vault::init(&s, s.join("repo"));
    let mut c = v.cmd();
    server().env(&mut c);
    let url = format!("mysql://root@127.0.0.1:{}/md_shop", srv.port);
    let out = run(c
        .env("MYSQL_PWD", MARIADB_PASSWORD)
        .args(["discover", &url]));
    out.expect_code(0);
    for text in [
        "database",
        "engines",
        "charset",
        "protected",
        "md_latin",
        "Aria, InnoDB, MyISAM",
        "utf8mb4",
    ] {
        assert!(
            out.stdout.contains(text),
            "{text:?} missing:\n{}",
            out.stdout
        );
    }
    assert!(out.stdout.contains(&format!(
        "databases on mariadb://root@127.0.0.1:{}, 0 protected",
        srv.port
    )));
}

#[test]
fn the_password_comes_from_the_environment_or_option_files() {
    let srv = server();
    let s = Scratch::new();
    let url = srv.url();

    // MYSQL_PWD.
    let rows = discover_json(
        cmd(&s)
            .env("MYSQL_PWD", MARIADB_PASSWORD)
            .args(["--json", "discover", &url]),
    );
    assert!(names(&rows).iter().all(|n| *n != "mysql"));

    // ~/.my.cnf in the home of the run, [client] group.
    let cnf = s.home().join(".my.cnf");
    write_private(
        &cnf,
        &format!("[mysqld]\nport=1\n\n[client]\nuser=root\npassword=\"{MARIADB_PASSWORD}\"\n"),
    );
    let no_user = format!("mariadb://127.0.0.1:{}/", srv.port);
    discover_json(cmd(&s).args(["--json", "discover", &no_user]));
    // MYSQL_PWD is taken before ~/.my.cnf.
    let out = run(cmd(&s)
        .env("MYSQL_PWD", "not-the-password")
        .args(["discover", &url]));
    out.expect_code(3);
    std::fs::remove_file(&cnf).unwrap();

    // --defaults-file replaces ~/.my.cnf, and beats MYSQL_PWD since it is
    // named on the command line.
    let file = s.join("backup.cnf");
    write_private(
        &file,
        &format!(
            "[client-mariadb]\nuser = root\npassword = {MARIADB_PASSWORD}\nport = {}\nhost = 127.0.0.1\n",
            srv.port
        ),
    );
    discover_json(
        cmd(&s)
            .env("MYSQL_PWD", "not-the-password")
            .args(["--json", "discover", "--defaults-file"])
            .arg(&file)
            .arg("mariadb://"),
    );
    // A --defaults-file that is not there is a usage error.
    let out = run(cmd(&s)
        .args(["discover", "--defaults-file"])
        .arg(s.join("missing.cnf"))
        .arg(&url));
    out.expect_code(2);
    assert!(out.stderr.contains("missing.cnf"), "{}", out.stderr);
}

#[test]
fn the_unix_socket_is_used_for_localhost() {
    let srv = server();
    let s = Scratch::new();
    let url = srv.socket_url();
    let rows = discover_json(
        cmd(&s)
            .env("MYSQL_PWD", MARIADB_PASSWORD)
            .args(["--json", "discover", &url]),
    );
    let any = rows.first().expect("the tests' databases");
    assert_eq!(
        any["source"],
        format!(
            "mariadb://root@localhost/{}?socket={}",
            any["name"].as_str().unwrap(),
            srv.socket.display()
        )
    );
    // The socket from ~/.my.cnf, with the host left out.
    write_private(
        &s.home().join(".my.cnf"),
        &format!(
            "[client]\nsocket={}\npassword={MARIADB_PASSWORD}\n",
            srv.socket.display()
        ),
    );
    discover_json(cmd(&s).args(["--json", "discover", "mysql://root@localhost/"]));

    // No server at the socket: a clear error naming it.
    let gone = format!(
        "mariadb://root@localhost/?socket={}",
        s.join("none.sock").display()
    );
    let out = run(cmd(&s).args(["discover", &gone]));
    out.expect_code(1);
    assert_eq!(out.error_lines().len(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("no server socket at"), "{}", out.stderr);
}

#[test]
fn a_wrong_or_missing_password_is_refused_with_exit_code_3() {
    let srv = server();
    let s = Scratch::new();
    let wrong = format!("mariadb://root:Not-It-123@127.0.0.1:{}/", srv.port);
    let out = run(cmd(&s).args(["discover", &wrong]));
    out.expect_code(3);
    assert_eq!(out.error_lines().len(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("refused the login"), "{}", out.stderr);
    assert!(!out.stderr.contains("Not-It-123"), "{}", out.stderr);
    assert!(out.stdout.is_empty());

    let out = run(cmd(&s).args(["discover", &srv.url()]));
    out.expect_code(3);
    assert!(
        out.stderr.contains("no password was given"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_unreachable_server_fails_clearly_and_in_bounded_time() {
    let s = Scratch::new();
    // Nothing listens on a port just freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("mariadb://root:{MARIADB_PASSWORD}@127.0.0.1:{port}/");
    let started = Instant::now();
    let out = run(cmd(&s).args(["discover", &url]));
    out.expect_code(1);
    assert_eq!(out.error_lines().len(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("connection refused"), "{}", out.stderr);
    assert!(out.stderr.contains("hint:"), "{}", out.stderr);

    // A port that takes the connection but never speaks: the connect
    // timeout ends the wait.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "mariadb://root@127.0.0.1:{}/?connect-timeout=2",
        silent.local_addr().unwrap().port()
    );
    let out = run(cmd(&s)
        .env("MYSQL_PWD", MARIADB_PASSWORD)
        .args(["discover", &url]));
    out.expect_code(1);
    assert!(out.stderr.contains("timed out after 2s"), "{}", out.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn server_options_go_only_where_they_belong() {
    let s = Scratch::new();
    let url = "mariadb://root@127.0.0.1:1/";
    // A backup needs the database (or --all, --database).
    let out = run(cmd(&s).args(["backup", url]));
    out.expect_code(2);
    assert!(out.stderr.contains("names no database"), "{}", out.stderr);
    let out = run(cmd(&s).args(["discover", "--include-templates", url]));
    out.expect_code(2);
    let out = run(cmd(&s).args([
        "discover",
        "--defaults-file",
        "/nonexistent.cnf",
        "postgres://u@127.0.0.1:1/",
    ]));
    out.expect_code(2);
    assert!(out.stderr.contains("MariaDB"), "{}", out.stderr);
    let out = run(cmd(&s).args(["discover", "mariadb://root@h/?ssl-mode=sometimes"]));
    out.expect_code(2);
    assert!(out.stderr.contains("ssl-mode"), "{}", out.stderr);
}
