//! Session records: every run (backup, restore, verify, prune, ...) leaves
//! its report in the repository, so the history travels with the data.
//! The repository stores them as opaque JSON; the pipeline gives them meaning.

use super::Repository;
use super::format::ObjectKind;
use super::ids::SessionId;
use crate::error::Result;

pub const SESSIONS_DIR: &str = "sessions/";

impl Repository {
    pub fn write_session(&self, report: &serde_json::Value) -> Result<SessionId> {
        let (id, _) = self.write_json_object(SESSIONS_DIR, ObjectKind::Session, report)?;
        Ok(SessionId(id))
    }

    /// Session records that cannot be read, with why (history only: they
    /// cost no restore point).
    pub fn damaged_sessions(&self) -> Result<Vec<(SessionId, String)>> {
        let mut out = Vec::new();
        for id in self.list_ids::<SessionId>(SESSIONS_DIR)? {
            if let Err(e) = self.read_json_object::<serde_json::Value>(
                &format!("{SESSIONS_DIR}{id}"),
                ObjectKind::Session,
                &id.0,
            ) {
                if e.kind != crate::error::Kind::Repository {
                    return Err(e);
                }
                out.push((id, e.message));
            }
        }
        Ok(out)
    }

    /// The ids of the session records there are now.
    pub fn session_ids(&self) -> Result<Vec<SessionId>> {
        self.list_ids::<SessionId>(SESSIONS_DIR)
    }

    pub fn read_session(&self, id: &SessionId) -> Result<serde_json::Value> {
        self.read_json_object(&format!("{SESSIONS_DIR}{id}"), ObjectKind::Session, &id.0)
    }

    /// Every session record that can be read; damaged ones are skipped
    /// (they are history, not data).
    pub fn sessions(&self) -> Result<Vec<(SessionId, serde_json::Value)>> {
        let mut out = Vec::new();
        for id in self.list_ids::<SessionId>(SESSIONS_DIR)? {
            if let Ok(v) =
                self.read_json_object(&format!("{SESSIONS_DIR}{id}"), ObjectKind::Session, &id.0)
            {
                out.push((id, v));
            }
        }
        out.sort_by(|a, b| {
            let t = |v: &serde_json::Value| {
                v.get("started_at")
                    .and_then(|s| s.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            t(&a.1).cmp(&t(&b.1))
        });
        Ok(out)
    }
}
