//! Damage found once is remembered: packs that `verify`, `repair` or a
//! backup found damaged, missing or short are named in `damage/` objects.
//! Backups then store those packs' chunks again instead of building on
//! them, and readers prefer any other copy of a chunk. `repair` rewrites
//! the record once it has dealt with the packs.

use super::Repository;
use super::format::ObjectKind;
use super::ids::{DamageId, PackId};
use crate::error::{Kind, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashSet};

pub const DAMAGE_DIR: &str = "damage/";

/// One finding: which packs, when and by which command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DamageRecord {
    pub found_at: String,
    pub found_by: String,
    pub packs: BTreeSet<PackId>,
}

impl Repository {
    /// Every pack a damage record names. A record that cannot be read is
    /// passed over: it can only make a backup store more, never less.
    pub fn damaged_packs(&self) -> Result<HashSet<PackId>> {
        let mut out = HashSet::new();
        for (_, r) in self.damage_records()? {
            out.extend(r.packs);
        }
        Ok(out)
    }

    fn damage_records(&self) -> Result<Vec<(DamageId, DamageRecord)>> {
        let mut out = Vec::new();
        for id in self.list_ids::<DamageId>(DAMAGE_DIR)? {
            match self.read_json_object(&format!("{DAMAGE_DIR}{id}"), ObjectKind::Damage, &id.0) {
                Ok(r) => out.push((id, r)),
                Err(e) if e.kind == Kind::Repository => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Record `packs` as damaged, unless every one is recorded already.
    pub fn record_damage(&self, found_by: &str, packs: &[PackId]) -> Result<()> {
        let known = self.damaged_packs()?;
        let packs: BTreeSet<PackId> = packs.iter().copied().collect();
        if packs.iter().all(|p| known.contains(p)) {
            return Ok(());
        }
        let record = DamageRecord {
            found_at: crate::util::now_rfc3339(),
            found_by: found_by.to_string(),
            packs,
        };
        self.write_json_object(DAMAGE_DIR, ObjectKind::Damage, &record)?;
        Ok(())
    }

    /// Replace every damage record by one naming `still_damaged` (none if
    /// empty): what `repair` leaves once it dealt with the rest.
    pub fn rewrite_damage(&self, found_by: &str, still_damaged: &[PackId]) -> Result<()> {
        let old = self.list_ids::<DamageId>(DAMAGE_DIR)?;
        if !still_damaged.is_empty() {
            let record = DamageRecord {
                found_at: crate::util::now_rfc3339(),
                found_by: found_by.to_string(),
                packs: still_damaged.iter().copied().collect(),
            };
            let (id, _) = self.write_json_object(DAMAGE_DIR, ObjectKind::Damage, &record)?;
            for o in old.into_iter().filter(|o| o.0 != id) {
                self.storage().delete(&format!("{DAMAGE_DIR}{o}"))?;
            }
            return Ok(());
        }
        for o in old {
            self.storage().delete(&format!("{DAMAGE_DIR}{o}"))?;
        }
        Ok(())
    }
}
