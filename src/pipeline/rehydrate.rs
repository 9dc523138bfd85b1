//! Bringing the objects one restore point needs back from an archive tier,
//! so that it can be restored.

use crate::error::Result;
use crate::repo::Repository;
use crate::storage::TierState;

#[derive(Debug, Clone, serde::Serialize)]
pub struct RehydrateStatus {
    pub restore_point: String,
    pub database: String,
    /// Pack objects the point needs.
    pub objects: usize,
    /// Of those, readable now.
    pub online: usize,
    /// Of those, still coming back from the archive tier.
    pub rehydrating: usize,
}

impl RehydrateStatus {
    pub fn done(&self) -> bool {
        self.rehydrating == 0
    }
}

/// Start (or check) rehydration of every object `point` needs. Calling it
/// again only reports progress: objects already on their way are left be.
pub fn rehydrate(
    repo: &Repository,
    point: &str,
    database: Option<&str>,
    high_priority: bool,
) -> Result<RehydrateStatus> {
    let (id, p) = super::latest::resolve(repo, point, database)?;
    let packs = repo.packs_needed(&id)?;
    let mut online = 0;
    for name in &packs {
        if repo.storage().rehydrate(name, high_priority)? == TierState::Online {
            online += 1;
        }
    }
    Ok(RehydrateStatus {
        restore_point: id.to_hex(),
        database: p.database,
        objects: packs.len(),
        online,
        rehydrating: packs.len() - online,
    })
}
