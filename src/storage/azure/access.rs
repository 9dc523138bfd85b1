//! From resolved credentials to what an SDK client is built with: the
//! signing policy for an account key, the SAS query, or an Entra ID token.
//! Shared by the Blob backend and the job queue.

use super::auth::{self, Credential, Service};
use super::sign;
use azure_core::credentials::TokenCredential;
use azure_core::http::policies::Policy;
use std::sync::Arc;

/// How requests to one service of one account are authorised.
pub struct Access {
    /// The service endpoint, e.g. `https://acct.queue.core.windows.net/`.
    pub endpoint: url::Url,
    /// Per-try policies: signing with an account key.
    pub per_try: Vec<Arc<dyn Policy>>,
    /// A SAS token's query, to put on every resource URL.
    pub sas: Option<String>,
    pub token: Option<Arc<dyn TokenCredential>>,
    /// Strings that must not appear in any message.
    pub secrets: Vec<String>,
    /// Where the credential came from, for hints.
    pub source: &'static str,
}

impl Access {
    /// `endpoint` joined with `name` (a container or queue), with the SAS.
    pub fn resource_url(&self, name: &str) -> Result<url::Url, String> {
        let mut u = self.endpoint.clone();
        u.path_segments_mut()
            .map_err(|_| format!("{}: bad endpoint", self.endpoint))?
            .pop_if_empty()
            .push(name);
        if let Some(sas) = &self.sas {
            u.set_query(Some(sas));
        }
        Ok(u)
    }
}

/// Resolve the credentials for `service` of `account` from `env` (see
/// [`auth::resolve_for`]) and turn them into client settings. `what` names
/// the resource in errors.
pub fn resolve(
    service: Service,
    account: &str,
    explicit: Option<&url::Url>,
    env: &dyn Fn(&str) -> Option<String>,
    what: &str,
) -> Result<Access, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let resolved = auth::resolve_for(service, account, explicit, env)?;
    from_resolved(resolved, what)
}

pub fn from_resolved(resolved: auth::Resolved, what: &str) -> Result<Access, String> {
    let mut per_try: Vec<Arc<dyn Policy>> = Vec::new();
    let mut sas = None;
    let mut token = None;
    match &resolved.credential {
        Credential::SharedKey { account, key } => {
            let p = sign::SharedKeyPolicy::new(account, key).ok_or_else(|| {
                format!(
                    "the account key from {} is not valid base64",
                    resolved.source
                )
            })?;
            per_try.push(Arc::new(p));
        }
        Credential::Sas(s) => sas = Some(s.clone()),
        Credential::Entra(c) => {
            if resolved.endpoint.scheme() != "https" {
                return Err(format!(
                    "{what}: no AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_SAS_TOKEN or AZURE_STORAGE_KEY is set, and Microsoft Entra ID needs an https endpoint"
                ));
            }
            token = Some(c.clone());
        }
    }
    Ok(Access {
        secrets: resolved.secrets(),
        endpoint: resolved.endpoint,
        per_try,
        sas,
        token,
        source: resolved.source,
    })
}
