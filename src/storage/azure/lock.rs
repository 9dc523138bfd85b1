//! Repository locks made of blob leases, so that every process that can
//! reach the container sees them.
//!
//! A shared holder (a backup) creates `locks/<name>/shared-<random>` and
//! holds a lease on it; an exclusive holder (prune, archive) holds a lease
//! on `locks/<name>/exclusive` and then waits until no shared blob is
//! leased. Leases last a minute and a background thread renews them, so a
//! killed process lets go by itself; its leftover shared blob is deleted by
//! the next exclusive taker. Each side checks for the other *after* making
//! itself visible, so the two can never both go ahead.

use super::AzureStorage;
use crate::storage::{Storage as _, StorageError};
use azure_core::http::Etag;
use azure_storage_blob::BlobClient;
use azure_storage_blob::models::{
    BlobClientAcquireLeaseResultHeaders as _, BlobClientDeleteOptions,
    BlobClientGetPropertiesResultHeaders as _, BlockBlobClientUploadOptions, LeaseState,
};
use std::sync::mpsc;
use std::time::Duration;

enum Acquire {
    Got(String),
    Held,
    Gone,
}

fn acquire(s: &AzureStorage, name: &str) -> Result<Acquire, StorageError> {
    s.rt.block_on(async {
        match s
            .blob(name)
            .acquire_lease(s.tuning.lease_seconds, None)
            .await
        {
            Ok(r) => Ok(Acquire::Got(
                r.lease_id().ok().flatten().unwrap_or_default(),
            )),
            Err(e) => match super::errors::code(&e).as_deref() {
                Some("LeaseAlreadyPresent") => Ok(Acquire::Held),
                Some("BlobNotFound") => Ok(Acquire::Gone),
                _ => Err(s.err(name, e)),
            },
        }
    })
}

/// Whether `name` exists and holds a live lease.
fn leased(s: &AzureStorage, name: &str) -> Result<bool, StorageError> {
    s.rt.block_on(async {
        match s.blob(name).get_properties(None).await {
            Ok(p) => Ok(matches!(
                p.lease_state().ok().flatten(),
                Some(LeaseState::Leased | LeaseState::Breaking)
            )),
            Err(e) => match s.err(name, e) {
                StorageError::NotFound(_) => Ok(false),
                e => Err(e),
            },
        }
    })
}

/// An empty lock blob (never in the Archive tier: leases need it readable).
fn create_marker(s: &AzureStorage, name: &str) -> Result<(), StorageError> {
    s.rt.block_on(async {
        let opts = BlockBlobClientUploadOptions {
            if_none_match: Some(Etag::from("*")),
            ..Default::default()
        };
        match s
            .blob(name)
            .upload(azure_core::Bytes::new().into(), Some(opts))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if super::errors::already_exists(&e) => Ok(()),
            Err(e) => Err(s.err(name, e)),
        }
    })
}

fn delete_leased(s: &AzureStorage, name: &str, lease: &str) {
    let opts = BlobClientDeleteOptions {
        lease_id: Some(lease.to_string()),
        ..Default::default()
    };
    let _ = s.rt.block_on(s.blob(name).delete(Some(opts)));
}

/// Holds a lease until dropped, renewing it in the background.
struct LeaseGuard {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LeaseGuard {
    fn start(s: &AzureStorage, name: &str, lease: String, delete_blob: bool) -> LeaseGuard {
        let (tx, rx) = mpsc::channel::<()>();
        let blob: BlobClient = s.blob(name);
        let rt = s.rt.handle().clone();
        let every = Duration::from_secs((s.tuning.lease_seconds.max(15) / 3) as u64);
        let thread = std::thread::spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(every) {
                // A failed renewal is retried at the next tick; the lease
                // outlives two missed ones.
                let _ = rt.block_on(blob.renew_lease(lease.clone(), None));
            }
            if delete_blob {
                let opts = BlobClientDeleteOptions {
                    lease_id: Some(lease.clone()),
                    ..Default::default()
                };
                let _ = rt.block_on(blob.delete(Some(opts)));
            } else {
                let _ = rt.block_on(blob.release_lease(lease, None));
            }
        });
        LeaseGuard {
            stop: Some(tx),
            thread: Some(thread),
        }
    }
}

impl Drop for LeaseGuard {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Backoff(Duration);

impl Backoff {
    fn wait(&mut self) {
        std::thread::sleep(self.0);
        self.0 = (self.0 * 2).min(Duration::from_secs(1));
    }
}

pub fn take(s: &AzureStorage, name: &str, shared: bool) -> Result<Box<dyn Send>, StorageError> {
    let dir = format!("locks/{name}");
    let exclusive = format!("{dir}/exclusive");
    let mut backoff = Backoff(Duration::from_millis(100));
    if shared {
        loop {
            if leased(s, &exclusive)? {
                backoff.wait();
                continue;
            }
            let mine = format!("{dir}/shared-{}", hex::encode(rand::random::<[u8; 12]>()));
            create_marker(s, &mine)?;
            let lease = match acquire(s, &mine)? {
                Acquire::Got(l) => l,
                // An exclusive taker removed it as not yet leased: start over.
                Acquire::Held | Acquire::Gone => {
                    backoff.wait();
                    continue;
                }
            };
            if leased(s, &exclusive)? {
                delete_leased(s, &mine, &lease);
                backoff.wait();
                continue;
            }
            return Ok(Box::new(LeaseGuard::start(s, &mine, lease, true)));
        }
    }
    create_marker(s, &exclusive)?;
    let guard = loop {
        match acquire(s, &exclusive)? {
            Acquire::Got(l) => break LeaseGuard::start(s, &exclusive, l, false),
            Acquire::Held => backoff.wait(),
            Acquire::Gone => create_marker(s, &exclusive)?,
        }
    };
    let mut backoff = Backoff(Duration::from_millis(100));
    loop {
        let mut active = false;
        for holder in s.list(&format!("{dir}/shared-"))? {
            match acquire(s, &holder.name)? {
                // Not leased: left by a killed process (or not yet leased,
                // and that taker will start over).
                Acquire::Got(l) => delete_leased(s, &holder.name, &l),
                Acquire::Held => active = true,
                Acquire::Gone => {}
            }
        }
        if !active {
            return Ok(Box::new(guard));
        }
        backoff.wait();
    }
}
