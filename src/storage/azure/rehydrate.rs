//! Bringing blobs back from the Archive tier (Set Blob Tier with a
//! rehydrate priority), to the repository's online tier or Hot.

use super::{AzureStorage, Tier};
use crate::storage::{StorageError, TierState};
use azure_storage_blob::models::{
    AccessTier, ArchiveStatus, BlobClientGetPropertiesResultHeaders as _, BlobClientSetTierOptions,
    RehydratePriority,
};

pub fn rehydrate(
    s: &AzureStorage,
    name: &str,
    high_priority: bool,
) -> Result<TierState, StorageError> {
    let state = |s: &AzureStorage| -> Result<(bool, bool), StorageError> {
        s.rt.block_on(async {
            let p = s
                .blob(name)
                .get_properties(None)
                .await
                .map_err(|e| s.err(name, e))?;
            let archived = p
                .access_tier()
                .ok()
                .flatten()
                .is_some_and(|t| t.eq_ignore_ascii_case("archive"));
            let pending = matches!(
                p.archive_status().ok().flatten(),
                Some(
                    ArchiveStatus::RehydratePendingToHot
                        | ArchiveStatus::RehydratePendingToCool
                        | ArchiveStatus::RehydratePendingToCold
                )
            );
            Ok((archived, pending))
        })
    };
    let (archived, pending) = state(s)?;
    if pending {
        return Ok(TierState::Rehydrating);
    }
    if !archived {
        return Ok(TierState::Online);
    }
    let target = match s.url.tier {
        Some(Tier::Cool) => AccessTier::Cool,
        Some(Tier::Cold) => AccessTier::Cold,
        _ => AccessTier::Hot,
    };
    let opts = BlobClientSetTierOptions {
        rehydrate_priority: Some(if high_priority {
            RehydratePriority::High
        } else {
            RehydratePriority::Standard
        }),
        ..Default::default()
    };
    s.rt.block_on(s.blob(name).set_tier(target, Some(opts)))
        .map_err(|e| s.err(name, e))?;
    // Some services (Azurite) finish at once.
    Ok(match state(s)? {
        (false, false) => TierState::Online,
        _ => TierState::Rehydrating,
    })
}
