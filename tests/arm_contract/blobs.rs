//! The storage account that exports write to and imports read from: the
//! Azurite named by a connection string, reached through sqlvault's own
//! blob client (the one the rest of the tests trust), one container at a
//! time.

use sqlvault::storage::{AzureStorage, PutOutcome, Storage, StorageError};

pub struct Account {
    connection_string: String,
    name: String,
    key: String,
    /// The blob endpoint without a trailing `/`, e.g.
    /// `http://127.0.0.1:10000/devstoreaccount1`.
    endpoint: String,
}

/// A blob named by a storage URI.
pub struct BlobRef {
    pub container: String,
    pub name: String,
}

impl Account {
    pub fn new(connection_string: &str) -> Account {
        let field = |k: &str| {
            connection_string
                .split(';')
                .filter_map(|p| p.split_once('='))
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.to_string())
                .unwrap_or_else(|| panic!("the connection string has no {k}"))
        };
        Account {
            connection_string: connection_string.to_string(),
            name: field("AccountName"),
            key: field("AccountKey"),
            endpoint: field("BlobEndpoint").trim_end_matches('/').to_string(),
        }
    }

    /// Whether a `StorageAccessKey` is this account's key.
    pub fn key_matches(&self, key: &str) -> bool {
        key == self.key
    }

    /// Check the form of a storage URI when the request comes in: an
    /// http(s) URL naming a container and a blob.
    pub fn check_uri(uri: &str) -> Result<(), String> {
        let u = url::Url::parse(uri).map_err(|e| format!("'{uri}' is not a URL: {e}"))?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(format!("'{uri}' is not an http or https URL"));
        }
        if u.query().is_some() {
            return Err(format!(
                "'{uri}' has a query; the storage key goes in storageKey"
            ));
        }
        let parts = u.path_segments().map(|s| s.count()).unwrap_or(0);
        if parts < 2 {
            return Err(format!("'{uri}' does not name a container and a blob"));
        }
        Ok(())
    }

    /// The container and blob of a URI in this account: under the blob
    /// endpoint, as the service resolves it. Anything else is an account
    /// the service cannot reach (when the operation runs, not before).
    pub fn locate(&self, uri: &str) -> Result<BlobRef, String> {
        let rest = uri
            .strip_prefix(&self.endpoint)
            .and_then(|r| r.strip_prefix('/'))
            .ok_or_else(|| {
                format!(
                    "The storage account of '{uri}' could not be reached: it is not in the account '{}'.",
                    self.name
                )
            })?;
        let (container, name) = rest
            .split_once('/')
            .filter(|(c, n)| !c.is_empty() && !n.is_empty())
            .ok_or_else(|| format!("'{uri}' does not name a container and a blob."))?;
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        Ok(BlobRef {
            container: decode(container),
            name: decode(name),
        })
    }

    fn container(&self, name: &str) -> Result<AzureStorage, String> {
        let cs = self.connection_string.clone();
        AzureStorage::open_with(
            &format!("azure://{}/{name}", self.name),
            &move |k| (k == "AZURE_STORAGE_CONNECTION_STRING").then(|| cs.clone()),
            sqlvault::storage::azure::Tuning {
                retry_seconds: 10,
                ..Default::default()
            },
        )
        .map_err(|e| format!("The storage container '{name}' could not be opened: {e}"))
    }

    /// Write a new blob; an existing one is never overwritten.
    pub fn write(&self, uri: &str, data: &[u8]) -> Result<(), String> {
        let b = self.locate(uri)?;
        let c = self.container(&b.container)?;
        match c.put_if_absent(&b.name, data) {
            Ok(PutOutcome::Created) => Ok(()),
            Ok(PutOutcome::AlreadyExists) => Err(format!(
                "Error encountered during the service operation. The blob '{uri}' already exists; an export never overwrites a blob."
            )),
            Err(StorageError::ContainerMissing(_)) => Err(format!(
                "Error encountered during the service operation. The specified container '{}' does not exist.",
                b.container
            )),
            Err(e) => Err(format!(
                "Error encountered during the service operation. Writing '{uri}' failed: {e}"
            )),
        }
    }

    pub fn read(&self, uri: &str) -> Result<Vec<u8>, String> {
        let b = self.locate(uri)?;
        let c = self.container(&b.container)?;
        c.get(&b.name).map_err(|e| match e {
            StorageError::NotFound(_) | StorageError::ContainerMissing(_) => format!(
                "Error encountered during the service operation. The specified blob '{uri}' does not exist."
            ),
            e => format!("Error encountered during the service operation. Reading '{uri}' failed: {e}"),
        })
    }
}
