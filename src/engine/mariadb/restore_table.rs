//! `--table`: one table, with its indexes, constraints and triggers,
//! restored into an existing database; dropped again if anything fails.

use super::backup::{MariaMeta, SESSION};
use super::catalog::{TableInfo, quote_ident};
use super::connect::{connect, query_error};
use super::restore::{LOAD_SESSION, load_stream};
use super::{MariaDb, POST_DATA_STREAM, PRE_DATA_STREAM};
use crate::engine::{RestoreOptions, Restored};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::repo::Repository;
use crate::repo::index::Index;
use crate::repo::point::RestorePoint;
use mysql::prelude::Queryable;

/// The table a user named: `name`, or `database.name` with the backed-up
/// database's name.
fn find<'a>(meta: &'a MariaMeta, database: &str, wanted: &str) -> Result<&'a TableInfo> {
    let bare = wanted
        .strip_prefix(database)
        .and_then(|r| r.strip_prefix('.'))
        .unwrap_or(wanted);
    let bare = bare
        .strip_prefix('`')
        .and_then(|r| r.strip_suffix('`'))
        .map(|r| r.replace("``", "`"))
        .unwrap_or_else(|| bare.to_string());
    meta.tables.iter().find(|t| t.name == bare).ok_or_else(|| {
        Error::usage(format!("the restore point has no table `{wanted}`"))
            .with_hint("`sqlvault show <point>` lists its tables")
    })
}

/// The statements of a `mariadb-dump` schema that belong to `table`: its
/// `CREATE TABLE` (pre-data), or its triggers (post-data, each between
/// `DELIMITER ;;` lines, ending in `;;`).
pub(super) fn statements_for(dump: &str, table: &str, triggers: bool) -> Vec<String> {
    let q = quote_ident(table);
    let mut out = Vec::new();
    let mut lines = dump.lines();
    while let Some(line) = lines.next() {
        if !triggers && line == format!("CREATE TABLE {q} (") {
            let mut stmt = vec![line.to_string()];
            for l in lines.by_ref() {
                stmt.push(l.to_string());
                if l.starts_with(')') && l.ends_with(';') {
                    break;
                }
            }
            out.push(stmt.join("\n").trim_end_matches(';').to_string());
        } else if triggers && line.contains("TRIGGER ") && line.starts_with("/*!50003 CREATE*/") {
            let mut stmt = vec![line.to_string()];
            while !stmt.last().is_some_and(|l| l.ends_with(";;")) {
                match lines.next() {
                    Some(l) => stmt.push(l.to_string()),
                    None => break,
                }
            }
            let text = stmt.join("\n");
            let on_table = [format!(" ON {q}"), format!(" ON {table}")]
                .iter()
                .any(|on| {
                    text.match_indices(on.as_str()).any(|(i, _)| {
                        text[i + on.len()..]
                            .chars()
                            .next()
                            .is_some_and(char::is_whitespace)
                    })
                });
            if on_table {
                out.push(text.trim_end_matches(";;").trim_end().to_string());
            }
        }
    }
    out
}

fn read_schema(
    repo: &Repository,
    index: &Index,
    point: &RestorePoint,
    stream: &str,
    progress: &dyn Progress,
) -> Result<String> {
    let mut buf = Vec::new();
    repo.restore_stream(index, point.stream(stream)?, &mut buf, progress)?;
    String::from_utf8(buf)
        .map_err(|_| Error::repository(format!("the `{stream}` stream is not UTF-8 text")))
}

#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    server: &MariaDb,
    repo: &Repository,
    index: &Index,
    point: &RestorePoint,
    meta: &MariaMeta,
    wanted: &str,
    opts: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<Restored> {
    let t = find(meta, &point.database, wanted)?;
    let database = server.spec.database();
    progress.phase("connecting");
    let mut c = connect(&server.spec.with_database("")).and_then(|mut c| {
        if super::restore::database_exists(&mut c, database)? {
            Ok(c)
        } else {
            Err(Error::usage(format!(
                "database `{database}` does not exist on `{}`",
                server.spec.server()
            ))
            .with_hint("--table restores into an existing database; create it first"))
        }
    })?;
    // Foreign keys are not checked: the table may be replaced while
    // others refer to it, and its rows went in with their references whole.
    c.query_drop(format!("USE {}", quote_ident(database)))
        .and_then(|_| c.query_drop(SESSION))
        .and_then(|_| c.query_drop(LOAD_SESSION))
        .and_then(|_| c.query_drop("SET NAMES utf8mb4"))
        .map_err(|e| query_error("setting up the session", &e))?;
    // One connection does all of it: logged whole or left out whole.
    if !opts.binlog {
        let _ = c.query_drop("SET SESSION sql_log_bin = 0");
    }
    let target = t.quoted(database);
    let exists: Option<u64> = c
        .exec_first(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            (database, &t.name),
        )
        .map_err(|e| query_error("looking for the table", &e))?;
    if exists.unwrap_or(0) > 0 {
        if !(opts.clean || opts.force) {
            return Err(
                Error::usage(format!("table `{}` already exists in `{database}`", t.name))
                    .with_hint("add --clean to replace it, or restore into another database"),
            );
        }
        c.query_drop(format!("DROP TABLE {target}"))
            .map_err(|e| query_error(&format!("replacing table `{}`", t.name), &e))?;
    }
    let pre = read_schema(repo, index, point, PRE_DATA_STREAM, progress)?;
    let post = read_schema(repo, index, point, POST_DATA_STREAM, progress)?;
    let create = statements_for(&pre, &t.name, false);
    let [create] = create.as_slice() else {
        return Err(Error::repository(format!(
            "the restore point's schema has no CREATE TABLE for `{}`",
            t.name
        )));
    };
    c.query_drop(create)
        .map_err(|e| query_error(&format!("creating table `{}`", t.name), &e))?;
    let done = (|| -> Result<String> {
        for part in 0..t.parts {
            progress.phase(&format!("loading {}", t.name));
            load_stream(
                &mut c,
                repo,
                index,
                point.stream(&t.part_stream(part))?,
                t,
                database,
                progress,
            )?;
        }
        for trigger in statements_for(&post, &t.name, true) {
            c.query_drop(&trigger)
                .map_err(|e| query_error(&format!("creating a trigger on `{}`", t.name), &e))?;
        }
        super::check::check(
            &server.spec,
            meta,
            point.fingerprints.as_ref(),
            opts.check,
            1,
            Some(t),
            progress,
        )
    })();
    match done {
        Ok(check) => Ok(Restored {
            target: format!("{} table `{}`", server.spec.display(), t.name),
            bytes_written: t.bytes,
            check,
        }),
        Err(e) => {
            let _ = c.query_drop(format!("DROP TABLE IF EXISTS {target}"));
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRE: &str = "DROP TABLE IF EXISTS `a b`;\nCREATE TABLE `a b` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\nCREATE TABLE `c` (\n  `x` int\n) ENGINE=Aria;\n";
    const POST: &str = "DELIMITER ;;\n/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER t1 BEFORE INSERT ON `a b`\nFOR EACH ROW\nSET NEW.id = NEW.id + 1 */;;\nDELIMITER ;\nDELIMITER ;;\n/*!50003 CREATE*/ /*!50003 TRIGGER t2 AFTER INSERT ON c FOR EACH ROW SET @x = 1 */;;\nDELIMITER ;\n";

    #[test]
    fn one_tables_statements_are_found_in_a_dump() {
        assert_eq!(
            statements_for(PRE, "a b", false),
            [
                "CREATE TABLE `a b` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB"
            ]
        );
        let t = statements_for(POST, "a b", true);
        assert_eq!(t.len(), 1);
        assert!(t[0].contains("TRIGGER t1") && t[0].ends_with("*/"), "{t:?}");
        assert!(statements_for(POST, "c", true)[0].contains("TRIGGER t2"));
    }
}
