//! Temporary databases a killed restore left on a server.
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
        let r = c.batch_execute(&format!("DROP DATABASE IF EXISTS {}{with}", quote_ident(&name)));
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
