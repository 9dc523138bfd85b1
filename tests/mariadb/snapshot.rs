//! The consistent snapshot of a MariaDB backup, on a private server: every
//! connection sees one instant, commits are held back only briefly, the
//! binary log position is recorded, and a user without the privilege the
//! lock needs is told which one to grant.

use crate::mariadb_common;

use mariadb_common::{MARIADB_PASSWORD, encode, server};
use mysql::prelude::Queryable;
use sqlvault::engine::mariadb::MariaDb;
use sqlvault::engine::mariadb::snapshot::Snapshot;
use std::time::Duration;

fn count(c: &mut mysql::Conn) -> u64 {
    c.query_first("SELECT COUNT(*) FROM snap_db.t")
        .unwrap()
        .unwrap()
}

fn root() -> MariaDb {
    MariaDb::from_url(&server().url_with_password(), None).unwrap()
}

#[test]
fn every_connection_sees_one_instant_and_the_binlog_position_is_recorded() {
    let s = server();
    s.create_db("snap_db", "utf8mb4");
    s.exec(
        Some("snap_db"),
        "CREATE TABLE t (id INT PRIMARY KEY AUTO_INCREMENT, v INT) ENGINE=InnoDB;
         INSERT INTO t (v) SELECT seq FROM seq_1_to_100;",
    );
    for jobs in [1, 3] {
        let mut snap = Snapshot::open(&root(), jobs, Duration::from_secs(10)).unwrap();
        assert_eq!(snap.conns.len(), jobs);
        assert!(snap.mariadb);
        let pos = snap
            .binlog
            .clone()
            .expect("the test server keeps a binary log");
        assert!(pos.file.starts_with("binlog."), "{pos:?}");
        assert!(pos.position > 0, "{pos:?}");
        if jobs > 1 {
            assert!(!pos.gtid.is_empty(), "{pos:?}");
            assert!(
                snap.blocked_for < Duration::from_secs(5),
                "{:?}",
                snap.blocked_for
            );
        }
        let before: u64 = count(&mut s.client());
        // A commit after the snapshot is seen by nobody in it.
        s.exec(
            Some("snap_db"),
            "INSERT INTO t (v) SELECT seq FROM seq_1_to_50",
        );
        for c in snap.conns.iter_mut() {
            assert_eq!(count(c), before);
        }
        assert_eq!(count(&mut s.client()), before + 50);
    }
    s.exec(None, "DROP DATABASE snap_db");
}

#[test]
fn a_user_without_reload_is_told_the_grant_or_to_use_one_job() {
    let s = server();
    s.exec(
        None,
        "CREATE USER IF NOT EXISTS 'snap_reader'@'127.0.0.1' IDENTIFIED BY 'reader-pw-4471';
         GRANT SELECT ON *.* TO 'snap_reader'@'127.0.0.1';",
    );
    let url = format!(
        "mariadb://snap_reader:{}@127.0.0.1:{}/",
        encode("reader-pw-4471"),
        s.port
    );
    let reader = MariaDb::from_url(&url, None).unwrap();
    let e = Snapshot::open(&reader, 2, Duration::from_secs(5))
        .err()
        .expect("BACKUP STAGE needs RELOAD");
    assert_eq!(e.kind, sqlvault::Kind::Auth, "{}", e.message);
    assert!(
        e.hint.as_deref().unwrap().contains("GRANT RELOAD"),
        "{:?}",
        e.hint
    );
    assert!(!e.message.contains("reader-pw-4471"));
    // One connection needs no lock.
    assert!(Snapshot::open(&reader, 1, Duration::from_secs(5)).is_ok());
    let _ = MARIADB_PASSWORD;
}
