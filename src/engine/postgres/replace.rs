//! Putting a restored database in place: it is built as a temporary
//! database, dropped if anything fails (also once a crashed server is back),
//! and renamed into place only when complete. The database it replaces is
//! never dropped before the restored one holds its name.

use super::ConnSpec;
use super::catalog::quote_ident;
use super::connect::admin_connection;
use super::connect::query_error;
use crate::error::{Error, Result};
use postgres::Client;
use std::time::{Duration, Instant};

/// The name a `--clean` restore gives the database it replaces until the
/// restored one is in place. Never removed as a leftover: it is user data.
const REPLACED_PREFIX: &str = "sqlvault_replaced_";

/// How long a failed restore keeps trying to drop its temporary database
/// while the server cannot be reached (a server that ran out of disk
/// space panics and restarts). Debug builds take
/// `SQLVAULT_TEST_DROP_PATIENCE` (seconds), so a test of a server that
/// stays down need not wait a minute.
fn drop_patience() -> Duration {
    let test = std::env::var("SQLVAULT_TEST_DROP_PATIENCE")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|_| cfg!(debug_assertions));
    Duration::from_secs(test.unwrap_or(60))
}

/// Drops the temporary database unless the restore completed.
pub(super) struct TempDatabase<'a> {
    admin: &'a mut Client,
    spec: ConnSpec,
    name: String,
    /// `WITH (FORCE)` exists from PostgreSQL 13 on.
    force: bool,
    keep: bool,
}

/// What became of the database a `--clean` restore replaced.
pub(super) enum Aside {
    Dropped,
    /// Renamed aside and still there (its drop failed).
    Kept(String),
}

impl<'a> TempDatabase<'a> {
    pub fn new(admin: &'a mut Client, spec: &ConnSpec, name: &str, force: bool) -> Self {
        TempDatabase {
            admin,
            spec: spec.clone(),
            name: name.to_string(),
            force,
            keep: false,
        }
    }

    /// Run `sql` on the admin connection.
    pub fn execute(&mut self, sql: &str) -> Result<(), postgres::Error> {
        self.admin.batch_execute(sql)
    }

    fn drop_sql(&self) -> String {
        let force = if self.force { " WITH (FORCE)" } else { "" };
        format!("DROP DATABASE IF EXISTS {}{force}", quote_ident(&self.name))
    }

    /// Drop the temporary database after `error`, over a new connection
    /// when the old one is gone, for a while if the server is restarting;
    /// `error`, saying so if the database is still there.
    pub fn discard(&mut self, error: Error) -> Error {
        if self.keep {
            return error;
        }
        self.keep = true;
        let sql = self.drop_sql();
        if self.admin.batch_execute(&sql).is_ok() && self.gone(None) {
            return error;
        }
        let began = Instant::now();
        while began.elapsed() < drop_patience() && !crate::interrupt::is_set() {
            if let Ok(mut c) = admin_connection(&self.spec)
                && c.batch_execute(&sql).is_ok()
                && self.gone(Some(&mut c))
            {
                return error;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let message = format!(
            "{}; its temporary database `{}` could not be dropped: the next restore to this server removes it, or drop it with DROP DATABASE",
            error.message, self.name
        );
        Error { message, ..error }
    }

    /// Whether no session still works on the temporary database: one
    /// ended during its CREATE DATABASE finishes the statement first, and
    /// the database exists only from then on.
    fn gone(&mut self, other: Option<&mut Client>) -> bool {
        let c = match other {
            Some(c) => c,
            None => &mut *self.admin,
        };
        let pattern = format!("%{}%", self.name);
        c.query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() \
             AND (datname = $1 OR query LIKE $2) AND state <> 'idle'",
            &[&self.name, &pattern],
        )
        .is_ok_and(|r| r.get::<_, i64>(0) == 0)
    }

    /// Put the restored database in place of `target`: the database it
    /// replaces is renamed aside first, put back on any failure, and
    /// dropped last. Only sessions on sqlvault's own temporary database are
    /// ended; those on the target refuse the swap, with the target
    /// unchanged. When a step fails (a connection ended mid-way, too), what
    /// the server holds is looked at over a new connection and set right:
    /// the target holds either its old content or the restored one, and
    /// the error says which.
    pub fn swap_into_place(&mut self, target: &str, exists: bool) -> Result<Option<Aside>> {
        let tmp = self.name.clone();
        let aside = format!(
            "{REPLACED_PREFIX}{}",
            hex::encode(rand::random::<[u8; 6]>())
        );
        let done = (|| -> Result<(), postgres::Error> {
            let admin = &mut *self.admin;
            end_other_sessions(admin, &tmp);
            if exists {
                rename(admin, target, &aside)?;
            }
            rename(admin, &tmp, target)
        })();
        let failed = match done {
            Ok(()) => None,
            Err(e) => Some(query_error(&format!("replacing database `{target}`"), &e)),
        };
        let Some(error) = failed else {
            self.keep = true;
            return Ok(exists.then(|| self.drop_aside(None, &aside)));
        };
        // What is where now, over a connection that works.
        let mut fresh = admin_connection(&self.spec).ok();
        let c = match fresh.as_mut() {
            Some(c) => c,
            None => &mut *self.admin,
        };
        let has = |c: &mut Client, name: &str| {
            c.query("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
                .map(|r| !r.is_empty())
        };
        let (t, a, r) = match (has(c, target), has(c, &aside), has(c, &tmp)) {
            (Ok(t), Ok(a), Ok(r)) => (t, a, r),
            _ => {
                self.keep = true;
                return Err(Error::database(format!(
                    "{}; the server cannot be asked what became of it: `{target}` holds the old database, or it is named `{aside}` and the restored one `{tmp}` or `{target}`",
                    error.message
                )));
            }
        };
        if t && !r {
            // The restored database took the name before the failure.
            self.keep = true;
            let kept = if a {
                Some(self.drop_aside(fresh.as_mut(), &aside))
            } else {
                None
            };
            return Ok(kept);
        }
        if !t && a && rename(c, &aside, target).is_err() {
            self.keep = true;
            return Err(Error::database(format!(
                "{}; the database it was to replace is kept as `{aside}` and the restored one as `{tmp}`: rename one of them to `{target}`",
                error.message
            )));
        }
        let error = Error {
            message: format!("{}; `{target}` is unchanged", error.message),
            ..error
        }
        .with_hint(
            "disconnect the clients of the database being replaced, then run the restore again",
        );
        Err(self.discard(error))
    }

    /// Drop the database a swap set aside, over `c` or the admin connection.
    fn drop_aside(&mut self, c: Option<&mut Client>, aside: &str) -> Aside {
        let c = match c {
            Some(c) => c,
            None => &mut *self.admin,
        };
        match c.batch_execute(&format!("DROP DATABASE {}", quote_ident(aside))) {
            Ok(()) => Aside::Dropped,
            Err(_) => Aside::Kept(aside.to_string()),
        }
    }
}

impl Drop for TempDatabase<'_> {
    fn drop(&mut self) {
        if !self.keep {
            let _ = self.admin.batch_execute(&self.drop_sql());
        }
    }
}

fn rename(admin: &mut Client, from: &str, to: &str) -> Result<(), postgres::Error> {
    admin.batch_execute(&format!(
        "ALTER DATABASE {} RENAME TO {}",
        quote_ident(from),
        quote_ident(to)
    ))
}

/// End every other session on `database` (a monitoring agent that visits
/// every database, say), and wait a moment for them to go: a rename needs
/// it idle.
fn end_other_sessions(admin: &mut Client, database: &str) {
    for _ in 0..100 {
        let ended = admin.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&database],
        );
        if ended.is_ok_and(|rows| rows.is_empty()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
