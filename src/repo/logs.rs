//! The log archive: whole files a database writes continuously (PostgreSQL
//! WAL segments, timeline history files), each stored as one immutable
//! object under `wal/<cluster>/<file name>`, compressed and sealed.
//!
//! Log files are not chunked or deduplicated: a segment is written once,
//! read once at recovery, and its name is its identity. What the archive
//! guarantees is the rule a server's `archive_command` needs: a file is
//! stored completely or not at all, storing the same content again is a
//! no-op, and different content under a stored name is refused.
//!
//! Each cluster directory is bound, by its `cluster` object, to one
//! database cluster's identity, so two clusters can never interleave.

use super::Repository;
use super::format::{self, ObjectKind};
use crate::error::{Error, Kind, Result};
use crate::storage::{PutOutcome, StorageError};
use serde::{Deserialize, Serialize};

pub const LOGS_DIR: &str = "wal/";
const CLUSTER_OBJECT: &str = "cluster";

/// What the archive records about one stored file (sealed with it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogMeta {
    pub name: String,
    pub size: u64,
    /// Keyed hash of the content (like chunk ids): equal content, equal id.
    pub id: String,
    pub archived_at: String,
    /// Facts the engine read from the file (timeline, times), for listings.
    #[serde(default)]
    pub facts: serde_json::Value,
}

/// The identity a cluster directory is bound to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterRecord {
    /// PostgreSQL's `system_identifier`, as decimal text.
    pub system_identifier: String,
    pub created_at: String,
    /// The host that bound it, for messages.
    pub hostname: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    /// The same content was already archived under that name.
    AlreadyArchived,
}

/// `[A-Za-z0-9_.-]`, 1 to 64 characters, not starting with a dot.
pub fn check_cluster_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(
            Error::usage(format!("`{name}` is not a valid cluster name"))
                .with_hint("use 1 to 64 letters, digits, `_`, `-` or `.`"),
        )
    }
}

fn object_name(cluster: &str, file: &str) -> String {
    format!("{LOGS_DIR}{cluster}/{file}")
}

impl Repository {
    /// The identity `cluster` is bound to, if any.
    pub fn cluster_record(&self, cluster: &str) -> Result<Option<ClusterRecord>> {
        let name = object_name(cluster, CLUSTER_OBJECT);
        let data = match self.storage.get(&name) {
            Ok(d) => d,
            Err(StorageError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let (_, body) = format::unframe(&name, ObjectKind::Cluster, &data)?;
        serde_json::from_slice(body)
            .map(Some)
            .map_err(|e| Error::repository(format!("object `{name}` is malformed: {e}")))
    }

    /// Bind `cluster` to `system_identifier`, or check the binding that is
    /// there. A different identity is refused: it is another cluster.
    pub fn bind_cluster(&self, cluster: &str, system_identifier: &str) -> Result<ClusterRecord> {
        check_cluster_name(cluster)?;
        if let Some(existing) = self.cluster_record(cluster)? {
            return check_binding(cluster, existing, system_identifier);
        }
        let record = ClusterRecord {
            system_identifier: system_identifier.to_string(),
            created_at: crate::util::now_rfc3339(),
            hostname: crate::util::hostname(),
        };
        let body = serde_json::to_vec_pretty(&record).expect("cluster record serialises");
        let name = object_name(cluster, CLUSTER_OBJECT);
        match self
            .storage
            .put_if_absent(&name, &format::frame(ObjectKind::Cluster, 0, &body))?
        {
            PutOutcome::Created => Ok(record),
            // Another process bound it first: theirs stands.
            PutOutcome::AlreadyExists => {
                let existing = self.cluster_record(cluster)?.ok_or_else(|| {
                    Error::repository(format!("object `{name}` vanished while being read"))
                })?;
                check_binding(cluster, existing, system_identifier)
            }
        }
    }

    /// Clusters that have a log archive here.
    pub fn log_clusters(&self) -> Result<Vec<String>> {
        let mut out: Vec<String> = self
            .storage
            .list(LOGS_DIR)?
            .into_iter()
            .filter_map(|i| {
                let rest = i.name.strip_prefix(LOGS_DIR)?;
                let (cluster, file) = rest.split_once('/')?;
                (file == CLUSTER_OBJECT).then(|| cluster.to_string())
            })
            .collect();
        out.sort();
        Ok(out)
    }

    /// Names of the files archived for `cluster`, sorted, with their sizes.
    pub fn list_logs(&self, cluster: &str) -> Result<Vec<(String, u64)>> {
        let prefix = object_name(cluster, "");
        let mut out: Vec<(String, u64)> = self
            .storage
            .list(&prefix)?
            .into_iter()
            .filter_map(|i| {
                let file = i.name.strip_prefix(&prefix)?;
                (file != CLUSTER_OBJECT && !file.contains('/')).then(|| (file.to_string(), i.size))
            })
            .collect();
        out.sort();
        Ok(out)
    }

    /// Archive one file. Returns once it is stored completely.
    pub fn put_log(
        &self,
        cluster: &str,
        file: &str,
        data: &[u8],
        facts: serde_json::Value,
    ) -> Result<Stored> {
        let id = hex::encode(self.chunk_id(data).0);
        let meta = LogMeta {
            name: file.to_string(),
            size: data.len() as u64,
            id: id.clone(),
            archived_at: crate::util::now_rfc3339(),
            facts,
        };
        let head = self
            .sealer
            .seal(&serde_json::to_vec(&meta).expect("log meta serialises"));
        let packed = zstd::bulk::compress(data, self.config.compression_level)
            .map_err(|e| Error::new(Kind::Storage, format!("cannot compress `{file}`: {e}")))?;
        // The meta is sealed on its own so that it reads without the content.
        let mut body = Vec::with_capacity(4 + head.len() + packed.len() + 64);
        body.extend_from_slice(&(head.len() as u32).to_le_bytes());
        body.extend_from_slice(&head);
        body.extend_from_slice(&self.sealer.seal(&packed));
        let bytes = format::frame(ObjectKind::Log, self.flags(), &body);
        let name = object_name(cluster, file);
        match self.storage.put_if_absent(&name, &bytes)? {
            PutOutcome::Created => Ok(Stored::New),
            PutOutcome::AlreadyExists => {
                let (theirs, _) = self.read_log_object(&name, false)?.ok_or_else(|| {
                    Error::repository(format!("object `{name}` vanished while being read"))
                })?;
                if theirs.id == id {
                    Ok(Stored::AlreadyArchived)
                } else {
                    Err(Error::repository(format!(
                        "`{file}` is already archived for cluster `{cluster}` with different content ({} bytes, archived {})",
                        theirs.size, theirs.archived_at
                    ))
                    .with_hint(
                        "two servers archive into the same place: a restored copy or a standby still has archive_mode on, or two clusters share one --cluster name; give each cluster its own name",
                    ))
                }
            }
        }
    }

    /// Read back every archived file of every cluster and check its
    /// content against its checksum; the number read, and one line per
    /// file that failed.
    pub fn check_logs(
        &self,
        progress: &dyn crate::progress::Progress,
    ) -> Result<(usize, Vec<String>)> {
        let mut errors = Vec::new();
        let mut read = 0;
        for cluster in self.log_clusters()? {
            for (file, size) in self.list_logs(&cluster)? {
                crate::interrupt::check()?;
                match self.get_log(&cluster, &file) {
                    Ok(_) => read += 1,
                    Err(e) => errors.push(format!("cluster `{cluster}`: {e}")),
                }
                progress.advance(size);
            }
        }
        Ok((read, errors))
    }

    /// Delete one archived file (retention; under the exclusive lock).
    pub fn delete_log(&self, cluster: &str, file: &str) -> Result<()> {
        Ok(self.storage.delete(&object_name(cluster, file))?)
    }

    /// Read one archived file: what was recorded with it and its content.
    pub fn get_log(&self, cluster: &str, file: &str) -> Result<Option<(LogMeta, Vec<u8>)>> {
        let name = object_name(cluster, file);
        Ok(self
            .read_log_object(&name, true)?
            .map(|(meta, data)| (meta, data.unwrap_or_default())))
    }

    /// What was recorded with an archived file, read without its content.
    pub fn log_meta(&self, cluster: &str, file: &str) -> Result<Option<LogMeta>> {
        let name = object_name(cluster, file);
        let start = format::HEADER_LEN as u64 + 4;
        let head = match self.storage.get_range(&name, 0, start) {
            Ok(d) => d,
            Err(StorageError::NotFound(_)) => return Ok(None),
            Err(StorageError::Truncated(_)) => return Err(corrupt(&name)),
            Err(e) => return Err(e.into()),
        };
        format::check_header(&name, ObjectKind::Log, &head)?;
        let len = u32::from_le_bytes(head[format::HEADER_LEN..].try_into().unwrap()) as u64;
        let sealed = match self.storage.get_range(&name, start, len) {
            Ok(d) => d,
            Err(StorageError::Truncated(_)) => return Err(corrupt(&name)),
            Err(e) => return Err(e.into()),
        };
        self.open_log_meta(&name, &sealed).map(Some)
    }

    fn open_log_meta(&self, name: &str, sealed: &[u8]) -> Result<LogMeta> {
        let plain = self.sealer.open(sealed, &format!("object `{name}`"))?;
        serde_json::from_slice(&plain)
            .map_err(|e| Error::repository(format!("object `{name}` is malformed: {e}")))
    }

    fn read_log_object(
        &self,
        name: &str,
        content: bool,
    ) -> Result<Option<(LogMeta, Option<Vec<u8>>)>> {
        let data = match self.storage.get(name) {
            Ok(d) => d,
            Err(StorageError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let (_, body) = format::unframe(name, ObjectKind::Log, &data)?;
        let head_len = u32::from_le_bytes(
            body.get(..4)
                .ok_or_else(|| corrupt(name))?
                .try_into()
                .unwrap(),
        ) as usize;
        let head = body.get(4..4 + head_len).ok_or_else(|| corrupt(name))?;
        let meta = self.open_log_meta(name, head)?;
        if !content {
            return Ok(Some((meta, None)));
        }
        let packed = self
            .sealer
            .open(&body[4 + head_len..], &format!("object `{name}`"))?;
        let mut out = Vec::with_capacity(meta.size as usize);
        zstd::stream::copy_decode(&packed[..], &mut out)
            .map_err(|e| Error::repository(format!("object `{name}` is corrupt: {e}")))?;
        if out.len() as u64 != meta.size || hex::encode(self.chunk_id(&out).0) != meta.id {
            return Err(Error::repository(format!(
                "object `{name}` is corrupt: its content does not match its checksum"
            ))
            .with_hint("run `sqlvault verify` to check the log archive"));
        }
        Ok(Some((meta, Some(out))))
    }
}

fn corrupt(name: &str) -> Error {
    Error::repository(format!("object `{name}` is corrupt: bad layout"))
        .with_hint("run `sqlvault verify` to check the log archive")
}

fn check_binding(cluster: &str, existing: ClusterRecord, sysid: &str) -> Result<ClusterRecord> {
    if existing.system_identifier == sysid {
        return Ok(existing);
    }
    Err(Error::usage(format!(
        "cluster name `{cluster}` in this repository belongs to another database cluster (system identifier {}, bound {} on {}); this one is {sysid}",
        existing.system_identifier, existing.created_at, existing.hostname
    ))
    .with_hint(
        "give this cluster its own --cluster name (in archive_command and in backup --physical), or use another repository",
    ))
}
