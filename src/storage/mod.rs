//! Dumb object storage under the repository.
//!
//! The trait is shaped after an object store (Azure Blob, S3) rather than a
//! file system: objects are whole, immutable once written, written with
//! put-if-absent so two writers never overwrite each other, and read whole
//! or by range. The repository layer gives every object its name and checks
//! its content; backends only move bytes.

pub mod azure;
mod local;
mod memory;

pub use azure::AzureStorage;
pub use local::LocalStorage;
pub use memory::MemoryStorage;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// The backend a repository location names: `azure://…` or a directory.
/// `tier` (Azure only) is the access tier for objects written.
pub fn open_location(
    location: &Path,
    tier: Option<&str>,
) -> Result<Arc<dyn Storage>, StorageError> {
    let text = location.to_string_lossy();
    if azure::is_azure(&text) {
        let mut url = text.into_owned();
        if let Some(t) = tier {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str("tier=");
            url.push_str(t);
        }
        return Ok(Arc::new(AzureStorage::open(&url)?));
    }
    if tier.is_some() {
        return Err(StorageError::Config(format!(
            "`{}`: an access tier applies only to azure:// repositories",
            location.display()
        )));
    }
    Ok(Arc::new(LocalStorage::new(location)))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Name relative to the repository root, `/`-separated.
    pub name: String,
    pub size: u64,
}

/// Whether an object can be read now, for storage with an archive tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierState {
    Online,
    /// Being brought back from the archive tier (hours).
    Rehydrating,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    Created,
    /// An object of that name was already there and was left untouched.
    AlreadyExists,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object `{0}` does not exist")]
    NotFound(String),
    #[error("permission denied on `{0}`")]
    PermissionDenied(String),
    #[error("no space left on the storage holding `{0}`")]
    NoSpace(String),
    /// The object is there but shorter than what was asked for: damage,
    /// which reading it again will not repair.
    #[error("object `{0}` is truncated: it is shorter than its index says")]
    Truncated(String),
    /// A local repository location that is a file.
    #[error("`{0}` is a file, not a directory")]
    NotADirectory(String),
    #[error("I/O error on `{name}`: {source}")]
    Io {
        name: String,
        source: std::io::Error,
    },
    /// The location itself is malformed (bad URL, unusable credentials).
    #[error("{0}")]
    Config(String),
    #[error("the storage refused access to `{location}`: {detail}")]
    Auth { location: String, detail: String },
    #[error("the container of `{0}` does not exist")]
    ContainerMissing(String),
    #[error("object `{0}` is in the Archive access tier and cannot be read until it is rehydrated")]
    Archived(String),
    #[error("object `{0}` arrived damaged (its MD5 does not match)")]
    Corrupt(String),
    /// The service answered with an error, or could not be reached.
    #[error("storage request for `{name}` failed: {detail}")]
    Remote { name: String, detail: String },
}

impl StorageError {
    pub fn from_io(name: &str, e: std::io::Error) -> Self {
        match e.kind() {
            // A path through a file (`--repo` naming one) holds no object.
            std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => {
                StorageError::NotFound(name.to_string())
            }
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                StorageError::PermissionDenied(name.to_string())
            }
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
                StorageError::NoSpace(name.to_string())
            }
            _ => StorageError::Io {
                name: name.to_string(),
                source: e,
            },
        }
    }
}

impl From<StorageError> for crate::error::Error {
    fn from(e: StorageError) -> Self {
        use crate::error::{Error, Kind};
        let hint = match &e {
            StorageError::NotFound(_) => {
                "the repository is missing an object; run `sqlvault verify` to see which restore points are affected"
            }
            StorageError::PermissionDenied(_) => {
                "check that the user running sqlvault may read and write the repository"
            }
            StorageError::NoSpace(_) => {
                "free space on the repository's disk (or prune old restore points) and run the backup again; earlier restore points are intact"
            }
            StorageError::Truncated(_) => {
                "the repository is damaged; run `sqlvault verify` to see which restore points are affected"
            }
            StorageError::NotADirectory(_) => {
                "a local repository is a directory: give --repo a new or empty directory to `init`, or the directory of an existing repository"
            }
            StorageError::Io { .. } => "check the storage and try again",
            StorageError::Config(_) => {
                "write the repository as azure://ACCOUNT/CONTAINER[/prefix][?endpoint=URL&tier=hot|cool|cold|archive] and give credentials in the environment (see the README)"
            }
            StorageError::Auth { .. } => {
                "check AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_SAS_TOKEN (not expired, with read/write/list/delete rights) or AZURE_STORAGE_KEY, or the Entra ID role (Storage Blob Data Contributor)"
            }
            StorageError::ContainerMissing(_) => {
                "run `sqlvault init --repo <the same azure:// URL>` first; it creates the container"
            }
            StorageError::Archived(_) => {
                "run `sqlvault rehydrate <point> --wait` for the point you are restoring (Azure takes hours to bring archived data back), then run the command again"
            }
            StorageError::Corrupt(_) => {
                "run the command again; if it keeps failing, run `sqlvault verify`"
            }
            StorageError::Remote { .. } => {
                "check that the storage endpoint is reachable and try again; earlier restore points are intact"
            }
        };
        let kind = match e {
            StorageError::NotFound(_)
            | StorageError::ContainerMissing(_)
            | StorageError::Truncated(_) => Kind::Repository,
            StorageError::NotADirectory(_) => Kind::Usage,
            StorageError::Archived(_) => Kind::Repository,
            StorageError::Config(_) => Kind::Usage,
            StorageError::Auth { .. } => Kind::Auth,
            _ => Kind::Storage,
        };
        Error::new(kind, e.to_string()).with_hint(hint)
    }
}

/// The operations every backend must offer.
pub trait Storage: Send + Sync + fmt::Debug {
    /// Where the repository lives, for messages (never contains secrets).
    fn location(&self) -> String;

    /// Prepare an empty location (create the directory or container).
    fn create(&self) -> Result<(), StorageError>;

    /// Write `data` as `name` unless an object of that name already exists.
    /// The object is either fully there afterwards or not at all.
    fn put_if_absent(&self, name: &str, data: &[u8]) -> Result<PutOutcome, StorageError>;

    fn get(&self, name: &str) -> Result<Vec<u8>, StorageError>;

    fn get_range(&self, name: &str, offset: u64, len: u64) -> Result<Vec<u8>, StorageError>;

    /// Every object whose name starts with `prefix`, in no particular order.
    fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StorageError>;

    fn delete(&self, name: &str) -> Result<(), StorageError>;

    /// Remove what killed writers left half-written (a local repository's
    /// `tmp/` files that no running process holds) and return their names.
    /// Storage where an object exists only once complete (Azure: blocks
    /// never committed are discarded by the service) has nothing to remove.
    fn remove_stale_temporaries(&self) -> Result<Vec<String>, StorageError> {
        Ok(Vec::new())
    }

    /// Hold a lock named `name` until the guard is dropped, waiting for
    /// holders it conflicts with: shared holders exclude only an exclusive
    /// one. Backends without locking (in-memory) hand out a guard that
    /// excludes nothing.
    fn lock(&self, _name: &str, _shared: bool) -> Result<Box<dyn Send>, StorageError> {
        Ok(Box::new(()))
    }

    /// Make an archived object readable again, or report how far that is.
    /// Only storage with an archive tier implements it: elsewhere every
    /// object is online.
    fn rehydrate(&self, _name: &str, _high_priority: bool) -> Result<TierState, StorageError> {
        Ok(TierState::Online)
    }

    /// How many reads a restore keeps in flight. A local disk gains
    /// nothing from more than one per core; an object store answers each
    /// request only after a round trip, which more reads at once hide.
    fn read_concurrency(&self) -> usize {
        crate::util::cores()
    }

    /// About how many bytes of chunks one restore read gathers. Small reads
    /// keep memory low and the writer that takes them in order busy, which
    /// is best on a local disk; an object store charges a round trip (and
    /// money) per request, so it prefers large ones.
    fn read_size(&self) -> u64 {
        4 << 20
    }

    fn exists(&self, name: &str) -> Result<bool, StorageError> {
        match self.get_range(name, 0, 0) {
            Ok(_) => Ok(true),
            Err(StorageError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
