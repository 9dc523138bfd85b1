//! Restoring a whole database: built under a temporary name, renamed into
//! place only when complete, dropped if anything fails.

use super::backup::{FirstError, column_list, format_clause};
use super::catalog::{self, qualified, quote_ident, quote_literal};
use super::connect::{admin_connection, connect, query_error};
use super::replace::{Aside, TempDatabase};
use super::{ConnSpec, PgMeta, Postgres, SCHEMA_STREAM, TableInfo, largeobjects, tools};
use crate::engine::{RestoreOptions, Restored};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::repo::Repository;
use crate::repo::index::Index;
use crate::repo::point::RestorePoint;
use postgres::Client;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Settings for loading sessions: nothing to wait for on commit, and rows
/// go in as they are, whatever policies the tables have.
pub(super) const LOAD_SESSION: &str = "SET synchronous_commit = off; SET row_security = off; SET statement_timeout = 0; \
     SET lock_timeout = 0; SET DateStyle = ISO; SET IntervalStyle = postgres";

/// Whether a database holds anything a user made.
pub(super) fn is_empty(c: &mut Client) -> Result<bool> {
    let sql = "SELECT NOT (\
        EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
                  AND n.nspname NOT LIKE 'pg\\_%') \
        OR EXISTS (SELECT 1 FROM pg_namespace WHERE nspname NOT IN ('public', 'information_schema') \
                  AND nspname NOT LIKE 'pg\\_%') \
        OR EXISTS (SELECT 1 FROM pg_extension WHERE extname <> 'plpgsql') \
        OR EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')) \
        OR EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
                  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
                  AND n.nspname NOT LIKE 'pg\\_%'))";
    Ok(c.query_one(sql, &[])
        .map_err(|e| query_error("inspecting the target database", &e))?
        .get(0))
}

#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    pg: &Postgres,
    repo: &Repository,
    index: &Index,
    point: &RestorePoint,
    meta: &PgMeta,
    jobs: usize,
    opts: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<Restored> {
    let target = pg.spec.dbname().to_string();
    let shown = pg.spec.display();
    progress.phase("connecting");
    let mut admin = admin_connection(&pg.spec)?;
    let info = catalog::database_info(&mut admin)?;
    catalog::check_supported(&info, &pg.spec.server())?;
    let tools = tools::find(info.major().max(meta.pg_dump_major))?;
    let exists = !admin
        .query("SELECT 1 FROM pg_database WHERE datname = $1", &[&target])
        .map_err(|e| query_error("looking for the target database", &e))?
        .is_empty();
    if exists && !(opts.clean || opts.force) && !is_empty(&mut connect(&pg.spec)?)? {
        return Err(Error::usage(format!(
            "database `{target}` already exists on `{}` and is not empty",
            pg.spec.server()
        ))
        .with_hint("choose another database in --to, or add --clean to replace it"));
    }
    let tmp = format!(
        "{}{}",
        super::leftovers::TEMP_PREFIX,
        hex::encode(rand::random::<[u8; 6]>())
    );
    super::leftovers::claim(&mut admin, &tmp)?;
    // Guarded from before it exists: a session ended during CREATE
    // DATABASE may leave it created (the name is this restore's alone).
    let mut guard = TempDatabase::new(
        &mut admin,
        &pg.spec,
        &tmp,
        info.server_version_num >= 130000,
    );
    if let Err(e) = guard.execute(&create_database_sql(&tmp, meta)) {
        let e = query_error(
            &format!("creating a database on `{}`", pg.spec.server()),
            &e,
        );
        return Err(guard.discard(e));
    }
    let tmp_spec = pg.spec.with_dbname(&tmp);
    let tmp_pg = Postgres {
        spec: tmp_spec.clone(),
        jobs,
        standby: None,
    };
    let loaded = (|| -> Result<String> {
        progress.set_total(point.size());

        // The archive must be a seekable file for a parallel pg_restore.
        let archive = crate::leftovers::create(&std::env::temp_dir(), "sqlvault-schema-", "")
            .map_err(|e| Error::database(format!("cannot create a temporary file: {e}")))?;
        repo.restore_stream_to_file(
            index,
            point.stream(SCHEMA_STREAM)?,
            archive.as_file(),
            &|e| crate::error::local_io_error("writing", archive.path(), e),
            progress,
        )?;

        progress.phase("schema: tables and types");
        pg_restore(&tools, &tmp_spec, archive.path(), "pre-data", 1, &[])?;
        load_tables(&tmp_pg, repo, index, point, &meta.tables, jobs, progress)?;
        {
            let mut c = connect(&tmp_spec)?;
            c.batch_execute(LOAD_SESSION)
                .map_err(|e| query_error("setting up the session", &e))?;
            largeobjects::import(&mut c, repo, index, point, progress)?;
        }
        progress.phase("schema: indexes, constraints, triggers");
        pg_restore(&tools, &tmp_spec, archive.path(), "post-data", jobs, &[])?;
        {
            let mut c = connect(&tmp_spec)?;
            set_sequences(&mut c, meta)?;
        }
        progress.phase("analyze");
        analyze(&tmp_pg, &meta.tables, jobs)?;
        super::fingerprint::check(
            &tmp_spec,
            meta,
            point.fingerprints.as_ref(),
            opts.check,
            jobs,
            None,
            progress,
        )
    })();
    let check = match loaded {
        Ok(check) => check,
        Err(e) => return Err(guard.discard(e)),
    };

    progress.phase("renaming into place");
    let replaced = guard.swap_into_place(&target, exists)?;
    let check = match replaced {
        Some(Aside::Kept(name)) => format!(
            "{check}; the database it replaced could not be dropped and is kept as `{name}`: drop it once no one uses it"
        ),
        _ => check,
    };
    Ok(Restored {
        target: shown,
        bytes_written: point.size(),
        check,
    })
}

fn create_database_sql(name: &str, meta: &PgMeta) -> String {
    let mut sql = format!(
        "CREATE DATABASE {} TEMPLATE template0 ENCODING {} LC_COLLATE {} LC_CTYPE {}",
        quote_ident(name),
        quote_literal(&meta.encoding),
        quote_literal(&meta.collate),
        quote_literal(&meta.ctype)
    );
    if meta.locale_provider.as_deref() == Some("i") {
        sql.push_str(" LOCALE_PROVIDER icu");
        if let Some(l) = &meta.icu_locale {
            sql.push_str(&format!(" ICU_LOCALE {}", quote_literal(l)));
        }
    }
    sql
}

/// Apply one section of the schema archive with pg_restore.
pub(super) fn pg_restore(
    tools: &tools::Tools,
    spec: &ConnSpec,
    archive: &std::path::Path,
    section: &str,
    jobs: usize,
    extra: &[&str],
) -> Result<()> {
    let mut cmd = tools::command(&tools.pg_restore, spec);
    cmd.args(["--exit-on-error", "--no-password"])
        .arg(format!("--section={section}"))
        .arg(format!("--jobs={}", jobs.max(1)))
        .arg(format!("--dbname={}", super::tools::conninfo_dbname(spec)))
        .args(extra)
        .arg(archive);
    // Index builds are the slow part of post-data; give them memory.
    let tuning = "-c maintenance_work_mem=256MB -c synchronous_commit=off";
    cmd.env(
        "PGOPTIONS",
        match &spec.options {
            Some(o) => format!("{o} {tuning}"),
            None => tuning.to_string(),
        },
    );
    let out = cmd.output().map_err(|e| {
        Error::usage(format!("cannot run `{}`: {e}", tools.pg_restore.display())).with_hint(
            format!(
                "check the PostgreSQL client tools, or set {}",
                tools::BINDIR_ENV
            ),
        )
    })?;
    if !out.status.success() {
        return Err(Error::database(format!(
            "pg_restore ({section}) failed: {}",
            tools::tail_of(&out.stderr)
        )));
    }
    Ok(())
}

fn load_tables(
    pg: &Postgres,
    repo: &Repository,
    index: &Index,
    point: &RestorePoint,
    tables: &[TableInfo],
    jobs: usize,
    progress: &dyn Progress,
) -> Result<()> {
    // A table stored in one stream but holding a large share of the data
    // (an older backup, or --jobs 1 then) is loaded by every connection at
    // once; the rest one stream per connection, largest first.
    let total: u64 = tables.iter().map(|t| t.bytes).sum();
    let split = |t: &TableInfo| t.parts == 1 && super::backup::holds_large_share(t, total, jobs);
    for t in tables.iter().filter(|t| split(t)) {
        let what = format!("loading {}.{}", t.schema, t.name);
        progress.phase(&what);
        super::split_load::load(
            &pg.spec,
            repo,
            index,
            point.stream(&t.stream)?,
            &copy_in_sql(t),
            t.format,
            jobs,
            &what,
            progress,
        )?;
    }
    let mut order: Vec<(&TableInfo, u32)> = tables
        .iter()
        .filter(|t| !split(t))
        .flat_map(|t| (0..t.parts).map(move |p| (t, p)))
        .collect();
    order.sort_by_key(|(t, _)| std::cmp::Reverse(t.bytes / t.parts as u64));
    let next = AtomicUsize::new(0);
    let failed = FirstError::new();
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(order.len()) {
            s.spawn(|| {
                let r = (|| -> Result<()> {
                    let mut c = connect(&pg.spec)?;
                    c.batch_execute(LOAD_SESSION)
                        .map_err(|e| query_error("setting up the session", &e))?;
                    loop {
                        crate::interrupt::check()?;
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&(t, part)) = order.get(i) else {
                            return Ok(());
                        };
                        if failed.is_set() {
                            return Ok(());
                        }
                        load_table(&mut c, repo, index, point, t, part, progress)?;
                    }
                })();
                if let Err(e) = r {
                    failed.set(e);
                }
            });
        }
    });
    match failed.take() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// COPY one table's stream into it.
pub(super) fn load_table(
    c: &mut Client,
    repo: &Repository,
    index: &Index,
    point: &RestorePoint,
    t: &TableInfo,
    part: u32,
    progress: &dyn Progress,
) -> Result<()> {
    let entry = point.stream(&super::part_stream(t, part))?;
    progress.phase(&format!("loading {}.{}", t.schema, t.name));
    let what = format!("loading {}.{}", t.schema, t.name);
    let sql = copy_in_sql(t);
    let mut w = c.copy_in(&sql).map_err(|e| query_error(&what, &e))?;
    let r = repo.restore_stream(index, entry, &mut w, progress);
    match r {
        Ok(_) => {
            w.finish().map_err(|e| query_error(&what, &e))?;
            Ok(())
        }
        // A failed COPY reports the server's reason at finish.
        Err(e) => match w.finish() {
            Err(pe) if pe.as_db_error().is_some() => Err(query_error(&what, &pe)),
            _ => Err(e),
        },
    }
}

fn copy_in_sql(t: &TableInfo) -> String {
    format!(
        "COPY {}{} FROM STDIN{}",
        qualified(&t.schema, &t.name),
        column_list(t),
        format_clause(t.format)
    )
}

pub(super) fn set_sequences(c: &mut Client, meta: &PgMeta) -> Result<()> {
    for s in &meta.sequences {
        let name = qualified(&s.schema, &s.name);
        c.execute(
            "SELECT pg_catalog.setval($1::text::regclass, $2, $3)",
            &[&name, &s.last_value, &s.is_called],
        )
        .map_err(|e| query_error(&format!("setting sequence {}.{}", s.schema, s.name), &e))?;
    }
    Ok(())
}

/// ANALYZE every restored table, `jobs` at a time, so the planner has
/// statistics from the first query on.
pub(super) fn analyze(pg: &Postgres, tables: &[TableInfo], jobs: usize) -> Result<()> {
    let next = AtomicUsize::new(0);
    let failed = FirstError::new();
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(tables.len()) {
            s.spawn(|| {
                let r = (|| -> Result<()> {
                    let mut c = connect(&pg.spec)?;
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(t) = tables.get(i) else {
                            return Ok(());
                        };
                        if failed.is_set() {
                            return Ok(());
                        }
                        c.batch_execute(&format!("ANALYZE {}", qualified(&t.schema, &t.name)))
                            .map_err(|e| query_error("analyzing the restored tables", &e))?;
                    }
                })();
                if let Err(e) = r {
                    failed.set(e);
                }
            });
        }
    });
    match failed.take() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
