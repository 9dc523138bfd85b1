//! Where a package to back up is read from: a local file, or a blob in
//! Azure Storage (`azure://ACCOUNT/CONTAINER/path/shop.bacpac`), read with
//! ranged requests as the ZIP reader asks for it, never copied to a local
//! file first.

use crate::error::{Error, Result};
use crate::storage::{AzureStorage, Storage, StorageError};
use std::io::{Read, Seek, SeekFrom};

/// What the ZIP reader reads a package through.
pub trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

/// One ranged request's size: large enough that a sequential read of a
/// data part costs few round trips, small enough to keep memory low.
const READ_AHEAD: u64 = 8 << 20;

/// A blob read through ranged requests, with a read-ahead buffer.
pub struct BlobReader {
    storage: AzureStorage,
    name: String,
    size: u64,
    pos: u64,
    buf: Vec<u8>,
    /// Where `buf` starts in the blob.
    buf_at: u64,
}

impl std::fmt::Debug for BlobReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobReader")
            .field("name", &self.name)
            .finish()
    }
}

/// Split `azure://ACCOUNT/CONTAINER/dir/file.bacpac?opts` into the storage
/// location (`azure://ACCOUNT/CONTAINER/dir?opts`) and the blob's name.
fn split(url: &str) -> Option<(String, String)> {
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (url, None),
    };
    let (dir, name) = path.rsplit_once('/')?;
    // The container itself must stay in the location.
    if dir.matches('/').count() < 3 || name.is_empty() {
        return None;
    }
    let location = match query {
        Some(q) => format!("{dir}?{q}"),
        None => dir.to_string(),
    };
    Some((location, name.to_string()))
}

impl BlobReader {
    pub fn open(url: &str) -> Result<BlobReader> {
        let (location, name) = split(url).ok_or_else(|| {
            Error::usage(format!("`{url}` names no package blob"))
                .with_hint("give azure://ACCOUNT/CONTAINER/path/NAME.bacpac")
        })?;
        let storage = AzureStorage::open(&location)?;
        let missing = || {
            Error::database(format!("`{url}` does not exist"))
                .with_hint("check the container and the blob's name")
        };
        let listed = storage.list(&name).map_err(|e| match e {
            StorageError::ContainerMissing(_) | StorageError::NotFound(_) => missing(),
            other => Error::from(other),
        })?;
        let size = listed
            .iter()
            .find(|o| o.name == name)
            .map(|o| o.size)
            .ok_or_else(missing)?;
        Ok(BlobReader {
            storage,
            name,
            size,
            pos: 0,
            buf: Vec::new(),
            buf_at: 0,
        })
    }
}

impl Read for BlobReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.size || out.is_empty() {
            return Ok(0);
        }
        let in_buf = self.pos >= self.buf_at && self.pos < self.buf_at + self.buf.len() as u64;
        if !in_buf {
            let len = READ_AHEAD.min(self.size - self.pos);
            self.buf = self
                .storage
                .get_range(&self.name, self.pos, len)
                .map_err(|e| std::io::Error::other(Error::from(e)))?;
            self.buf_at = self.pos;
            if self.buf.is_empty() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the blob ended early",
                ));
            }
        }
        let start = (self.pos - self.buf_at) as usize;
        let n = out.len().min(self.buf.len() - start);
        out[..n].copy_from_slice(&self.buf[start..start + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for BlobReader {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = pos.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
        })?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn a_blob_url_splits_into_its_folder_and_name() {
        assert_eq!(
            split("azure://acct/exports/2026/shop.bacpac?endpoint=http://127.0.0.1:1/acct"),
            Some((
                "azure://acct/exports/2026?endpoint=http://127.0.0.1:1/acct".into(),
                "shop.bacpac".into()
            ))
        );
        assert_eq!(
            split("azure://acct/exports/shop.bacpac"),
            Some(("azure://acct/exports".into(), "shop.bacpac".into()))
        );
        assert_eq!(split("azure://acct/shop.bacpac"), None);
    }
}
