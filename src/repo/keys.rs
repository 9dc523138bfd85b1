//! Key objects: the master key sealed under a key derived from a password.

use super::Repository;
use super::crypto::{KdfParams, MasterKey, Sealer};
use super::format::{self, ObjectKind};
use super::ids::KeyId;
use crate::error::{Error, Kind, Result};
use crate::storage::Storage;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

pub const KEYS_DIR: &str = "keys/";

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    created_at: String,
    hostname: String,
    kdf: KdfParams,
    /// Hex of the master key (JSON) sealed with the derived key.
    sealed_master: String,
}

/// A password or key-file content; never printed.
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

pub(super) fn write_key(
    storage: &dyn Storage,
    master: &MasterKey,
    password: &Secret,
) -> Result<KeyId> {
    let kdf = KdfParams::new_default();
    let derived = kdf.derive(password.as_bytes())?;
    let sealer = Sealer::new(Some(&derived));
    let plain = serde_json::to_vec(master).expect("master key serialises");
    let file = KeyFile {
        created_at: crate::util::now_rfc3339(),
        hostname: crate::util::hostname(),
        kdf,
        sealed_master: hex::encode(sealer.seal(&plain)),
    };
    let mut id = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let id = KeyId(id);
    let body = serde_json::to_vec_pretty(&file).expect("key file serialises");
    storage.put_if_absent(
        &format!("{KEYS_DIR}{id}"),
        &format::frame(ObjectKind::Key, 0, &body),
    )?;
    Ok(id)
}

/// Try every key object with the password; the first that opens wins.
pub(super) fn unlock(storage: &dyn Storage, password: &Secret) -> Result<MasterKey> {
    let names = storage.list(KEYS_DIR)?;
    if names.is_empty() {
        return Err(Error::repository("the repository has no key objects")
            .with_hint("the repository is damaged; restore `keys/` from a copy"));
    }
    // A damaged key object is skipped: another key may still open the
    // repository; only when none does is the damage the answer.
    let mut damaged = Vec::new();
    for info in names {
        let data = storage.get(&info.name)?;
        let file = format::unframe(&info.name, ObjectKind::Key, &data).and_then(|(_, body)| {
            serde_json::from_slice::<KeyFile>(body).map_err(|e| {
                Error::repository(format!("key object `{}` is malformed: {e}", info.name))
            })
        });
        let file = match file {
            Ok(f) => f,
            Err(e) => {
                damaged.push(e.message);
                continue;
            }
        };
        let derived = file.kdf.derive(password.as_bytes())?;
        let Ok(sealed) = hex::decode(&file.sealed_master) else {
            damaged.push(format!("key object `{}` is malformed", info.name));
            continue;
        };
        if let Ok(plain) = Sealer::new(Some(&derived)).open(&sealed, "key") {
            return serde_json::from_slice(&plain).map_err(|e| {
                Error::repository(format!("key object `{}` is malformed: {e}", info.name))
            });
        }
    }
    if let Some(first) = damaged.first() {
        return Err(Error::repository(format!(
            "no key object opens the repository with this password, and {} of them {} damaged ({first})",
            damaged.len(),
            if damaged.len() == 1 { "is" } else { "are" }
        ))
        .with_hint(
            "copy `keys/` back from another copy of this repository; a password added to another key object still works",
        ));
    }
    Err(
        Error::new(Kind::Auth, "wrong password or key file for this repository")
            .with_hint("check --password-file, --key-file or SQLVAULT_PASSWORD"),
    )
}

impl Repository {
    /// Add another password that opens this repository.
    pub fn add_key(&self, password: &Secret) -> Result<KeyId> {
        write_key(self.storage.as_ref(), &self.key, password)
    }
}
