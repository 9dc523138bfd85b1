//! What a killed restore leaves. MariaDB cannot rename a database, so a
//! restore builds the target under its own name; until its check passes,
//! the database's comment marks it as being restored and names a lock
//! (`GET_LOCK`) the restoring connection holds. The server releases the
//! lock when that connection goes, so a marked database whose lock nobody
//! holds was left incomplete by a restore that was killed, and the next
//! restore to that server drops it.

use super::ConnSpec;
use super::catalog::{quote_ident, quote_literal};
use super::connect::{connect, query_error};
use crate::error::{Error, Result};
use mysql::Conn;
use mysql::prelude::Queryable;

/// How the comment of a database being restored starts.
pub const MARK: &str = "sqlvault: restore in progress, lock ";

/// Take a lock of our own for the restore to come; the comment to mark
/// its database with.
pub(super) fn claim(admin: &mut Conn) -> Result<String> {
    let lock = format!(
        "sqlvault_restore_{}",
        hex::encode(rand::random::<[u8; 6]>())
    );
    let got: Option<i64> = admin
        .query_first(format!("SELECT GET_LOCK({}, 0)", quote_literal(&lock)))
        .map_err(|e| query_error("marking the restore as running", &e))?;
    if got != Some(1) {
        return Err(Error::database(
            "could not take the restore's lock on the server",
        ));
    }
    Ok(format!("{MARK}{lock}"))
}

/// Mark `database` as complete.
pub(super) fn unmark(admin: &mut Conn, database: &str) -> Result<()> {
    admin
        .query_drop(format!(
            "ALTER DATABASE {} COMMENT ''",
            quote_ident(database)
        ))
        .map_err(|e| query_error("marking the restored database as complete", &e))
}

/// Drop the databases killed restores left incomplete; one warning each.
pub(super) fn remove(spec: &ConnSpec) -> Vec<String> {
    // Connection trouble surfaces in the restore itself, with its advice.
    let Ok(mut admin) = connect(&spec.with_database("")) else {
        return Vec::new();
    };
    let marked: Vec<(String, String)> = admin
        .exec(
            "SELECT SCHEMA_NAME, SCHEMA_COMMENT FROM information_schema.SCHEMATA \
             WHERE SCHEMA_COMMENT LIKE ?",
            (format!("{MARK}%"),),
        )
        .unwrap_or_default();
    let mut warnings = Vec::new();
    for (name, comment) in marked {
        let lock = comment.trim_start_matches(MARK);
        // NULL: nobody holds it.
        let holder = admin
            .query_first::<Option<i64>, _>(format!("SELECT IS_USED_LOCK({})", quote_literal(lock)));
        if !matches!(holder, Ok(Some(None))) {
            continue;
        }
        match admin.query_drop(format!("DROP DATABASE {}", quote_ident(&name))) {
            Ok(()) => warnings.push(format!(
                "dropped database `{name}`, left incomplete by a restore that was killed"
            )),
            Err(e) => warnings.push(format!(
                "database `{name}` was left incomplete by a restore that was killed, and \
                 dropping it failed: {e}; drop it by hand"
            )),
        }
    }
    warnings
}
