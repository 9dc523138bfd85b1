//! Which restore point a name means, with `latest` held to the session
//! records: when they name a newer backup of the database whose manifest
//! is now missing or unreadable, `latest` refuses rather than fall back to
//! an older point without a word.

use crate::error::{Error, Result};
use crate::repo::Repository;
use crate::repo::ids::PointId;
use crate::repo::point::RestorePoint;
use std::collections::HashSet;

/// A restore point a backup wrote and nothing removed since, whose
/// manifest cannot be read now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostPoint {
    pub id: String,
    pub database: String,
    /// When the backup session that wrote it started (RFC 3339).
    pub written: String,
}

/// Every lost restore point, oldest first.
pub fn lost_points(repo: &Repository) -> Result<Vec<LostPoint>> {
    let readable: HashSet<PointId> = repo.points()?.into_iter().map(|(id, _)| id).collect();
    Ok(super::history::missing_points(repo, &readable)?
        .into_iter()
        .map(|(id, database, written)| LostPoint {
            id,
            database,
            written,
        })
        .collect())
}

/// Resolve what a user typed, as [`Repository::resolve_point`] does; for
/// `latest`, refuse (exit 4) when a lost point of that database (of any,
/// without `database`) was written after the newest readable one.
pub fn resolve(
    repo: &Repository,
    spec: &str,
    database: Option<&str>,
) -> Result<(PointId, RestorePoint)> {
    let found = repo.resolve_point(spec, database);
    if spec != "latest" {
        return found;
    }
    let newest = found.as_ref().ok().map(|(_, p)| p.created_at.clone());
    let newer: Vec<LostPoint> = lost_points(repo)?
        .into_iter()
        .filter(|l| database.is_none_or(|d| l.database == d))
        .filter(|l| {
            newest
                .as_ref()
                .is_none_or(|t| l.written.as_str() > t.as_str())
        })
        .collect();
    let Some(last) = newer.last() else {
        return found;
    };
    let of = database.map(|d| format!(" of `{d}`")).unwrap_or_default();
    let usable = match &found {
        Ok((id, p)) => format!(
            "the newest point{of} that can be read is {} of {}; restore it by its id if that will do",
            &id.to_hex()[..8],
            p.created_at
        ),
        Err(_) => format!("no other point{of} can be read"),
    };
    Err(Error::repository(format!(
        "the newest restore point{of}, {} (`{}`, backed up {}), cannot be read: its manifest `points/{}` is missing or damaged",
        &last.id[..8.min(last.id.len())],
        last.database,
        last.written,
        last.id
    ))
    .with_hint(format!(
        "copy the manifest back from another copy of the repository, or {usable}; `sqlvault repair --forget-damaged` forgets it"
    )))
}
