//! The proof of a restore: every table read back the way the backup read
//! it, its fingerprint (or row count) compared with the one the point
//! recorded.

use super::ConnSpec;
use super::backup::{MariaMeta, SESSION, select_sql};
use super::catalog::TableInfo;
use super::connect::{connect, query_error};
use crate::engine::CheckLevel;
use crate::engine::fingerprint;
use crate::error::Result;
use crate::progress::Progress;
use crate::repo::point::{FingerprintKind, Fingerprints, TableFingerprint};
use mysql::prelude::Queryable;
use std::sync::Mutex;

/// Check the restored database `spec` (all its tables, or `only`) against
/// `expected`; the description the report shows.
pub(super) fn check(
    spec: &ConnSpec,
    meta: &MariaMeta,
    expected: Option<&Fingerprints>,
    level: CheckLevel,
    jobs: usize,
    only: Option<&TableInfo>,
    progress: &dyn Progress,
) -> Result<String> {
    let tables: Vec<&TableInfo> = match only {
        Some(t) => vec![t],
        None => meta.tables.iter().collect(),
    };
    if fingerprint::alter_row_fault() {
        alter_one_row(spec, &tables)?;
    }
    let Some(expected) = expected.filter(|_| level != CheckLevel::None) else {
        return Ok(fingerprint::describe(level, None, ""));
    };
    progress.phase(match level {
        CheckLevel::Full => "checking fingerprints",
        _ => "checking row counts",
    });
    let found = Mutex::new(Vec::new());
    crate::engine::parallel::each(
        jobs,
        &tables,
        || {
            let mut c = connect(spec)?;
            c.query_drop(SESSION)
                .map_err(|e| query_error("setting up the session", &e))?;
            Ok(c)
        },
        |c, t| {
            let entry = digest(c, spec.database(), t, level)?;
            found.lock().unwrap().push(entry);
            Ok(())
        },
    )?;
    let actual = found.into_inner().unwrap();
    let compared = fingerprint::compare(expected, &actual, level, only.is_some())
        .into_result("the restored database")?;
    Ok(fingerprint::describe(level, Some(compared), ""))
}

/// One table's fingerprint, or only its row count for a quick check.
fn digest(
    c: &mut mysql::Conn,
    database: &str,
    t: &TableInfo,
    level: CheckLevel,
) -> Result<TableFingerprint> {
    if level == CheckLevel::Quick {
        let rows: Option<u64> = c
            .query_first(format!("SELECT COUNT(*) FROM {}", t.read_from(database)))
            .map_err(|e| query_error(&format!("counting the rows of {}", t.name), &e))?;
        return Ok(TableFingerprint {
            name: t.name.clone(),
            kind: FingerprintKind::Table,
            rows: rows.unwrap_or(0),
            digest: String::new(),
        });
    }
    let d = super::rows::export(c, &select_sql(database, t, &[], 0), &mut std::io::sink())?;
    Ok(d.entry(t.name.clone(), FingerprintKind::Table))
}

/// The test fault: one row of the first table that has any is removed.
fn alter_one_row(spec: &ConnSpec, tables: &[&TableInfo]) -> Result<()> {
    let mut c = connect(spec)?;
    for t in tables {
        c.query_drop(format!("DELETE FROM {} LIMIT 1", t.quoted(spec.database())))
            .map_err(|e| query_error("altering a row", &e))?;
        if c.affected_rows() > 0 {
            break;
        }
    }
    Ok(())
}
