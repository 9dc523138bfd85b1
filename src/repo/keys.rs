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
pub struct Secret {
    bytes: Vec<u8>,
    /// Random key material (a key file of at least [`MIN_KEY_FILE_BYTES`]):
    /// its key objects need no slow password hashing.
    random: bool,
}

/// A key file this long is random key material, not a password.
pub const MIN_KEY_FILE_BYTES: usize = 32;

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret {
            bytes,
            random: false,
        }
    }

    /// The content of a key file; long enough, it counts as random.
    pub fn from_key_file(bytes: Vec<u8>) -> Self {
        let random = bytes.len() >= MIN_KEY_FILE_BYTES;
        Secret { bytes, random }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

pub(super) fn write_key(
    storage: &dyn Storage,
    master: &MasterKey,
    password: &Secret,
) -> Result<KeyId> {
    // Hashing exists to slow down guessing a password; random key material
    // cannot be guessed, and `wal push` opens the repository once per file.
    let kdf = if password.random {
        KdfParams::new_fast()
    } else {
        KdfParams::new_default()
    };
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
    let mut files = Vec::new();
    for info in names {
        let data = storage.get(&info.name)?;
        let file = format::unframe(&info.name, ObjectKind::Key, &data).and_then(|(_, body)| {
            serde_json::from_slice::<KeyFile>(body).map_err(|e| {
                Error::repository(format!("key object `{}` is malformed: {e}", info.name))
            })
        });
        match file {
            Ok(f) => files.push((info.name, f)),
            Err(e) => damaged.push(e.message),
        }
    }
    // Fast key objects first: trying them costs nothing.
    files.sort_by_key(|(_, f)| !f.kdf.is_fast());
    for (name, file) in files {
        let derived = file.kdf.derive(password.as_bytes())?;
        let Ok(sealed) = hex::decode(&file.sealed_master) else {
            damaged.push(format!("key object `{name}` is malformed"));
            continue;
        };
        if let Ok(plain) = Sealer::new(Some(&derived)).open(&sealed, "key") {
            return serde_json::from_slice(&plain)
                .map_err(|e| Error::repository(format!("key object `{name}` is malformed: {e}")));
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
