//! Restoring a database: created empty, the schema applied with the
//! `mariadb` client, the rows loaded in parallel with `LOAD DATA LOCAL
//! INFILE` straight from the repository, then triggers and events, and the
//! fingerprints checked before the restore counts as done. A restore that
//! fails drops the database it created, so nothing half-restored is left.
//!
//! MariaDB cannot rename a database, so the restore is built under the
//! target's own name, marked as incomplete until its check passes (see
//! [`super::leftovers`]); `--clean` replaces an existing one only once the
//! restore starts.

use super::backup::{MariaMeta, SESSION};
use super::catalog::{TableInfo, quote_ident, quote_literal};
use super::connect::{connect, query_error};
use super::{ConnSpec, MariaDb, POST_DATA_STREAM, PRE_DATA_STREAM, tools};
use crate::engine::{RestoreOptions, Restored};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::repo::Repository;
use crate::repo::index::Index;
use crate::repo::point::RestorePoint;
use mysql::Conn;
use mysql::prelude::Queryable;

/// Loading sessions: rows go in as they are, with no checks the source
/// already made.
pub(super) const LOAD_SESSION: &str = "SET SESSION foreign_key_checks = 0, unique_checks = 0, \
     check_constraint_checks = 0";

/// Whether `database` holds anything a user made.
pub(super) fn is_empty(c: &mut Conn, database: &str) -> Result<bool> {
    let n: Option<u64> = c
        .exec_first(
            "SELECT (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?) \
                  + (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?) \
                  + (SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?)",
            (database, database, database),
        )
        .map_err(|e| query_error("inspecting the target database", &e))?;
    Ok(n.unwrap_or(0) == 0)
}

pub(super) fn database_exists(c: &mut Conn, database: &str) -> Result<bool> {
    Ok(super::catalog::database_charset(c, database)?.is_some())
}

/// Drops the database a restore created unless the restore completed,
/// over a new connection when the restore's own was killed.
struct Created<'a> {
    admin: &'a mut Conn,
    spec: ConnSpec,
    name: String,
    keep: bool,
}

impl Drop for Created<'_> {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        let sql = format!("DROP DATABASE IF EXISTS {}", quote_ident(&self.name));
        if self.admin.query_drop(&sql).is_err()
            && let Ok(mut c) = connect(&self.spec)
        {
            // Left out of the binary log as the restore was, if it may be.
            let _ = c.query_drop(NO_BINLOG);
            let _ = c.query_drop(&sql);
        }
    }
}

pub(super) fn run(
    server: &MariaDb,
    repo: &Repository,
    index: &Index,
    point: &RestorePoint,
    meta: &MariaMeta,
    opts: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<Restored> {
    let target = server.spec.database().to_string();
    if target.is_empty() {
        return Err(Error::usage("the restore target names no database")
            .with_hint("give --to mariadb://user@host/new_database"));
    }
    progress.phase("connecting");
    let tools = tools::find()?;
    let admin_spec = server.spec.with_database("");
    let mut admin = connect(&admin_spec)?;
    let quiet = !opts.binlog && leave_out_of_binlog(&mut admin);
    if database_exists(&mut admin, &target)? {
        if !(opts.clean || opts.force || is_empty(&mut admin, &target)?) {
            return Err(Error::usage(format!(
                "database `{target}` already exists on `{}` and is not empty",
                server.spec.server()
            ))
            .with_hint("choose another database in --to, or add --clean to replace it"));
        }
        admin
            .query_drop(format!("DROP DATABASE {}", quote_ident(&target)))
            .map_err(|e| query_error(&format!("replacing database `{target}`"), &e))?;
    }
    // MySQL has no database comments: there, a killed restore's target
    // is not recognised as incomplete.
    let version: Option<String> = admin
        .query_first("SELECT VERSION()")
        .map_err(|e| query_error("reading the server version", &e))?;
    let mark = match version.is_some_and(|v| v.contains("MariaDB")) {
        true => Some(super::leftovers::claim(&mut admin)?),
        false => None,
    };
    admin
        .query_drop(format!(
            "CREATE DATABASE {} CHARACTER SET {} COLLATE {}{}",
            quote_ident(&target),
            quote_literal(&meta.charset),
            quote_literal(&meta.collation),
            mark.map(|m| format!(" COMMENT {}", quote_literal(&m)))
                .unwrap_or_default()
        ))
        .map_err(|e| {
            query_error(
                &format!("creating a database on `{}`", server.spec.server()),
                &e,
            )
        })?;
    let guard = Created {
        admin: &mut admin,
        spec: admin_spec.clone(),
        name: target.clone(),
        keep: false,
    };
    progress.set_total(point.size());

    progress.phase("schema: tables, views, routines");
    apply(
        &tools,
        &server.spec,
        repo,
        index,
        point,
        PRE_DATA_STREAM,
        quiet,
        progress,
    )?;
    let jobs = if opts.jobs > 0 {
        opts.jobs
    } else {
        server.jobs
    };
    load_tables(
        &server.spec,
        repo,
        index,
        point,
        &meta.tables,
        jobs,
        quiet,
        progress,
    )?;
    progress.phase("schema: triggers, events");
    apply(
        &tools,
        &server.spec,
        repo,
        index,
        point,
        POST_DATA_STREAM,
        quiet,
        progress,
    )?;
    let check = super::check::check(
        &server.spec,
        meta,
        point.fingerprints.as_ref(),
        opts.check,
        jobs,
        None,
        progress,
    )?;
    let mut guard = guard;
    super::leftovers::unmark(guard.admin, &target)?;
    guard.keep = true;
    Ok(Restored {
        target: server.spec.display(),
        bytes_written: point.size(),
        check,
    })
}

/// What leaves a session out of the binary log.
const NO_BINLOG: &str = "SET SESSION sql_log_bin = 0";

/// Whether this session, and so every session of the restore, may be left
/// out of the binary log (the privilege to do so). All of a restore is
/// logged or none of it, so a replica never gets its tables without rows.
fn leave_out_of_binlog(admin: &mut Conn) -> bool {
    admin.query_drop(NO_BINLOG).is_ok()
}

/// Feed one schema stream to the `mariadb` client, in the target database.
#[allow(clippy::too_many_arguments)]
fn apply(
    tools: &tools::Tools,
    spec: &ConnSpec,
    repo: &Repository,
    index: &Index,
    point: &RestorePoint,
    stream: &str,
    quiet: bool,
    progress: &dyn Progress,
) -> Result<()> {
    let entry = point.stream(stream)?;
    let mut cmd = tools::command(&tools.client, spec);
    if quiet {
        cmd.arg(format!("--init-command={NO_BINLOG}"));
    }
    cmd.args(["--batch", "--binary-mode", "--database"])
        .arg(spec.database())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null());
    let (mut child, stderr) = tools::spawn(&mut cmd, &tools.client)?;
    let mut stdin = child.stdin.take().expect("piped");
    let fed = repo.restore_stream(index, entry, &mut stdin, progress);
    drop(stdin);
    let status = child
        .wait()
        .map_err(|e| Error::database(format!("the mariadb client did not finish: {e}")))?;
    let stderr = stderr.join().unwrap_or_default();
    if !status.success() {
        return Err(Error::database(format!(
            "applying the schema ({stream}) failed: {}",
            tools::tail_of(&stderr)
        )));
    }
    fed.map(|_| ())
}

/// Load every table's streams, `jobs` at a time, largest first.
#[allow(clippy::too_many_arguments)]
fn load_tables(
    spec: &ConnSpec,
    repo: &Repository,
    index: &Index,
    point: &RestorePoint,
    tables: &[TableInfo],
    jobs: usize,
    quiet: bool,
    progress: &dyn Progress,
) -> Result<()> {
    let mut order: Vec<(&TableInfo, u32)> = tables
        .iter()
        .flat_map(|t| (0..t.parts).map(move |p| (t, p)))
        .collect();
    order.sort_by_key(|(t, _)| std::cmp::Reverse(t.bytes / t.parts as u64));
    let database = spec.database();
    crate::engine::parallel::each(
        jobs,
        &order,
        || {
            let mut c = connect(spec)?;
            c.query_drop(SESSION)
                .and_then(|_| c.query_drop(LOAD_SESSION))
                .and_then(|_| match quiet {
                    true => c.query_drop(NO_BINLOG),
                    false => Ok(()),
                })
                .map_err(|e| query_error("setting up the session", &e))?;
            Ok(c)
        },
        |c, &(t, part)| {
            progress.phase(&format!("loading {}", t.name));
            load_stream(
                c,
                repo,
                index,
                point.stream(&t.part_stream(part))?,
                t,
                database,
                progress,
            )
        },
    )
}

/// Load one stream into its table: a thread reads it from the repository
/// into a pipe the client sends to the server as the file.
pub(super) fn load_stream(
    c: &mut Conn,
    repo: &Repository,
    index: &Index,
    entry: &crate::repo::point::StreamEntry,
    t: &TableInfo,
    database: &str,
    progress: &dyn Progress,
) -> Result<()> {
    if t.history {
        // History rows keep their own row start and end, which only this
        // setting (MariaDB 10.11 and later) lets a load give.
        c.query_drop("SET SESSION system_versioning_insert_history = 1")
            .map_err(|e| {
                query_error(&format!("restoring the history of `{}`", t.name), &e).with_hint(
                    "restore into MariaDB 10.11 or newer, with secure_timestamp = NO (the default)",
                )
            })?;
    }
    let (reader, mut writer) =
        std::io::pipe().map_err(|e| Error::database(format!("cannot create a pipe: {e}")))?;
    std::thread::scope(|s| {
        let feeder = s.spawn(move || repo.restore_stream(index, entry, &mut writer, progress));
        let loaded = super::rows::load(c, &t.quoted(database), &t.column_list(), Box::new(reader));
        let fed = feeder
            .join()
            .unwrap_or_else(|_| Err(Error::database("a loading thread panicked")));
        // A stream that broke off must not pass for a short table; a load
        // the server refused closes the pipe, and its reason is the one to give.
        match (fed, loaded) {
            (Err(e), Ok(_)) => Err(e),
            (_, Err(e)) => Err(e),
            (Ok(_), Ok(_)) => Ok(()),
        }
    })
}
