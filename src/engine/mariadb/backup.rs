//! The backup: `jobs` connections on one snapshot read the tables, largest
//! first, one stream per table (a large table with an integer primary key
//! in key ranges, one per connection), while `mariadb-dump` writes the
//! schema in two streams: what goes before the rows (tables, views,
//! routines, sequences) and what goes after them (triggers, events).

use super::catalog::{self, TableInfo, quote_ident};
use super::connect::query_error;
use super::snapshot::{BinlogPosition, Snapshot};
use super::{MariaDb, POST_DATA_STREAM, PRE_DATA_STREAM, tools};
use crate::engine::Exported;
use crate::engine::fingerprint::RowDigest;
use crate::engine::parallel::FirstError;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::repo::writer::BackupWriter;
use mysql::Conn;
use mysql::prelude::Queryable;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Session settings of every reading and loading connection: values in
/// UTC and as stored, and a server that waits for a slow repository
/// rather than dropping the connection.
pub(super) const SESSION: &str = "SET SESSION time_zone = '+00:00', \
     net_write_timeout = 3600, net_read_timeout = 3600, sql_mode = 'NO_AUTO_VALUE_ON_ZERO'";

/// Tables smaller than this are never split.
const SPLIT_MIN_BYTES: u64 = 64 << 20;

/// The `meta` of a MariaDB or MySQL restore point.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MariaMeta {
    /// `SELECT VERSION()` of the source.
    pub server_version: String,
    /// MariaDB (true) or MySQL.
    pub mariadb: bool,
    /// The `mariadb-dump` that wrote the schema.
    pub dump_version: String,
    pub charset: String,
    pub collation: String,
    /// Where the snapshot stands in the binary log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binlog: Option<BinlogPosition>,
    /// How long commits were held back to start the snapshots.
    pub blocked_ms: u64,
    pub tables: Vec<TableInfo>,
    /// Tables of engines without transactions: read while writers may
    /// have been changing them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_consistent: Vec<String>,
}

pub(super) fn run(
    server: &MariaDb,
    writer: &BackupWriter,
    progress: &dyn Progress,
) -> Result<Exported> {
    let database = server.spec.database().to_string();
    progress.phase("connecting");
    let tools = tools::find()?;
    let mut snap = Snapshot::open(&server.reader(), server.jobs, server.lock_wait)?;
    for c in snap.conns.iter_mut() {
        c.query_drop(SESSION)
            .map_err(|e| query_error("setting up the session", &e))?;
    }
    progress.phase("reading the catalogue");
    let jobs = snap.conns.len();
    let first = &mut snap.conns[0];
    let Some((charset, collation)) = catalog::database_charset(first, &database)? else {
        return Err(Error::database(format!(
            "database `{database}` does not exist on `{}`",
            server.spec.server()
        ))
        .with_hint("check the database name; `sqlvault discover` lists the server's databases"));
    };
    let server_version: String = first
        .query_first("SELECT VERSION()")
        .map_err(|e| query_error("reading the server version", &e))?
        .unwrap_or_default();
    let tool_note = tools::check_against(&tools.version, &server_version)?;
    let transactional = catalog::transactional_engines(first)?;
    let mut tables = catalog::tables(first, &database)?;
    let not_consistent: Vec<String> = tables
        .iter()
        .filter(|t| !transactional.contains(&t.engine.to_ascii_uppercase()))
        .map(|t| t.name.clone())
        .collect();
    let bounds = plan_parts(first, &database, &mut tables, jobs)?;
    let mut units: Vec<(usize, u32)> = tables
        .iter()
        .enumerate()
        .flat_map(|(i, t)| (0..t.parts).map(move |p| (i, p)))
        .collect();
    units.sort_by_key(|&(i, _)| std::cmp::Reverse(tables[i].bytes / tables[i].parts as u64));
    progress.set_total(tables.iter().map(|t| t.bytes).sum());

    let next = AtomicUsize::new(0);
    let failed = FirstError::new();
    let digests = Mutex::new(vec![RowDigest::default(); tables.len()]);
    let ctx = Reading {
        database: &database,
        tables: &tables,
        bounds: &bounds,
        units: &units,
        next: &next,
        failed: &failed,
        writer,
        progress,
        digests: &digests,
    };
    std::thread::scope(|s| {
        let schema = s.spawn(|| dump_schema(&tools, server, writer));
        let readers: Vec<_> = snap
            .conns
            .iter_mut()
            .map(|c| {
                let ctx = &ctx;
                s.spawn(move || {
                    if let Err(e) = ctx.work(c) {
                        ctx.failed.set(e);
                    }
                })
            })
            .collect();
        for r in readers {
            if r.join().is_err() {
                failed.set(Error::database("a table reading thread panicked"));
            }
        }
        match schema.join() {
            Ok(Err(e)) => failed.set(e),
            Err(_) => failed.set(Error::database("the schema dump thread panicked")),
            Ok(Ok(())) => {}
        }
    });
    if let Some(e) = failed.take() {
        return Err(e);
    }
    for c in snap.conns.iter_mut() {
        c.query_drop("COMMIT")
            .map_err(|e| query_error("ending the backup transaction", &e))?;
    }
    let digests = digests.into_inner().unwrap();
    let fingerprints = crate::engine::fingerprint::new_set(
        tables
            .iter()
            .zip(&digests)
            .map(|(t, d)| d.entry(t.name.clone(), crate::repo::point::FingerprintKind::Table))
            .collect(),
        None,
    );
    let consistency_note = (!not_consistent.is_empty()).then(|| {
        format!(
            "{} table{} without transactions read while writers may have changed {}: {}",
            not_consistent.len(),
            if not_consistent.len() == 1 { "" } else { "s" },
            if not_consistent.len() == 1 {
                "it"
            } else {
                "them"
            },
            not_consistent.join(", ")
        )
    });
    let notes: Vec<String> = consistency_note.into_iter().chain(tool_note).collect();
    let note = (!notes.is_empty()).then(|| notes.join("; "));
    let meta = MariaMeta {
        server_version,
        mariadb: snap.mariadb,
        dump_version: tools.version.clone(),
        charset,
        collation,
        binlog: snap.binlog.clone(),
        blocked_ms: snap.blocked_for.as_millis() as u64,
        tables,
        not_consistent,
    };
    Ok(Exported {
        database,
        source: server.spec.display(),
        meta: serde_json::to_value(meta).expect("meta serialises"),
        fingerprints,
        note,
    })
}

/// Split the tables that hold a large share of the data into primary-key
/// ranges, one per connection; returns each table's range bounds.
fn plan_parts(
    c: &mut Conn,
    database: &str,
    tables: &mut [TableInfo],
    jobs: usize,
) -> Result<Vec<Vec<i128>>> {
    let total: u64 = tables.iter().map(|t| t.bytes).sum();
    let mut bounds = vec![Vec::new(); tables.len()];
    for (i, t) in tables.iter_mut().enumerate() {
        let Some(key) = &t.split_key else { continue };
        if jobs < 2 || t.bytes < SPLIT_MIN_BYTES || t.bytes * 2 * (jobs as u64) < total {
            continue;
        }
        let k = quote_ident(key);
        let range: Option<(Option<String>, Option<String>)> = c
            .query_first(format!(
                "SELECT MIN({k}), MAX({k}) FROM {}",
                t.quoted(database)
            ))
            .map_err(|e| query_error("reading a primary key's range", &e))?;
        let (Some(lo), Some(hi)) = range.unwrap_or((None, None)) else {
            continue;
        };
        let (Ok(lo), Ok(hi)) = (lo.parse::<i128>(), hi.parse::<i128>()) else {
            continue;
        };
        let step = (hi - lo) / jobs as i128;
        if step < 1 {
            continue;
        }
        bounds[i] = (1..jobs as i128).map(|n| lo + step * n).collect();
        t.parts = jobs as u32;
    }
    Ok(bounds)
}

/// What every reading thread shares.
struct Reading<'a> {
    database: &'a str,
    tables: &'a [TableInfo],
    bounds: &'a [Vec<i128>],
    units: &'a [(usize, u32)],
    next: &'a AtomicUsize,
    failed: &'a FirstError,
    writer: &'a BackupWriter,
    progress: &'a dyn Progress,
    digests: &'a Mutex<Vec<RowDigest>>,
}

impl Reading<'_> {
    fn work(&self, c: &mut Conn) -> Result<()> {
        loop {
            crate::interrupt::check()?;
            if self.failed.is_set() {
                return Ok(());
            }
            let Some(&(ti, part)) = self.units.get(self.next.fetch_add(1, Ordering::Relaxed))
            else {
                return Ok(());
            };
            let t = &self.tables[ti];
            self.progress.phase(&format!("copying {}", t.name));
            let select = select_sql(self.database, t, &self.bounds[ti], part);
            let mut stream = self.writer.stream(&t.part_stream(part))?;
            let mut counted = Counted {
                inner: &mut stream,
                progress: self.progress,
            };
            let d = super::rows::export(c, &select, &mut counted)?;
            stream.finish()?;
            self.digests.lock().unwrap()[ti].merge(&d);
        }
    }
}

/// What reads part `part` of table `t` (every part when `bounds` is empty).
pub(super) fn select_sql(database: &str, t: &TableInfo, bounds: &[i128], part: u32) -> String {
    let mut sql = format!("SELECT {} FROM {}", t.column_list(), t.read_from(database));
    if let Some(key) = t.split_key.as_deref().filter(|_| !bounds.is_empty()) {
        let k = quote_ident(key);
        let p = part as usize;
        let lo = p.checked_sub(1).map(|i| bounds[i]);
        let hi = bounds.get(p);
        let cond = match (lo, hi) {
            (None, Some(hi)) => format!("{k} < {hi}"),
            (Some(lo), Some(hi)) => format!("{k} >= {lo} AND {k} < {hi}"),
            (Some(lo), None) => format!("{k} >= {lo}"),
            (None, None) => "TRUE".into(),
        };
        sql.push_str(&format!(" WHERE {cond}"));
    }
    sql
}

/// Counts the bytes written for the progress display.
struct Counted<'a, W: Write> {
    inner: &'a mut W,
    progress: &'a dyn Progress,
}

impl<W: Write> Write for Counted<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// `mariadb-dump --no-data` of the database, in the two streams a restore
/// applies before and after loading the rows (triggers must not fire on
/// restored rows, nor events run while they load).
fn dump_schema(tools: &tools::Tools, server: &MariaDb, writer: &BackupWriter) -> Result<()> {
    let common = [
        "--no-data",
        "--skip-dump-date",
        "--single-transaction",
        "--skip-comments",
    ];
    let parts: [(&str, &[&str]); 2] = [
        (
            PRE_DATA_STREAM,
            &["--skip-triggers", "--routines", "--skip-events"],
        ),
        (
            POST_DATA_STREAM,
            &[
                "--no-create-info",
                "--triggers",
                "--events",
                "--skip-routines",
            ],
        ),
    ];
    for (stream_name, args) in parts {
        let mut cmd = tools::command(&tools.dump, &server.reader().spec);
        cmd.args(common)
            .args(args)
            .arg("--")
            .arg(server.spec.database());
        let (mut child, stderr) = tools::spawn(&mut cmd, &tools.dump)?;
        let mut out = child.stdout.take().expect("piped");
        let mut stream = writer.stream(stream_name)?;
        let copied = std::io::copy(&mut out, &mut stream);
        drop(out);
        if copied.is_err() {
            let _ = child.kill();
        }
        let status = child
            .wait()
            .map_err(|e| Error::database(format!("mariadb-dump did not finish: {e}")))?;
        let stderr = stderr.join().unwrap_or_default();
        if let Err(e) = copied {
            return Err(crate::engine::postgres::from_io(e, "writing the schema"));
        }
        if !status.success() {
            return Err(Error::database(format!(
                "mariadb-dump failed: {}",
                tools::tail_of(&stderr)
            )));
        }
        stream.finish()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ranges_cover_every_row_once() {
        let t = TableInfo {
            stream: "data/t".into(),
            name: "t".into(),
            engine: "InnoDB".into(),
            columns: vec!["id".into(), "v".into()],
            bytes: 0,
            rows_estimate: 0,
            parts: 3,
            split_key: Some("id".into()),
            history: false,
        };
        let b = [10, 20];
        assert_eq!(
            select_sql("db", &t, &b, 0),
            "SELECT `id`, `v` FROM `db`.`t` WHERE `id` < 10"
        );
        assert!(select_sql("db", &t, &b, 1).ends_with("WHERE `id` >= 10 AND `id` < 20"));
        assert!(select_sql("db", &t, &b, 2).ends_with("WHERE `id` >= 20"));
        assert_eq!(
            select_sql("db", &t, &[], 0),
            "SELECT `id`, `v` FROM `db`.`t`"
        );
        // A table with history is read whole, past rows included.
        let h = TableInfo { history: true, ..t };
        assert_eq!(
            select_sql("db", &h, &b, 2),
            "SELECT `id`, `v` FROM `db`.`t` FOR SYSTEM_TIME ALL WHERE `id` >= 20"
        );
    }
}
