//! A distinct id type per object kind, so a pack id can never be passed
//! where a restore point id is expected.

use std::fmt;
use std::str::FromStr;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }

            /// The first 8 hex digits, as shown in tables.
            pub fn short(&self) -> String {
                hex::encode(&self.0[..4])
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.short())
            }
        }

        impl FromStr for $name {
            type Err = hex::FromHexError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let mut out = [0u8; 32];
                hex::decode_to_slice(s, &mut out)?;
                Ok($name(out))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_hex())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// Keyed hash of a chunk's plaintext: equal content, equal id, but the id
    /// reveals nothing about the content without the repository key.
    ChunkId
);
id_type!(
    /// Hash of a pack object's stored bytes.
    PackId
);
id_type!(
    /// Hash of an index object's stored bytes.
    IndexId
);
id_type!(
    /// Hash of a restore point manifest's stored bytes.
    PointId
);
id_type!(
    /// Random id of a key object.
    KeyId
);
id_type!(
    /// Hash of a session record's stored bytes.
    SessionId
);
id_type!(
    /// Hash of a damage record's stored bytes.
    DamageId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_serde() {
        let id = PackId(*blake3::hash(b"x").as_bytes());
        let parsed: PackId = id.to_hex().parse().unwrap();
        assert_eq!(parsed, id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<PackId>(&json).unwrap(), id);
        assert!("zz".parse::<PackId>().is_err());
        assert_eq!(id.short().len(), 8);
    }
}
