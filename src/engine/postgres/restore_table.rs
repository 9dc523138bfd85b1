//! `--table`: one table, with its defaults, sequences, indexes,
//! constraints, triggers, policies, comments and grants, restored into an
//! existing database. The table is dropped again if anything fails.

use super::catalog::{self, qualified};
use super::connect::{connect, query_error};
use super::restore::{LOAD_SESSION, load_table, pg_restore};
use super::{PgMeta, Postgres, SCHEMA_STREAM, TableInfo, tools};
use crate::engine::{RestoreOptions, Restored};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::repo::Repository;
use crate::repo::index::Index;
use crate::repo::point::RestorePoint;

/// The table a user named: `schema.name`, `"Quoted"."Name"`, or a bare
/// name when only one schema has it.
fn find<'a>(meta: &'a PgMeta, wanted: &str) -> Result<&'a TableInfo> {
    let matches: Vec<&TableInfo> = meta
        .tables
        .iter()
        .filter(|t| {
            wanted == format!("{}.{}", t.schema, t.name)
                || wanted == qualified(&t.schema, &t.name)
                || wanted == t.name
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(
            Error::usage(format!("the restore point has no table `{wanted}`")).with_hint(
                "give it as schema.name; partitioned tables are restored partition by partition",
            ),
        ),
        _ => Err(
            Error::usage(format!("`{wanted}` names tables in several schemas"))
                .with_hint("give it as schema.name"),
        ),
    }
}

/// Object kinds (pg_restore's `desc`) that belong to a table through their tag.
const TAGGED_BY_TABLE: &[&str] = &[
    "CONSTRAINT",
    "FK CONSTRAINT",
    "CHECK CONSTRAINT",
    "TRIGGER",
    "POLICY",
    "RULE",
    "DEFAULT",
];

/// Whether a `pg_restore -l` line is part of table `t`. Lines read
/// `id; tableoid oid DESC SCHEMA TAG OWNER`; the schema and table are
/// known, so names with spaces are matched literally rather than split.
fn belongs(line: &str, t: &TableInfo) -> bool {
    let Some((_, rest)) = line.split_once("; ") else {
        return false;
    };
    let mut parts = rest.splitn(3, ' ');
    let (Some(_), Some(_), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let tag_of = |desc: &str, schema: &str| -> Option<String> {
        let tail = rest.strip_prefix(&format!("{desc} {schema} "))?;
        // The owner is the last word.
        Some(
            tail.rsplit_once(' ')
                .map_or(tail, |(tag, _)| tag)
                .to_string(),
        )
    };
    let s = t.schema.as_str();
    let n = t.name.as_str();
    if tag_of("TABLE", s).is_some_and(|tag| tag == n)
        || tag_of("ROW SECURITY", s).is_some_and(|tag| tag == n)
    {
        return true;
    }
    if TAGGED_BY_TABLE
        .iter()
        .any(|d| tag_of(d, s).is_some_and(|tag| tag.starts_with(&format!("{n} "))))
    {
        return true;
    }
    if tag_of("INDEX", s).is_some_and(|tag| t.indexes.contains(&tag)) {
        return true;
    }
    for d in ["SEQUENCE", "SEQUENCE OWNED BY"] {
        if tag_of(d, s).is_some_and(|tag| t.owned_sequences.contains(&tag)) {
            return true;
        }
    }
    for d in ["COMMENT", "ACL"] {
        if let Some(tag) = tag_of(d, s)
            && (tag == format!("TABLE {n}")
                || tag.starts_with(&format!("COLUMN {n}."))
                || tag.ends_with(&format!(" ON {n}"))
                || t.indexes.iter().any(|i| tag == format!("INDEX {i}"))
                || t.owned_sequences
                    .iter()
                    .any(|q| tag == format!("SEQUENCE {q}")))
        {
            return true;
        }
    }
    false
}

fn table_size(point: &RestorePoint, t: &TableInfo) -> Result<u64> {
    (0..t.parts)
        .map(|p| point.stream(&super::part_stream(t, p)).map(|s| s.size))
        .sum()
}

#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    pg: &Postgres,
    repo: &Repository,
    index: &Index,
    point: &RestorePoint,
    meta: &PgMeta,
    wanted: &str,
    opts: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<Restored> {
    let t = find(meta, wanted)?;
    let name = qualified(&t.schema, &t.name);
    progress.phase("connecting");
    let mut c = connect(&pg.spec).map_err(|e| {
        if e.message.contains("does not exist") {
            e.with_hint("--table restores into an existing database; create it first")
        } else {
            e
        }
    })?;
    let info = catalog::database_info(&mut c)?;
    let tools = tools::find(info.major().max(meta.pg_dump_major))?;
    let exists: bool = c
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&name])
        .map_err(|e| query_error("looking for the table", &e))?
        .get(0);
    if exists {
        if !(opts.clean || opts.force) {
            return Err(Error::usage(format!(
                "table {}.{} already exists in `{}`",
                t.schema,
                t.name,
                pg.spec.display()
            ))
            .with_hint("add --clean to replace it, or restore into another database"));
        }
        c.batch_execute(&format!("DROP TABLE {name}"))
            .map_err(|e| {
                query_error(
                    &format!("dropping the existing {}.{}", t.schema, t.name),
                    &e,
                )
            })?;
    }
    c.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {}",
        catalog::quote_ident(&t.schema)
    ))
    .map_err(|e| query_error("creating the table's schema", &e))?;

    let archive = crate::leftovers::create(&std::env::temp_dir(), "sqlvault-schema-", "")
        .map_err(|e| Error::database(format!("cannot create a temporary file: {e}")))?;
    repo.restore_stream_to_file(
        index,
        point.stream(SCHEMA_STREAM)?,
        archive.as_file(),
        &|e| crate::error::local_io_error("writing", archive.path(), e),
        progress,
    )?;
    let list = crate::leftovers::create(&std::env::temp_dir(), "sqlvault-toc-", "")
        .map_err(|e| Error::database(format!("cannot create a temporary file: {e}")))?;
    let toc = tools::command(&tools.pg_restore, &pg.spec)
        .arg("--list")
        .arg(archive.path())
        .output()
        .map_err(|e| Error::usage(format!("cannot run `{}`: {e}", tools.pg_restore.display())))?;
    if !toc.status.success() {
        return Err(Error::database(format!(
            "pg_restore --list failed: {}",
            tools::tail_of(&toc.stderr)
        )));
    }
    let selected: Vec<&str> = std::str::from_utf8(&toc.stdout)
        .map_err(|_| Error::repository("the schema archive's table of contents is not UTF-8"))?
        .lines()
        .filter(|l| !l.starts_with(';') && belongs(l, t))
        .collect();
    std::fs::write(list.path(), selected.join("\n") + "\n")
        .map_err(|e| Error::database(format!("cannot write a temporary file: {e}")))?;
    let use_list = format!("--use-list={}", list.path().display());

    let r = (|| -> Result<String> {
        progress.set_total(table_size(point, t)?);
        progress.phase("schema: table");
        pg_restore(
            &tools,
            &pg.spec,
            archive.path(),
            "pre-data",
            1,
            &[&use_list],
        )?;
        c.batch_execute(LOAD_SESSION)
            .map_err(|e| query_error("setting up the session", &e))?;
        for part in 0..t.parts {
            load_table(&mut c, repo, index, point, t, part, progress)?;
        }
        progress.phase("schema: indexes, constraints, triggers");
        pg_restore(
            &tools,
            &pg.spec,
            archive.path(),
            "post-data",
            1,
            &[&use_list],
        )?;
        for s in meta
            .sequences
            .iter()
            .filter(|s| s.schema == t.schema && t.owned_sequences.contains(&s.name))
        {
            c.execute(
                "SELECT pg_catalog.setval($1::text::regclass, $2, $3)",
                &[&qualified(&s.schema, &s.name), &s.last_value, &s.is_called],
            )
            .map_err(|e| query_error("setting the table's sequences", &e))?;
        }
        c.batch_execute(&format!("ANALYZE {name}"))
            .map_err(|e| query_error("analyzing the table", &e))?;
        super::fingerprint::check(
            &pg.spec,
            meta,
            point.fingerprints.as_ref(),
            opts.check,
            1,
            Some(t),
            progress,
        )
    })();
    let check = match r {
        Ok(check) => check,
        Err(e) => {
            let _ = c.batch_execute(&format!("DROP TABLE IF EXISTS {name} CASCADE"));
            return Err(e);
        }
    };
    Ok(Restored {
        target: format!("{} ({}.{})", pg.spec.display(), t.schema, t.name),
        bytes_written: table_size(point, t)?,
        check,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::postgres::CopyFormat;

    fn table() -> TableInfo {
        TableInfo {
            stream: String::new(),
            schema: "Sales Dept".into(),
            name: "Order \"Lines\"".into(),
            columns: vec![],
            format: CopyFormat::Binary,
            bytes: 0,
            rows_estimate: 0,
            filter: None,
            indexes: vec![
                "idx Order Lines created".into(),
                "Order \"Lines\"_pkey".into(),
            ],
            owned_sequences: vec!["Order \"Lines\"_id_seq".into()],
            parts: 1,
            blocks: 0,
        }
    }

    #[test]
    fn picks_the_table_and_what_hangs_off_it() {
        let t = table();
        let yes = [
            "215; 1259 16420 TABLE Sales Dept Order \"Lines\" postgres",
            "3400; 2606 16424 CONSTRAINT Sales Dept Order \"Lines\" Order \"Lines\"_pkey postgres",
            "3401; 1259 16425 INDEX Sales Dept idx Order Lines created postgres",
            "216; 1259 16419 SEQUENCE Sales Dept Order \"Lines\"_id_seq postgres",
            "3402; 0 0 COMMENT Sales Dept COLUMN Order \"Lines\".note postgres",
            "3403; 0 0 ACL Sales Dept TABLE Order \"Lines\" postgres",
            "3404; 2620 16430 TRIGGER Sales Dept Order \"Lines\" audit postgres",
        ];
        let no = [
            "217; 1259 16421 TABLE Sales Dept Order postgres",
            "218; 1259 16422 TABLE public Order \"Lines\" postgres",
            "3405; 1259 16426 INDEX Sales Dept other_index postgres",
            "219; 1247 16400 TYPE Sales Dept mood postgres",
        ];
        for l in yes {
            assert!(belongs(l, &t), "{l}");
        }
        for l in no {
            assert!(!belongs(l, &t), "{l}");
        }
    }
}
