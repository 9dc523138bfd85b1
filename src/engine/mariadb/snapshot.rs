//! One instant for every connection of a backup.
//!
//! With one connection, `START TRANSACTION WITH CONSISTENT SNAPSHOT` is
//! enough and takes no lock; MariaDB then reports the binary log position
//! of that snapshot (`binlog_snapshot_file/position`). With several, the
//! commits of the whole server are held back only while each connection
//! opens its snapshot: `BACKUP STAGE BLOCK_COMMIT` on MariaDB, `FLUSH
//! TABLES WITH READ LOCK` on MySQL. Waiting for that lock is bounded by
//! `lock_wait_timeout`, so a long query never makes the server stall
//! behind the backup: the backup fails instead, saying why.

use super::MariaDb;
use super::connect::{connect, query_error};
use crate::error::{Error, Result};
use mysql::Conn;
use mysql::prelude::Queryable;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

// ER_LOCK_WAIT_TIMEOUT, ER_SPECIFIC_ACCESS_DENIED_ERROR
const LOCK_WAIT_TIMEOUT: u16 = 1205;
const ACCESS_DENIED: u16 = 1227;

/// Where the snapshot stands in the binary log, for point-in-time
/// recovery from it later. Absent when the server keeps no binary log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BinlogPosition {
    pub file: String,
    pub position: u64,
    /// The GTID position (`@@gtid_binlog_pos` on MariaDB,
    /// `@@gtid_executed` on MySQL), empty when GTIDs are not in use.
    pub gtid: String,
}

/// Connections that all see the database as of one instant.
pub struct Snapshot {
    pub conns: Vec<Conn>,
    pub binlog: Option<BinlogPosition>,
    /// How long commits were held back (zero with one connection).
    pub blocked_for: Duration,
    pub mariadb: bool,
}

fn is_mariadb(c: &mut Conn) -> Result<bool> {
    let v: Option<String> = c
        .query_first("SELECT VERSION()")
        .map_err(|e| query_error("reading the server version", &e))?;
    Ok(v.is_some_and(|v| v.contains("MariaDB")))
}

/// A repeatable-read, read-only transaction on a snapshot taken now.
fn start_snapshot(c: &mut Conn) -> Result<()> {
    c.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .and_then(|_| c.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"))
        .map_err(|e| query_error("starting a consistent snapshot", &e))
}

fn lock_error(e: &mysql::Error, server: &MariaDb, wait: Duration, mariadb: bool) -> Error {
    let what = if mariadb {
        "BACKUP STAGE BLOCK_COMMIT"
    } else {
        "FLUSH TABLES WITH READ LOCK"
    };
    match e {
        mysql::Error::MySqlError(m) if m.code == LOCK_WAIT_TIMEOUT => Error::database(format!(
            "could not take {what} on `{}` within {}s: a long-running query, transaction or \
             another backup holds it",
            server.spec.server(),
            wait.as_secs()
        ))
        .with_hint(
            "find it in SHOW PROCESSLIST, or raise --lock-wait-timeout; --jobs 1 takes no lock",
        ),
        mysql::Error::MySqlError(m) if m.code == ACCESS_DENIED => Error::new(
            crate::Kind::Auth,
            format!(
                "the user may not run {what} on `{}`: {}",
                server.spec.server(),
                m.message
            ),
        )
        .with_hint(if mariadb {
            "GRANT RELOAD ON *.* TO the backup user (BACKUP STAGE needs it), or back up with --jobs 1"
        } else {
            "GRANT RELOAD ON *.* TO the backup user, or back up with --jobs 1"
        }),
        other => query_error(&format!("taking {what}"), other),
    }
}

impl Snapshot {
    /// `jobs` connections (at least one) on one snapshot of `server`.
    pub fn open(server: &MariaDb, jobs: usize, lock_wait: Duration) -> Result<Snapshot> {
        let mut first = connect(&server.spec)?;
        let mariadb = is_mariadb(&mut first)?;
        if jobs <= 1 {
            start_snapshot(&mut first)?;
            let binlog = if mariadb {
                snapshot_position(&mut first)?
            } else {
                None
            };
            return Ok(Snapshot {
                conns: vec![first],
                binlog,
                blocked_for: Duration::ZERO,
                mariadb,
            });
        }
        // Every connection is open before the lock, so the lock is held
        // only while the snapshots start.
        let mut conns = vec![connect(&server.spec)?];
        for _ in 1..jobs {
            conns.push(connect(&server.spec)?);
        }
        first
            .query_drop(format!(
                "SET SESSION lock_wait_timeout = {}",
                lock_wait.as_secs().max(1)
            ))
            .map_err(|e| query_error("setting lock_wait_timeout", &e))?;
        let lock = if mariadb {
            ["BACKUP STAGE START", "BACKUP STAGE BLOCK_COMMIT"].as_slice()
        } else {
            ["FLUSH TABLES WITH READ LOCK"].as_slice()
        };
        for q in lock {
            first
                .query_drop(q)
                .map_err(|e| lock_error(&e, server, lock_wait, mariadb))?;
        }
        let t0 = Instant::now();
        let taken = (|| -> Result<Option<BinlogPosition>> {
            for c in conns.iter_mut() {
                start_snapshot(c)?;
            }
            server_position(&mut first, mariadb)
        })();
        let unlock = if mariadb {
            "BACKUP STAGE END"
        } else {
            "UNLOCK TABLES"
        };
        let released = first.query_drop(unlock);
        let blocked_for = t0.elapsed();
        let binlog = taken?;
        released.map_err(|e| query_error("releasing the backup lock", &e))?;
        Ok(Snapshot {
            conns,
            binlog,
            blocked_for,
            mariadb,
        })
    }
}

/// MariaDB's position of this connection's snapshot, without any lock.
fn snapshot_position(c: &mut Conn) -> Result<Option<BinlogPosition>> {
    let rows: Vec<(String, String)> = c
        .query("SHOW STATUS LIKE 'binlog_snapshot_%'")
        .map_err(|e| query_error("reading the binary log position", &e))?;
    let get = |k: &str| {
        rows.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    let file = get("binlog_snapshot_file").unwrap_or_default();
    if file.is_empty() {
        return Ok(None);
    }
    let position = get("binlog_snapshot_position")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    Ok(Some(BinlogPosition {
        file,
        position,
        gtid: String::new(),
    }))
}

/// The server's binary log position while commits are held back: the
/// position of every snapshot taken under the lock.
fn server_position(c: &mut Conn, mariadb: bool) -> Result<Option<BinlogPosition>> {
    let status: Option<mysql::Row> = c
        .query_first("SHOW MASTER STATUS")
        .map_err(|e| query_error("reading the binary log position", &e))?;
    let Some(row) = status else {
        return Ok(None);
    };
    let file: String = row.get(0).unwrap_or_default();
    let position: u64 = row.get(1).unwrap_or(0);
    let gtid_var = if mariadb {
        "@@gtid_binlog_pos"
    } else {
        "@@gtid_executed"
    };
    let gtid: Option<String> = c
        .query_first(format!("SELECT {gtid_var}"))
        .map_err(|e| query_error("reading the GTID position", &e))?;
    Ok(Some(BinlogPosition {
        file,
        position,
        gtid: gtid.unwrap_or_default(),
    }))
}
