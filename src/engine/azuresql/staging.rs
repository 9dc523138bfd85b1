//! The staging container: where the export service writes a package for
//! sqlvault to read, and where a restore puts one for the import service.
//! The service is handed the container's key or SAS (it cannot use our
//! Entra ID token); neither is ever shown.

use crate::error::{Error, Kind, Result};
use crate::storage::azure::{AzureUrl, Credential, Service, resolve_for};
use crate::storage::{AzureStorage, Storage};

pub struct StagingContainer {
    /// As given, `azure://ACCOUNT/CONTAINER[/prefix][?endpoint=…]`.
    location: String,
    url: AzureUrl,
    storage: AzureStorage,
    /// The account's blob endpoint, ending in `/`.
    endpoint: url::Url,
    pub key_type: &'static str,
    pub key: String,
}

impl std::fmt::Debug for StagingContainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StagingContainer")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl StagingContainer {
    /// Open (and create when missing) the container at `location`.
    /// With `identity` (a managed identity's resource id), an Entra ID
    /// credential for the container is fine: the services use the identity.
    pub fn open(location: &str, identity: Option<&str>) -> Result<StagingContainer> {
        let url = AzureUrl::parse(location).map_err(|e| {
            Error::usage(format!("bad --staging-container: {e}"))
                .with_hint("give azure://ACCOUNT/CONTAINER[/prefix]")
        })?;
        let env = |k: &str| std::env::var(k).ok();
        let resolved = resolve_for(Service::Blob, &url.account, url.endpoint.as_ref(), &env)
            .map_err(|e| Error::usage(format!("staging container `{url}`: {e}")))?;
        let (key_type, key) = match &resolved.credential {
            Credential::SharedKey { key, .. } => ("StorageAccessKey", key.clone()),
            Credential::Sas(sas) => ("SharedAccessKey", format!("?{sas}")),
            Credential::Entra(_) if identity.is_some() => {
                ("ManagedIdentity", identity.unwrap_or_default().to_string())
            }
            Credential::Entra(_) => {
                return Err(Error::new(
                    Kind::Auth,
                    format!("the export service needs a key or SAS for staging container `{url}`"),
                )
                .with_hint("set AZURE_STORAGE_KEY (or AZURE_STORAGE_SAS_TOKEN, or AZURE_STORAGE_CONNECTION_STRING) for the staging account, or give --sql-managed-identity with an identity that may write to it"));
            }
        };
        let storage = AzureStorage::open(location)?;
        storage.create()?;
        Ok(StagingContainer {
            location: location.to_string(),
            url,
            storage,
            endpoint: resolved.endpoint,
            key_type,
            key,
        })
    }

    /// The blob's https URL, as the export and import services take it.
    pub fn blob_uri(&self, name: &str) -> Result<String> {
        let path = format!("{}/{}", self.url.container, self.url.blob_name(name));
        self.endpoint
            .join(&path)
            .map(|u| u.to_string())
            .map_err(|e| Error::usage(format!("staging blob `{path}`: {e}")))
    }

    /// The blob as sqlvault names it: `azure://ACCOUNT/CONTAINER/…/NAME`.
    pub fn blob_url(&self, name: &str) -> String {
        match self.location.split_once('?') {
            Some((path, query)) => format!("{}/{name}?{query}", path.trim_end_matches('/')),
            None => format!("{}/{name}", self.location.trim_end_matches('/')),
        }
    }

    /// The blob's name with its container, for messages and `az` commands.
    pub fn shown(&self, name: &str) -> String {
        format!("{}/{}", self.url.container, self.url.blob_name(name))
    }

    pub fn account(&self) -> &str {
        &self.url.account
    }

    pub fn container(&self) -> &str {
        &self.url.container
    }

    pub fn full_name(&self, name: &str) -> String {
        self.url.blob_name(name)
    }

    pub fn exists(&self, name: &str) -> Result<bool> {
        Ok(self.storage.exists(name)?)
    }

    pub fn remove(&self, name: &str) -> Result<()> {
        match self.storage.delete(name) {
            Ok(()) | Err(crate::storage::StorageError::NotFound(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Upload the file at `path` as blob `name`, in blocks.
    pub fn upload(&self, name: &str, path: &std::path::Path) -> Result<u64> {
        let mut f = std::fs::File::open(path)
            .map_err(|e| crate::error::local_io_error("reading", path, e))?;
        Ok(self.storage.upload_from(name, &mut f)?)
    }
}
