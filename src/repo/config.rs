//! The repository's `config` object: format version and parameters that
//! every writer must agree on. Not secret; its integrity is checked by the
//! object frame.

use super::chunker::ChunkerParams;
use super::crypto::MasterKey;
use serde::{Deserialize, Serialize};

pub const CONFIG_NAME: &str = "config";

/// Default target size of a pack file: large enough that 1 GiB of new data
/// takes well under 100 storage requests.
pub const DEFAULT_PACK_SIZE: usize = 16 * 1024 * 1024;

pub const DEFAULT_COMPRESSION: i32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Encryption {
    #[serde(rename = "xchacha20-poly1305")]
    XChaCha20Poly1305,
    #[serde(rename = "none")]
    None,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoConfig {
    pub version: u8,
    pub id: String,
    pub created_at: String,
    pub encryption: Encryption,
    pub compression_level: i32,
    pub chunker: ChunkerParams,
    pub pack_size: usize,
    /// Only in unencrypted repositories: the chunk-id key and chunker seed,
    /// which there is no key object to hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plain_key: Option<MasterKey>,
}
