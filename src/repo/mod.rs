//! The repository: a content-addressed store of named streams on top of a
//! dumb [`Storage`]. It knows nothing about databases.
//!
//! Layout (docs/FORMAT.md): `config`, `keys/<id>`, `packs/<xx>/<id>`,
//! `index/<id>`, `points/<id>`, `sessions/<id>`, `wal/<cluster>/<file>`.

pub mod chain;
pub mod chunker;
pub mod config;
pub mod crypto;
pub mod damage;
pub mod delta;
pub mod format;
pub mod gc;
pub mod ids;
pub mod index;
pub mod keys;
mod level;
pub mod logs;
mod needed;
pub mod pack;
pub mod patch;
pub mod point;
pub mod reader;
pub mod session;
pub mod verify;
pub mod writer;

use crate::error::{Error, Kind, Result};
use crate::storage::{Storage, StorageError};
use config::{CONFIG_NAME, DEFAULT_PACK_SIZE, Encryption, RepoConfig};
use crypto::{MasterKey, Sealer};
use format::{FLAG_ENCRYPTED, ObjectKind};
pub use keys::Secret;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Options chosen once, at `init`.
#[derive(Debug, Clone)]
pub struct InitOptions {
    pub encrypted: bool,
    pub compression_level: i32,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            encrypted: true,
            compression_level: config::DEFAULT_COMPRESSION,
        }
    }
}

pub struct Repository {
    storage: Arc<dyn Storage>,
    config: RepoConfig,
    key: MasterKey,
    sealer: Sealer,
    /// Pack bytes read, and the requests that read them (for reports).
    fetched: (AtomicU64, AtomicU64),
    /// Packs found missing, short or holding a damaged blob while reading
    /// through this handle (a restore records them as damage).
    found_damaged: std::sync::Mutex<Vec<ids::PackId>>,
}

impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository")
            .field("location", &self.storage.location())
            .finish()
    }
}

fn not_a_repository(storage: &dyn Storage) -> Error {
    Error::new(
        Kind::Usage,
        format!("`{}` is not a sqlvault repository", storage.location()),
    )
    .with_hint("create one with `sqlvault init --repo <path>`, or check --repo")
}

impl Repository {
    /// Create a new repository. `password` must be given when `encrypted`.
    pub fn init(
        storage: Arc<dyn Storage>,
        opts: &InitOptions,
        password: Option<&Secret>,
    ) -> Result<Repository> {
        match storage.exists(CONFIG_NAME) {
            Ok(true) => {
                return Err(Error::usage(format!(
                    "`{}` already holds a sqlvault repository",
                    storage.location()
                ))
                .with_hint("use it as it is, or choose another --repo"));
            }
            Ok(false) => {}
            Err(e) => return Err(e.into()),
        }
        if !(1..=22).contains(&opts.compression_level) {
            return Err(Error::usage(format!(
                "compression level {} is out of range",
                opts.compression_level
            ))
            .with_hint("choose a zstd level from 1 (fastest) to 22 (smallest)"));
        }
        storage.create()?;
        let key = MasterKey::generate();
        let config = RepoConfig {
            version: format::FORMAT_VERSION,
            id: random_hex(16),
            created_at: crate::util::now_rfc3339(),
            encryption: if opts.encrypted {
                Encryption::XChaCha20Poly1305
            } else {
                Encryption::None
            },
            compression_level: opts.compression_level,
            chunker: chunker::ChunkerParams::default(),
            pack_size: DEFAULT_PACK_SIZE,
            plain_key: (!opts.encrypted).then(|| key.clone()),
        };
        if opts.encrypted {
            let password = password.ok_or_else(|| {
                Error::usage("a password is needed to create an encrypted repository")
            })?;
            keys::write_key(storage.as_ref(), &key, password)?;
        }
        // The config goes last: a repository without one is not a repository,
        // so an interrupted init can simply be run again.
        let body = serde_json::to_vec_pretty(&config).expect("config serialises");
        storage.put_if_absent(CONFIG_NAME, &format::frame(ObjectKind::Config, 0, &body))?;
        Ok(Self::assemble(storage, config, key))
    }

    /// Open an existing repository; `password` is asked for only if it is encrypted.
    pub fn open(
        storage: Arc<dyn Storage>,
        password: impl FnOnce() -> Result<Secret>,
    ) -> Result<Repository> {
        let data = match storage.get(CONFIG_NAME) {
            Ok(d) => d,
            Err(StorageError::NotFound(_)) => return Err(not_a_repository(storage.as_ref())),
            Err(e) => return Err(e.into()),
        };
        // `verify` cannot help here: it needs the config to open the
        // repository. It never changes after `init`, so any copy will do.
        let config_hint = "the `config` object never changes after `init`: copy it back from another copy of this repository (a mirror, a backup of the directory or container); nothing can be read without it";
        let (_, body) = format::unframe(CONFIG_NAME, ObjectKind::Config, &data)
            .map_err(|e| e.with_hint(config_hint))?;
        let config: RepoConfig = serde_json::from_slice(body).map_err(|e| {
            Error::repository(format!("repository config is malformed: {e}")).with_hint(config_hint)
        })?;
        if config.version > format::FORMAT_VERSION {
            return Err(Error::repository(format!(
                "repository format version {} is newer than this sqlvault supports ({})",
                config.version,
                format::FORMAT_VERSION
            ))
            .with_hint("upgrade sqlvault"));
        }
        let key = match (config.encryption, &config.plain_key) {
            (Encryption::None, Some(k)) => k.clone(),
            (Encryption::None, None) => {
                return Err(Error::repository(
                    "unencrypted repository config lacks its keys",
                ));
            }
            (Encryption::XChaCha20Poly1305, _) => keys::unlock(storage.as_ref(), &password()?)?,
        };
        Ok(Self::assemble(storage, config, key))
    }

    fn assemble(storage: Arc<dyn Storage>, config: RepoConfig, key: MasterKey) -> Repository {
        let sealer = match config.encryption {
            Encryption::XChaCha20Poly1305 => Sealer::new(Some(&key.encrypt)),
            Encryption::None => Sealer::Plain,
        };
        Repository {
            storage,
            config,
            key,
            sealer,
            fetched: Default::default(),
            found_damaged: Default::default(),
        }
    }

    /// Read `len` bytes of a pack from `offset`, counted in [`Self::fetched`].
    pub fn read_pack_range(&self, pack: &ids::PackId, offset: u64, len: u64) -> Result<Vec<u8>> {
        self.fetched.0.fetch_add(len, Relaxed);
        self.fetched.1.fetch_add(1, Relaxed);
        match self
            .storage
            .get_range(&writer::pack_name(pack), offset, len)
        {
            Ok(d) => Ok(d),
            Err(e) => {
                if matches!(e, StorageError::NotFound(_) | StorageError::Truncated(_)) {
                    self.note_damaged(pack);
                }
                Err(e.into())
            }
        }
    }

    /// Remember that `pack` was found damaged by a read through this handle.
    pub(crate) fn note_damaged(&self, pack: &ids::PackId) {
        let mut found = self.found_damaged.lock().unwrap();
        if !found.contains(pack) {
            found.push(*pack);
        }
    }

    /// The packs reads through this handle found damaged, for the record.
    pub fn damage_found(&self) -> Vec<ids::PackId> {
        self.found_damaged.lock().unwrap().clone()
    }

    /// Pack bytes read so far by restores through this handle, and in how
    /// many requests.
    pub fn fetched(&self) -> (u64, u64) {
        (self.fetched.0.load(Relaxed), self.fetched.1.load(Relaxed))
    }

    pub fn config(&self) -> &RepoConfig {
        &self.config
    }

    pub fn location(&self) -> String {
        self.storage.location()
    }

    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    pub fn chunk_id(&self, data: &[u8]) -> ids::ChunkId {
        ids::ChunkId(*blake3::keyed_hash(&self.key.chunk_id, data).as_bytes())
    }

    pub fn chunker(&self) -> chunker::Chunker {
        chunker::Chunker::new(self.config.chunker, self.key.chunker_seed)
    }

    fn flags(&self) -> u8 {
        if self.sealer.is_encrypted() {
            FLAG_ENCRYPTED
        } else {
            0
        }
    }

    /// Ids of the content-addressed objects under `dir`.
    fn list_ids<T: FromStr>(&self, dir: &str) -> Result<Vec<T>> {
        let mut out = Vec::new();
        for info in self.storage.list(dir)? {
            let base = info.name.rsplit('/').next().unwrap_or("");
            if let Ok(id) = base.parse() {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// Serialise, compress, seal and frame `value`; store it under its hash.
    /// Returns the object's hash and its stored size.
    fn write_json_object<T: serde::Serialize>(
        &self,
        dir: &str,
        kind: ObjectKind,
        value: &T,
    ) -> Result<([u8; 32], u64)> {
        let json = serde_json::to_vec(value).expect("repository objects serialise");
        let packed = zstd::bulk::compress(&json, self.config.compression_level)
            .map_err(|e| Error::new(Kind::Storage, format!("cannot compress object: {e}")))?;
        let bytes = format::frame(kind, self.flags(), &self.sealer.seal(&packed));
        let id = format::content_hash(&bytes);
        // An object that already exists has, by its name, the same content.
        self.storage
            .put_if_absent(&format!("{dir}{}", hex::encode(id)), &bytes)?;
        Ok((id, bytes.len() as u64))
    }

    /// Read, check, open and parse an object written by [`Self::write_json_object`].
    fn read_json_object<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
        kind: ObjectKind,
        id: &[u8; 32],
    ) -> Result<T> {
        let bytes = self.storage.get(name)?;
        if &format::content_hash(&bytes) != id {
            return Err(Error::repository(format!(
                "object `{name}` is corrupt: its content does not match its name"
            ))
            .with_hint("run `sqlvault verify` to list the damaged restore points"));
        }
        let (_, body) = format::unframe(name, kind, &bytes)?;
        let packed = self.sealer.open(body, &format!("object `{name}`"))?;
        let json = zstd::stream::decode_all(&packed[..])
            .map_err(|e| Error::repository(format!("object `{name}` is corrupt: {e}")))?;
        serde_json::from_slice(&json)
            .map_err(|e| Error::repository(format!("object `{name}` is malformed: {e}")))
    }
}

fn random_hex(n: usize) -> String {
    use rand::RngCore;
    let mut b = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}
