//! What a killed restore leaves: a temporary database on the server, and
//! the schema archive in the temp directory (locked while in use, see
//! `crate::leftovers`).
//!
//! A restore builds its database as `sqlvault_restore_<random>` and holds
//! a session advisory lock named after it on its maintenance connection
//! for as long as it runs. The server drops that lock when the process
//! dies, so the next restore to the same server can tell a temporary
//! database whose restore is gone (its lock can be taken) from one still
//! being built (it cannot), and drops only the former.

use super::catalog::quote_ident;
use super::connect::query_error;
use crate::error::Result;
use postgres::Client;

/// The prefix of every temporary restore database.
pub(super) const TEMP_PREFIX: &str = "sqlvault_restore_";
/// First key of the two-key advisory locks (a keyspace of its own): "SQV".
const LOCK_CLASS: i32 = 0x0053_5156;

/// Hold the lock that marks `name` as being built (until `c` closes).
pub(super) fn claim(c: &mut Client, name: &str) -> Result<()> {
    c.execute(
        "SELECT pg_advisory_lock($1, hashtext($2))",
        &[&LOCK_CLASS, &name],
    )
    .map_err(|e| query_error("marking the temporary database as in use", &e))?;
    Ok(())
}

/// Drop the temporary databases no running restore holds; their names.
pub(super) fn drop_stale(c: &mut Client, force: bool) -> Result<Vec<String>> {
    let names: Vec<String> = c
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE 'sqlvault\\_restore\\_%'",
            &[],
        )
        .map_err(|e| query_error("looking for temporary databases", &e))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut dropped = Vec::new();
    for name in names {
        let free: bool = c
            .query_one(
                "SELECT pg_try_advisory_lock($1, hashtext($2))",
                &[&LOCK_CLASS, &name],
            )
            .map_err(|e| query_error("checking a temporary database", &e))?
            .get(0);
        if !free {
            continue;
        }
        let with = if force { " WITH (FORCE)" } else { "" };
        let r = c.batch_execute(&format!(
            "DROP DATABASE IF EXISTS {}{with}",
            quote_ident(&name)
        ));
        let _ = c.execute(
            "SELECT pg_advisory_unlock($1, hashtext($2))",
            &[&LOCK_CLASS, &name],
        );
        if r.is_ok() {
            dropped.push(name);
        }
    }
    Ok(dropped)
}

/// Schema archives and table-of-contents files in the temp directory.
fn temp_file_owner(name: &str) -> Option<String> {
    ["sqlvault-schema-", "sqlvault-toc-"]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .filter(|rest| crate::leftovers::is_random_part(rest))
        .map(|_| name.to_string())
}

/// Remove what killed restores left on `spec`'s server and in the temp
/// directory; one warning each.
pub(super) fn remove(spec: &super::ConnSpec) -> Vec<String> {
    let mut warnings = Vec::new();
    let dir = std::env::temp_dir();
    let removed = crate::leftovers::remove_stale(&dir, temp_file_owner);
    for f in removed.removed {
        warnings.push(format!(
            "removed `{}`, left by a restore that was killed",
            f.display()
        ));
    }
    // Connection trouble surfaces in the restore itself, with its advice.
    if let Ok(mut admin) = super::connect::admin_connection(spec) {
        let force = super::catalog::database_info(&mut admin)
            .map(|i| i.server_version_num >= 130000)
            .unwrap_or(false);
        if let Ok(dropped) = drop_stale(&mut admin, force) {
            for name in dropped {
                warnings.push(format!(
                    "dropped database `{name}` on `{}`, left by a restore that was killed",
                    spec.server()
                ));
            }
        }
    }
    warnings
}
