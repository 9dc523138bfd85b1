//! A repository in an Azure Blob Storage container (or Azurite), through
//! the official Azure SDK.
//!
//! The [`Storage`] trait is synchronous and called from plain threads, so
//! the backend owns a small tokio runtime and blocks on it. Every object is
//! a block blob named `<prefix>/<object name>`; writes carry
//! `If-None-Match: *` so two writers never overwrite each other, and a
//! Content-MD5 on every request body that the service checks.

pub mod access;
mod auth;
mod errors;
mod lock;
mod policies;
mod rehydrate;
mod sign;
mod url;

pub use auth::{Credential, Resolved, Service, entra_credential, resolve_for};
pub use errors::redact;
pub use policies::CountPolicy;
pub use url::{AzureUrl, Tier, is_azure, parse_endpoint};

use super::{ObjectInfo, PutOutcome, Storage, StorageError, TierState};
use azure_core::http::{ClientOptions, Etag, RetryOptions, policies::Policy};
use azure_storage_blob::models::{
    AccessTier, BlobClientDownloadOptions, BlobContainerClientListBlobsOptions,
    BlockBlobClientUploadOptions, HttpRange,
};
use azure_storage_blob::{BlobClient, BlobContainerClient, BlobContainerClientOptions};
use futures::TryStreamExt as _;
use md5::{Digest, Md5};
use std::num::NonZero;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Sizes and limits; the defaults suit real accounts, tests shrink them to
/// exercise every path with little data.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// Objects up to this size go up in one Put Blob.
    pub single_put_max: usize,
    /// Larger ones as blocks of this size (also the ranged-read size).
    pub block_size: usize,
    /// Blocks or ranges in flight per object.
    pub parallel: usize,
    /// Page size of listings (the service's default is 5000).
    pub list_page: Option<i32>,
    /// Lease length of lock blobs, in seconds (15-60).
    pub lease_seconds: i32,
    /// Total time the SDK may spend retrying one request.
    pub retry_seconds: i64,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            // Packs are 16 MiB: one request each keeps requests per GiB low.
            single_put_max: 32 << 20,
            block_size: 8 << 20,
            parallel: 4,
            list_page: None,
            lease_seconds: 60,
            retry_seconds: 60,
        }
    }
}

pub struct AzureStorage {
    url: AzureUrl,
    rt: tokio::runtime::Runtime,
    container: BlobContainerClient,
    secrets: Vec<String>,
    counter: Arc<policies::CountPolicy>,
    tuning: Tuning,
    credential_source: &'static str,
}

impl std::fmt::Debug for AzureStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureStorage")
            .field("url", &self.url.to_string())
            .finish_non_exhaustive()
    }
}

impl AzureStorage {
    /// Open `azure://…` with credentials from the process environment.
    pub fn open(location: &str) -> Result<AzureStorage, StorageError> {
        let tuning = Tuning {
            retry_seconds: std::env::var("SQLVAULT_AZURE_RETRY_SECONDS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(60),
            ..Tuning::default()
        };
        Self::open_with(location, &|k| std::env::var(k).ok(), tuning)
    }

    pub fn open_with(
        location: &str,
        env: &dyn Fn(&str) -> Option<String>,
        tuning: Tuning,
    ) -> Result<AzureStorage, StorageError> {
        // reqwest is built without a default TLS provider; use ring, like the
        // rest of the crate. Before anything builds an HTTP client (the Entra
        // ID credentials do). An error only means one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let url = AzureUrl::parse(location).map_err(StorageError::Config)?;
        let resolved = auth::resolve(&url, env).map_err(StorageError::Config)?;
        let access =
            access::from_resolved(resolved, &url.to_string()).map_err(StorageError::Config)?;
        let counter = Arc::new(policies::CountPolicy::default());
        let mut per_try: Vec<Arc<dyn Policy>> =
            vec![Arc::new(policies::ContentMd5Policy), counter.clone()];
        per_try.extend(access.per_try.iter().cloned());
        let container_url = access
            .resource_url(&url.container)
            .map_err(|e| StorageError::Config(format!("{url}: {e}")))?;
        let token = access.token.clone();
        let client_options = ClientOptions {
            per_try_policies: per_try,
            retry: RetryOptions::exponential(azure_core::http::ExponentialRetryOptions {
                max_total_elapsed: azure_core::time::Duration::seconds(tuning.retry_seconds),
                ..Default::default()
            }),
            ..Default::default()
        };
        let container = BlobContainerClient::new(
            container_url,
            token,
            Some(BlobContainerClientOptions {
                client_options,
                ..Default::default()
            }),
        )
        .map_err(|e| {
            // E.g. Entra ID over plain http; the SDK's text may hold the URL.
            let text = errors::redact(&e.to_string(), &access.secrets);
            StorageError::Config(format!("{url}: {text}"))
        })?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .thread_name("azure-io")
            .enable_all()
            .build()
            .map_err(|e| StorageError::from_io(&url.to_string(), e))?;
        Ok(AzureStorage {
            secrets: access.secrets.clone(),
            credential_source: access.source,
            url,
            rt,
            container,
            counter,
            tuning,
        })
    }

    /// HTTP requests sent so far, retries included.
    pub fn requests(&self) -> u64 {
        self.counter.requests.load(Ordering::Relaxed)
    }

    /// The access tier of object `name` as the service reports it.
    pub fn access_tier(&self, name: &str) -> Result<Option<String>, StorageError> {
        use azure_storage_blob::models::BlobClientGetPropertiesResultHeaders as _;
        self.rt.block_on(async {
            let p = self
                .blob(name)
                .get_properties(None)
                .await
                .map_err(|e| self.err(name, e))?;
            Ok(p.access_tier().ok().flatten())
        })
    }

    /// Upload `reader` as block blob `name` in blocks of the tuning's size,
    /// so a file of any size passes through bounded memory.
    pub fn upload_from(
        &self,
        name: &str,
        reader: &mut dyn std::io::Read,
    ) -> Result<u64, StorageError> {
        use azure_storage_blob::models::BlockLookupList;
        use std::io::Read as _;
        let client = self.blob(name).block_blob_client();
        let mut ids: Vec<Vec<u8>> = Vec::new();
        let mut total = 0u64;
        loop {
            let mut block = Vec::with_capacity(self.tuning.block_size);
            std::io::Read::take(&mut *reader, self.tuning.block_size as u64)
                .read_to_end(&mut block)
                .map_err(|e| StorageError::from_io(name, e))?;
            if block.is_empty() && !ids.is_empty() {
                break;
            }
            // Block ids must all have the same length.
            let id = format!("{:016}", ids.len()).into_bytes();
            let len = block.len() as u64;
            total += len;
            self.rt.block_on(async {
                client
                    .stage_block(&id, len, azure_core::Bytes::from(block).into(), None)
                    .await
                    .map_err(|e| self.err(name, e))
            })?;
            ids.push(id);
            if len < self.tuning.block_size as u64 {
                break;
            }
        }
        let list = BlockLookupList {
            latest: Some(ids),
            ..Default::default()
        };
        self.rt.block_on(async {
            client
                .commit_block_list(list.try_into().map_err(|e| self.err(name, e))?, None)
                .await
                .map_err(|e| self.err(name, e))
        })?;
        Ok(total)
    }

    fn blob(&self, name: &str) -> BlobClient {
        self.container.blob_client(&self.url.blob_name(name))
    }

    fn err(&self, name: &str, e: azure_core::Error) -> StorageError {
        errors::classify(self, name, e)
    }

    /// The tier for object `name`: the repository's for packs, the account
    /// default for the small objects every backup reads (config, keys,
    /// index, points), so that backups and listings keep working in a
    /// repository whose data sits in Cool, Cold or Archive.
    fn tier(&self, name: &str) -> Option<AccessTier> {
        if !name.starts_with("packs/") {
            return None;
        }
        self.url.tier.map(|t| match t {
            Tier::Hot => AccessTier::Hot,
            Tier::Cool => AccessTier::Cool,
            Tier::Cold => AccessTier::Cold,
            Tier::Archive => AccessTier::Archive,
        })
    }

    /// Download, again from the start when the response is cut off
    /// mid-body: the SDK retries a request that fails, but not a body that
    /// ends early once the headers came (a dropped connection, a proxy
    /// reset). Within the same time budget as the SDK's retries.
    async fn download(
        &self,
        name: &str,
        range: Option<HttpRange>,
    ) -> Result<(Vec<u8>, Option<Vec<u8>>), StorageError> {
        let budget = std::time::Duration::from_secs(self.tuning.retry_seconds.max(0) as u64);
        let began = std::time::Instant::now();
        let mut wait = std::time::Duration::from_millis(200);
        loop {
            match self.download_once(name, range.clone()).await {
                Err(Cut::Body(e)) if began.elapsed() + wait < budget => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(std::time::Duration::from_secs(8));
                    drop(e);
                }
                Err(Cut::Body(e) | Cut::Request(e)) => return Err(e),
                Ok(x) => return Ok(x),
            }
        }
    }

    async fn download_once(
        &self,
        name: &str,
        range: Option<HttpRange>,
    ) -> Result<(Vec<u8>, Option<Vec<u8>>), Cut> {
        let opts = BlobClientDownloadOptions {
            range,
            parallel: NonZero::new(self.tuning.parallel),
            partition_size: NonZero::new(self.tuning.block_size),
            ..Default::default()
        };
        let r = self
            .blob(name)
            .download(Some(opts))
            .await
            .map_err(|e| Cut::Request(self.err(name, e)))?;
        // The whole object's MD5 as stored at upload, also sent with ranges.
        let md5 = r
            .headers
            .get_optional_str(&azure_core::http::headers::HeaderName::from_static(
                "x-ms-blob-content-md5",
            ))
            .or_else(|| {
                r.headers
                    .get_optional_str(&azure_core::http::headers::HeaderName::from_static(
                        "content-md5",
                    ))
                    .filter(|_| range_is_whole(&r.headers))
            })
            .and_then(|s| {
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, s).ok()
            });
        let body = r
            .body
            .collect()
            .await
            .map_err(|e| Cut::Body(self.err(name, e)))?;
        Ok((body.to_vec(), md5))
    }
}

/// How a download failed: the request itself (already retried by the
/// SDK), or its body after the headers came.
enum Cut {
    Request(StorageError),
    Body(StorageError),
}

/// Whether a download response covers the whole blob (no Content-Range, or
/// one that starts at 0 and ends at the size).
fn range_is_whole(h: &azure_core::http::headers::Headers) -> bool {
    match h.get_optional_str(&azure_core::http::headers::HeaderName::from_static(
        "content-range",
    )) {
        None => true,
        Some(r) => {
            let Some((span, total)) = r.trim_start_matches("bytes ").split_once('/') else {
                return false;
            };
            let Some((start, end)) = span.split_once('-') else {
                return false;
            };
            start == "0" && end.parse::<u64>().ok().map(|e| e + 1) == total.parse().ok()
        }
    }
}

fn shorter(name: &str) -> StorageError {
    StorageError::Truncated(name.to_string())
}

impl Drop for AzureStorage {
    fn drop(&mut self) {
        // The benchmark's request count: appended to a file, never printed.
        if let Some(path) = std::env::var_os("SQLVAULT_AZURE_REQUEST_LOG") {
            use std::io::Write;
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
            {
                let _ = writeln!(f, "{}", self.requests());
            }
        }
    }
}

impl Storage for AzureStorage {
    fn location(&self) -> String {
        self.url.to_string()
    }

    fn read_concurrency(&self) -> usize {
        crate::util::cores().max(4)
    }

    /// Large enough that a GiB takes a few hundred requests, small enough
    /// that a PostgreSQL restore of two tables at once, whose packs
    /// interleave (a read may span twice its chunks), stays within a few
    /// hundred MiB.
    fn read_size(&self) -> u64 {
        8 << 20
    }

    fn create(&self) -> Result<(), StorageError> {
        self.rt.block_on(async {
            match self.container.create(None).await {
                Ok(_) => Ok(()),
                Err(e) if errors::code(&e).as_deref() == Some("ContainerAlreadyExists") => Ok(()),
                Err(e) => Err(self.err("", e)),
            }
        })
    }

    fn put_if_absent(&self, name: &str, data: &[u8]) -> Result<PutOutcome, StorageError> {
        let partition = if data.len() <= self.tuning.single_put_max {
            data.len().max(1)
        } else {
            self.tuning.block_size
        };
        let opts = BlockBlobClientUploadOptions {
            if_none_match: Some(Etag::from("*")),
            blob_content_md5: Some(Md5::digest(data).to_vec()),
            parallel: NonZero::new(self.tuning.parallel),
            partition_size: NonZero::new(partition as u64),
            tier: self.tier(name),
            ..Default::default()
        };
        let content = azure_core::Bytes::copy_from_slice(data);
        self.rt.block_on(async {
            match self.blob(name).upload(content.into(), Some(opts)).await {
                Ok(_) => Ok(PutOutcome::Created),
                Err(e) if errors::already_exists(&e) => Ok(PutOutcome::AlreadyExists),
                Err(e) => Err(self.err(name, e)),
            }
        })
    }

    fn get(&self, name: &str) -> Result<Vec<u8>, StorageError> {
        self.rt.block_on(async {
            let (data, md5) = self.download(name, None).await?;
            if let Some(want) = md5
                && Md5::digest(&data).as_slice() != want.as_slice()
            {
                return Err(StorageError::Corrupt(name.to_string()));
            }
            Ok(data)
        })
    }

    fn get_range(&self, name: &str, offset: u64, len: u64) -> Result<Vec<u8>, StorageError> {
        if len == 0 {
            // An empty range cannot be requested; check the object instead.
            let size = self.rt.block_on(async {
                let p = self
                    .blob(name)
                    .get_properties(None)
                    .await
                    .map_err(|e| self.err(name, e))?;
                use azure_storage_blob::models::BlobClientGetPropertiesResultHeaders as _;
                Ok::<_, StorageError>(p.content_length().ok().flatten().unwrap_or(0))
            })?;
            return if offset <= size {
                Ok(Vec::new())
            } else {
                Err(shorter(name))
            };
        }
        let range = HttpRange::new(offset, len);
        let data = self.rt.block_on(self.download(name, Some(range)));
        match data {
            Ok((d, _)) if d.len() as u64 == len => Ok(d),
            Ok(_) => Err(shorter(name)),
            Err(StorageError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                Err(shorter(name))
            }
            Err(e) => Err(e),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StorageError> {
        let full = self.url.blob_name(prefix);
        let strip = if self.url.prefix.is_empty() {
            0
        } else {
            self.url.prefix.len() + 1
        };
        self.rt.block_on(async {
            let opts = BlobContainerClientListBlobsOptions {
                // An empty `prefix=` is signed differently by some services.
                prefix: Some(full).filter(|p| !p.is_empty()),
                maxresults: self.tuning.list_page,
                ..Default::default()
            };
            let mut pages = self
                .container
                .list_blobs(Some(opts))
                .map_err(|e| self.err(prefix, e))?
                .into_pages();
            let mut out = Vec::new();
            while let Some(page) = pages.try_next().await.map_err(|e| self.err(prefix, e))? {
                let page = page.into_model().map_err(|e| self.err(prefix, e))?;
                for item in page.blob_items {
                    let Some(name) = item.name else { continue };
                    let size = item.properties.and_then(|p| p.content_length).unwrap_or(0);
                    out.push(ObjectInfo {
                        name: name[strip.min(name.len())..].to_string(),
                        size,
                    });
                }
            }
            Ok(out)
        })
    }

    fn delete(&self, name: &str) -> Result<(), StorageError> {
        self.rt.block_on(async {
            match self.blob(name).delete(None).await {
                Ok(_) => Ok(()),
                Err(e) if errors::code(&e).as_deref() == Some("BlobNotFound") => Ok(()),
                Err(e) => Err(self.err(name, e)),
            }
        })
    }

    fn exists(&self, name: &str) -> Result<bool, StorageError> {
        self.rt.block_on(async {
            match self.blob(name).get_properties(None).await {
                Ok(_) => Ok(true),
                Err(e) => match self.err(name, e) {
                    // No container, no object: `init` asks this first.
                    StorageError::NotFound(_) | StorageError::ContainerMissing(_) => Ok(false),
                    e => Err(e),
                },
            }
        })
    }

    fn lock(&self, name: &str, shared: bool) -> Result<Box<dyn Send>, StorageError> {
        lock::take(self, name, shared)
    }

    fn rehydrate(&self, name: &str, high_priority: bool) -> Result<TierState, StorageError> {
        rehydrate::rehydrate(self, name, high_priority)
    }
}
