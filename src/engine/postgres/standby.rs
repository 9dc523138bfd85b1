//! Reading a backup from a hot standby instead of the primary.

use super::Postgres;
use super::connect::{connect, query_error};
use crate::error::{Error, Result};
use postgres::Client;

/// The cluster's identity; physical replicas share their primary's.
fn system_identifier(c: &mut Client) -> Option<String> {
    c.query_one(
        "SELECT system_identifier::text FROM pg_control_system()",
        &[],
    )
    .ok()
    .map(|r| r.get(0))
}

/// Refuse a "standby" that is not one, or that replicates another cluster:
/// its backup would not be the primary's database.
pub(super) fn check(standby: &mut Client, reader: &Postgres, primary: &Postgres) -> Result<()> {
    let shown = reader.spec.server();
    let in_recovery: bool = standby
        .query_one("SELECT pg_is_in_recovery()", &[])
        .map_err(|e| query_error("asking the standby whether it is in recovery", &e))?
        .get(0);
    if !in_recovery {
        return Err(Error::usage(format!(
            "`{shown}` is not a standby (it is not in recovery)"
        ))
        .with_hint(format!(
            "name a streaming replica of `{}`, or leave out the standby",
            primary.spec.server()
        )));
    }
    // Without the primary (down, or unreachable from here) the standby is
    // still worth reading: the check is skipped, not the backup.
    let Some(theirs) = system_identifier(standby) else {
        return Ok(());
    };
    let Ok(mut p) = connect(&primary.spec) else {
        return Ok(());
    };
    match system_identifier(&mut p) {
        Some(ours) if ours != theirs => Err(Error::usage(format!(
            "`{shown}` is a standby of another cluster than `{}`",
            primary.spec.server()
        ))
        .with_hint("name a standby that replicates the primary being backed up")),
        _ => Ok(()),
    }
}
