//! The recovery point objective of an archiving cluster: the newest
//! archived WAL must be younger than the policy's `log-every-minutes`.
//! When it is older, the server is asked to close its current segment
//! (`pg_switch_wal()`) and the objective is met once that segment is in
//! the archive; when it does not arrive, the server's `pg_stat_archiver`
//! says why.

use super::Physical;
use crate::engine::postgres::connect;
use crate::error::{Error, Result};
use crate::repo::Repository;
use std::time::{Duration, Instant};

/// How old the newest archived file of `cluster` is, if there is one.
fn newest_age(
    repo: &Repository,
    cluster: &str,
    now: jiff::Timestamp,
) -> Result<Option<(String, Duration)>> {
    let mut newest: Option<(String, jiff::Timestamp)> = None;
    // Names sort by timeline and position: the newest are last.
    let logs = repo.list_logs(cluster)?;
    for (name, _) in logs.iter().rev().take(8) {
        if let Some(m) = repo.log_meta(cluster, name)?
            && let Ok(t) = m.archived_at.parse::<jiff::Timestamp>()
            && newest.as_ref().is_none_or(|(_, old)| t > *old)
        {
            newest = Some((name.clone(), t));
        }
    }
    Ok(newest.map(|(n, t)| {
        let age = now.duration_since(t);
        (n, Duration::from_secs(age.as_secs().max(0) as u64))
    }))
}

fn archiver(client: &mut postgres::Client) -> Result<postgres::Row> {
    client
        .query_one(
            "SELECT failed_count, coalesce(last_failed_wal, ''), coalesce(last_failed_time::text, ''),
                    coalesce(last_archived_wal, '')
             FROM pg_stat_archiver",
            &[],
        )
        .map_err(|e| connect::query_error("reading pg_stat_archiver", &e))
}

/// Check the objective, switching WAL when needed; a note for the report,
/// or an error saying how far behind archiving is and why.
pub fn check(
    repo: &Repository,
    p: &Physical,
    max_age: Duration,
    wait: Duration,
    now: jiff::Timestamp,
) -> Result<String> {
    if let Some((name, age)) = newest_age(repo, &p.cluster, now)?
        && age < max_age
    {
        return Ok(format!(
            "recovery point objective met: {name} archived {}s ago",
            age.as_secs()
        ));
    }
    let spec = p
        .primary
        .as_ref()
        .or(p.spec.as_ref())
        .ok_or_else(|| Error::usage("no server to check"))?;
    let mut client = connect::connect(&spec.with_dbname("postgres"))?;
    // The segment the switch closed; the previous one when nothing was
    // written since the last switch (then it is the newest to archive).
    let closed: String = client
        .query_one("SELECT pg_walfile_name(pg_switch_wal())", &[])
        .map_err(|e| connect::query_error("switching WAL", &e))?
        .get(0);
    let began = Instant::now();
    let mut polls = 0u32;
    let row = loop {
        if repo.log_meta(&p.cluster, &closed)?.is_some() {
            return Ok(format!(
                "recovery point objective met: switched WAL; {closed} archived after {}s",
                began.elapsed().as_secs()
            ));
        }
        // Once a second: a failure to archive that segment ends the wait.
        let row = if polls.is_multiple_of(4) {
            let row = archiver(&mut client)?;
            if row.get::<_, String>(1) == closed {
                break row;
            }
            Some(row)
        } else {
            None
        };
        if began.elapsed() >= wait {
            break match row {
                Some(r) => r,
                None => archiver(&mut client)?,
            };
        }
        polls += 1;
        crate::interrupt::check()?;
        std::thread::sleep(Duration::from_millis(250));
    };
    let (failed, last_failed, when, last): (i64, String, String, String) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let why = if last_failed.is_empty() {
        format!("archiving is behind (last archived {last})")
    } else {
        format!("archiving fails: {failed} failures, last {last_failed} at {when}")
    };
    Err(Error::database(format!(
        "recovery point objective missed: {closed} was not archived after {}s; {why}",
        began.elapsed().as_secs()
    ))
    .with_hint(format!(
        "check archive_command (wal push --cluster {}) and the server log; `SELECT * FROM pg_stat_archiver` shows the last failure",
        p.cluster
    )))
}
