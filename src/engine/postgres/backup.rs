//! The backup: one exported snapshot, `pg_dump` for the schema, and
//! `--jobs` connections copying tables out of that same snapshot.

use super::catalog::{self, qualified, quote_ident, quote_literal};
use super::connect::{connect, query_error};
use super::copy_out::CopyConnection;
use super::fingerprint::CopyDigest;
use super::{CopyFormat, PgMeta, Postgres, SCHEMA_STREAM, TableInfo, from_io, largeobjects, tools};
use crate::engine::Exported;
use crate::engine::fingerprint::RowDigest;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::repo::writer::BackupWriter;
use postgres::Client;
use std::io::{Read, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What pg_dump sets too, so text values read back the same anywhere.
/// The time zone is fixed so that text values (timestamps inside
/// composites) read back identically for fingerprints on any server.
pub(super) const SESSION: &str = "SET DateStyle = ISO; SET IntervalStyle = postgres; \
    SET TimeZone = 'UTC'; SET extra_float_digits = 3; SET row_security = off; SET statement_timeout = 0; \
    SET lock_timeout = 0; SET idle_in_transaction_session_timeout = 0";

pub(super) use crate::engine::parallel::FirstError;

pub(super) fn run(
    pg: &Postgres,
    writer: &BackupWriter,
    progress: &dyn Progress,
) -> Result<Exported> {
    let primary = pg;
    let reader = pg.reader();
    let pg = &reader;
    let spec = &pg.spec;
    progress.phase("connecting");
    let mut coord = connect(spec)?;
    if primary.standby.is_some() {
        super::standby::check(&mut coord, pg, primary)?;
    }
    let info = catalog::database_info(&mut coord)?;
    catalog::check_supported(&info, &spec.server())?;
    let tools = tools::find(info.major())?;
    coord
        .batch_execute(SESSION)
        .and_then(|_| coord.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        .map_err(|e| query_error("starting the backup transaction", &e))?;
    let snapshot: String = coord
        .query_one("SELECT pg_export_snapshot()", &[])
        .map_err(|e| query_error("exporting a snapshot", &e))?
        .get(0);
    progress.phase("reading the catalogue");
    let tables = catalog::tables(&mut coord)?;
    lock_tables(&mut coord, &tables)?;
    let mut tables = tables;
    plan_parts(&mut tables, pg.jobs);
    let units: Vec<(usize, u32)> = {
        let mut u: Vec<(usize, u32)> = tables
            .iter()
            .enumerate()
            .flat_map(|(i, t)| (0..t.parts).map(move |p| (i, p)))
            .collect();
        u.sort_by_key(|&(i, _)| std::cmp::Reverse(tables[i].bytes / tables[i].parts as u64));
        u
    };
    let sequences = catalog::sequences(&mut coord)?;
    let los = catalog::large_objects(&mut coord)?;
    progress.set_total(tables.iter().map(|t| t.bytes).sum());

    let next = AtomicUsize::new(0);
    let failed = FirstError::new();
    let digests = Mutex::new(vec![RowDigest::default(); tables.len()]);
    let mut lo_digest = None;
    let jobs = pg.jobs.max(1).min(units.len().max(1));
    std::thread::scope(|s| {
        let schema = s.spawn(|| dump_schema(&tools, pg, &snapshot, writer));
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                s.spawn(|| {
                    if let Err(e) = copy_worker(
                        pg, &snapshot, &tables, &units, &next, &failed, writer, progress, &digests,
                    ) {
                        failed.set(e);
                    }
                })
            })
            .collect();
        // The coordinator reads large objects while the workers copy.
        match largeobjects::export(&mut coord, &los, writer, &failed) {
            Ok(d) => lo_digest = d,
            Err(e) => failed.set(e),
        }
        for w in workers {
            if w.join().is_err() {
                failed.set(Error::database("a table copy thread panicked"));
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
    coord
        .batch_execute("COMMIT")
        .map_err(|e| query_error("ending the backup transaction", &e))?;
    let fingerprints = super::fingerprint::backup_set(
        &tables,
        digests.into_inner().unwrap(),
        &sequences,
        lo_digest,
    );
    let meta = PgMeta {
        server_version: info.server_version.clone(),
        server_version_num: info.server_version_num,
        pg_dump_version: tools.version.clone(),
        pg_dump_major: tools.major,
        encoding: info.encoding,
        collate: info.collate,
        ctype: info.ctype,
        locale_provider: info.locale_provider,
        icu_locale: info.icu_locale,
        tables,
        sequences,
        large_objects: los.len() as u64,
    };
    Ok(Exported {
        database: primary.spec.dbname().to_string(),
        source: primary.spec.display(),
        meta: serde_json::to_value(meta).expect("meta serialises"),
        fingerprints,
        note: None,
    })
}

/// Like pg_dump: no table may be dropped or truncated under the backup.
fn lock_tables(c: &mut Client, tables: &[TableInfo]) -> Result<()> {
    for batch in tables.chunks(500) {
        let names: Vec<String> = batch
            .iter()
            .map(|t| qualified(&t.schema, &t.name))
            .collect();
        c.batch_execute(&format!(
            "LOCK TABLE {} IN ACCESS SHARE MODE",
            names.join(", ")
        ))
        .map_err(|e| query_error("locking the tables to back up", &e))?;
    }
    Ok(())
}

/// Open a connection that sees exactly the coordinator's snapshot.
fn snapshot_connection(pg: &Postgres, snapshot: &str) -> Result<CopyConnection> {
    let mut c = CopyConnection::open(&pg.spec)?;
    c.batch_execute(&format!(
        "{SESSION}; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT {}",
        quote_literal(snapshot)
    ))
    .map_err(|e| query_error("adopting the backup snapshot", &e))?;
    Ok(c)
}

#[allow(clippy::too_many_arguments)]
fn copy_worker(
    pg: &Postgres,
    snapshot: &str,
    tables: &[TableInfo],
    units: &[(usize, u32)],
    next: &AtomicUsize,
    failed: &FirstError,
    writer: &BackupWriter,
    progress: &dyn Progress,
    digests: &Mutex<Vec<RowDigest>>,
) -> Result<()> {
    let mut c = snapshot_connection(pg, snapshot)?;
    loop {
        crate::interrupt::check()?;
        if failed.is_set() {
            return Ok(());
        }
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(&(ti, part)) = units.get(i) else {
            break;
        };
        let t = &tables[ti];
        progress.phase(&format!("copying {}.{}", t.schema, t.name));
        let d = copy_table(&mut c, t, part, writer, progress)?;
        digests.lock().unwrap()[ti].merge(&d);
    }
    c.batch_execute("COMMIT")
        .map_err(|e| query_error("ending a copy transaction", &e))
}

/// `("a", "b")`, or nothing for a table without columns.
pub(super) fn column_list(t: &TableInfo) -> String {
    if t.columns.is_empty() {
        String::new()
    } else {
        let cols: Vec<String> = t.columns.iter().map(|c| quote_ident(c)).collect();
        format!(" ({})", cols.join(", "))
    }
}

pub(super) fn format_clause(f: CopyFormat) -> &'static str {
    match f {
        CopyFormat::Binary => " (FORMAT binary)",
        CopyFormat::Text => "",
    }
}

/// Split the tables that hold a large share of the data (half a
/// connection's share or more) into block ranges, one per connection: one
/// COPY keeps only one server process busy.
fn plan_parts(tables: &mut [TableInfo], jobs: usize) {
    let total: u64 = tables.iter().map(|t| t.bytes).sum();
    for t in tables.iter_mut() {
        if holds_large_share(t, total, jobs) && divisible(t, jobs) {
            t.parts = jobs as u32;
        }
    }
}

/// Tables smaller than this are never split.
const SPLIT_MIN_BYTES: u64 = 64 << 20;

/// Whether `t` holds so much of the `total` bytes (half a connection's
/// share or more) that `jobs` connections should share it.
pub(super) fn holds_large_share(t: &TableInfo, total: u64, jobs: usize) -> bool {
    jobs > 1 && t.bytes >= SPLIT_MIN_BYTES && t.bytes * 2 * jobs as u64 >= total
}

/// Whether `t` can be read in block ranges: a whole table of columns, with
/// a block for every connection.
pub(super) fn divisible(t: &TableInfo, jobs: usize) -> bool {
    t.filter.is_none() && !t.columns.is_empty() && t.blocks >= jobs as u64
}

fn copy_table(
    c: &mut CopyConnection,
    t: &TableInfo,
    part: u32,
    writer: &BackupWriter,
    progress: &dyn Progress,
) -> Result<RowDigest> {
    let name = qualified(&t.schema, &t.name);
    let source = copy_source(t, Some(part));
    let sql = format!("COPY {source} TO STDOUT{}", format_clause(t.format));
    let what = format!("copying {}.{}", t.schema, t.name);
    // As pg_dump's workers do: the coordinator holds this lock already, so
    // waiting here can only mean another session queued an exclusive lock
    // behind it, and waiting would never end.
    c.batch_execute(&format!("LOCK TABLE {name} IN ACCESS SHARE MODE NOWAIT"))
        .map_err(|e| {
            query_error(&what, &e).with_hint(
                "another session is waiting for an exclusive lock on this table (ALTER, DROP, \
                 TRUNCATE, VACUUM FULL); run the backup again when it is done",
            )
        })?;
    let mut stream = writer.stream(&super::part_stream(t, part))?;
    let mut digest = CopyDigest::new(t.format);
    c.copy_out(
        &sql,
        |piece| {
            digest.feed(piece)?;
            stream.write_all(piece).map_err(|e| from_io(e, &what))?;
            progress.advance(piece.len() as u64);
            Ok(())
        },
        |e| query_error(&what, e),
    )?;
    stream.finish()?;
    digest.finish(&what)
}

/// What `COPY ... TO STDOUT` reads for part `part` of table `t` (`None`:
/// the whole table, as a restore check reads it back).
pub(super) fn copy_source(t: &TableInfo, part: Option<u32>) -> String {
    let name = qualified(&t.schema, &t.name);
    let cols: Vec<String> = t.columns.iter().map(|c| quote_ident(c)).collect();
    match (&t.filter, part) {
        (Some(f), _) => format!("(SELECT {} FROM ONLY {name} {f})", cols.join(", ")),
        (None, Some(part)) if t.parts > 1 => {
            // Rows are never moved while the backup holds its lock, and the
            // last range is open so that no page is missed.
            let per = t.blocks / t.parts as u64;
            let lo = per * part as u64;
            let hi = if part + 1 == t.parts {
                String::new()
            } else {
                format!(" AND ctid < '({},0)'::tid", per * (part as u64 + 1))
            };
            format!(
                "(SELECT {} FROM ONLY {name} WHERE ctid >= '({lo},0)'::tid{hi})",
                cols.join(", ")
            )
        }
        _ => format!("{name}{}", column_list(t)),
    }
}

/// `pg_dump -Fc` of the pre-data and post-data sections, from the snapshot.
///
/// Not `--schema-only`: that would also leave out the large objects'
/// definitions and the refresh of materialized views, which pg_dump counts
/// as data; with only these two sections, no table rows are dumped anyway.
fn dump_schema(
    tools: &tools::Tools,
    pg: &Postgres,
    snapshot: &str,
    writer: &BackupWriter,
) -> Result<()> {
    let mut cmd = tools::command(&tools.pg_dump, &pg.spec);
    cmd.args(["--format=custom", "--compress=0", "--no-password"])
        // Fail rather than hang behind a session waiting for an exclusive lock.
        .arg("--lock-wait-timeout=300s")
        .args(["--section=pre-data", "--section=post-data"])
        .arg(format!("--snapshot={snapshot}"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| {
        Error::usage(format!("cannot run `{}`: {e}", tools.pg_dump.display())).with_hint(format!(
            "check the PostgreSQL client tools, or set {}",
            tools::BINDIR_ENV
        ))
    })?;
    let mut err_pipe = child.stderr.take().expect("piped");
    let stderr = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let mut out = child.stdout.take().expect("piped");
    let mut stream = writer.stream(SCHEMA_STREAM)?;
    let copied = std::io::copy(&mut out, &mut stream);
    drop(out);
    if copied.is_err() {
        let _ = child.kill();
    }
    let status = child
        .wait()
        .map_err(|e| Error::database(format!("pg_dump did not finish: {e}")))?;
    let stderr = stderr.join().unwrap_or_default();
    if let Err(e) = copied {
        return Err(from_io(e, "writing the schema"));
    }
    if !status.success() {
        return Err(Error::database(format!(
            "pg_dump failed: {}",
            tools::tail_of(&stderr)
        )));
    }
    stream.finish()?;
    Ok(())
}
