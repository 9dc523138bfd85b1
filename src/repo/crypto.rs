//! Keys and sealing.
//!
//! A random master key encrypts everything; the user's password (or key
//! file) only unlocks a key object that holds the master key, so the
//! password can change without re-encrypting data. Sealing is
//! XChaCha20-Poly1305 with a random 192-bit nonce per message, safe for the
//! number of blobs a repository will ever hold.

use crate::error::{Error, Kind, Result};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};

const NONCE_LEN: usize = 24;
pub const TAG_LEN: usize = 16;

/// Secret material of a repository.
#[derive(Clone, Serialize, Deserialize)]
pub struct MasterKey {
    #[serde(with = "hex_bytes")]
    pub encrypt: [u8; 32],
    /// Keys the chunk-id hash so ids reveal nothing about content.
    #[serde(with = "hex_bytes")]
    pub chunk_id: [u8; 32],
    /// Seeds the chunker so cut points reveal nothing about content.
    pub chunker_seed: u64,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    pub fn generate() -> Self {
        let mut rng = rand::rngs::OsRng;
        let mut k = MasterKey {
            encrypt: [0; 32],
            chunk_id: [0; 32],
            chunker_seed: rng.next_u64(),
        };
        rng.fill_bytes(&mut k.encrypt);
        rng.fill_bytes(&mut k.chunk_id);
        k
    }
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(b: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(b))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(serde::de::Error::custom)?;
        Ok(out)
    }
}

/// Seals and opens blobs and object bodies; `Plain` for unencrypted repositories.
#[derive(Clone)]
pub enum Sealer {
    Encrypted(Box<XChaCha20Poly1305>),
    Plain,
}

impl Sealer {
    pub fn new(key: Option<&[u8; 32]>) -> Self {
        match key {
            Some(k) => Sealer::Encrypted(Box::new(XChaCha20Poly1305::new(k.into()))),
            None => Sealer::Plain,
        }
    }

    pub fn is_encrypted(&self) -> bool {
        matches!(self, Sealer::Encrypted(_))
    }

    /// Bytes added to every sealed message.
    pub fn overhead(&self) -> usize {
        match self {
            Sealer::Encrypted(_) => NONCE_LEN + TAG_LEN,
            Sealer::Plain => 0,
        }
    }

    /// Append the sealed form of `plain` to `out`.
    pub fn seal_into(&self, plain: &[u8], out: &mut Vec<u8>) {
        match self {
            Sealer::Encrypted(c) => {
                let mut nonce = [0u8; NONCE_LEN];
                rand::rngs::OsRng.fill_bytes(&mut nonce);
                let ct = c
                    .encrypt(XNonce::from_slice(&nonce), plain)
                    .expect("encryption of an in-memory buffer cannot fail");
                out.extend_from_slice(&nonce);
                out.extend_from_slice(&ct);
            }
            Sealer::Plain => out.extend_from_slice(plain),
        }
    }

    pub fn seal(&self, plain: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(plain.len() + self.overhead());
        self.seal_into(plain, &mut out);
        out
    }

    /// Open a sealed message; `what` names it in the error.
    pub fn open(&self, sealed: &[u8], what: &str) -> Result<Vec<u8>> {
        match self {
            Sealer::Encrypted(c) => {
                if sealed.len() < NONCE_LEN + TAG_LEN {
                    return Err(Error::repository(format!("{what} is corrupt: too short")));
                }
                let (nonce, ct) = sealed.split_at(NONCE_LEN);
                c.decrypt(XNonce::from_slice(nonce), ct).map_err(|_| {
                    Error::repository(format!("{what} is corrupt: authentication failed"))
                        .with_hint("run `sqlvault verify` to list the damaged restore points")
                })
            }
            Sealer::Plain => Ok(sealed.to_vec()),
        }
    }
}

/// Parameters of the password hash, stored in each key object.
/// The key derivation of key objects made from a key file.
const FAST_KDF: &str = "blake3-derive-key";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KdfParams {
    pub algorithm: String,
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
    pub salt: String,
}

impl KdfParams {
    pub fn new_default() -> Self {
        let mut salt = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        KdfParams {
            algorithm: "argon2id".into(),
            m_cost_kib: 64 * 1024,
            t_cost: 3,
            p_cost: 1,
            salt: hex::encode(salt),
        }
    }

    /// For random key material (format version 4): a keyed hash, since
    /// there is no password to protect against guessing.
    pub fn new_fast() -> Self {
        let mut salt = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        KdfParams {
            algorithm: FAST_KDF.into(),
            m_cost_kib: 0,
            t_cost: 0,
            p_cost: 0,
            salt: hex::encode(salt),
        }
    }

    pub fn is_fast(&self) -> bool {
        self.algorithm == FAST_KDF
    }

    /// Derive the key that unlocks a key object.
    pub fn derive(&self, password: &[u8]) -> Result<[u8; 32]> {
        if self.is_fast() {
            let salt = hex::decode(&self.salt)
                .map_err(|_| Error::repository("key object has a malformed salt"))?;
            let mut h = blake3::Hasher::new_derive_key("sqlvault 2026 key file v4");
            h.update(&salt);
            h.update(password);
            return Ok(*h.finalize().as_bytes());
        }
        if self.algorithm != "argon2id" {
            return Err(Error::repository(format!(
                "key uses unknown key derivation `{}`",
                self.algorithm
            )));
        }
        let salt = hex::decode(&self.salt)
            .map_err(|_| Error::repository("key object has a malformed salt"))?;
        let params = argon2::Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(32))
            .map_err(|e| Error::repository(format!("key object has bad parameters: {e}")))?;
        let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = [0u8; 32];
        a.hash_password_into(password, &salt, &mut out)
            .map_err(|e| Error::new(Kind::Auth, format!("cannot derive key: {e}")))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_tamper() {
        let k = MasterKey::generate();
        let s = Sealer::new(Some(&k.encrypt));
        let sealed = s.seal(b"secret rows");
        assert_eq!(sealed.len(), 11 + s.overhead());
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(s.open(&sealed, "blob").unwrap(), b"secret rows");
        let mut bad = sealed.clone();
        bad[30] ^= 1;
        assert!(s.open(&bad, "blob").is_err());
        let other = Sealer::new(Some(&MasterKey::generate().encrypt));
        assert!(other.open(&sealed, "blob").is_err());
    }

    #[test]
    fn kdf_is_deterministic_per_salt() {
        let mut p = KdfParams::new_default();
        p.m_cost_kib = 1024;
        p.t_cost = 1;
        assert_eq!(p.derive(b"pw").unwrap(), p.derive(b"pw").unwrap());
        assert_ne!(p.derive(b"pw").unwrap(), p.derive(b"pw2").unwrap());
    }
}
