//! Where the credentials and the endpoint come from, in the order Azure CLI
//! and SDK users expect: a connection string, a SAS token, an account key,
//! then Microsoft Entra ID. Nothing here is ever printed.

use super::url::AzureUrl;
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_identity::{
    ClientSecretCredential, DeveloperToolsCredential, ManagedIdentityCredential,
    WorkloadIdentityCredential,
};
use std::sync::Arc;

/// Azurite's documented, public development account key.
const DEV_ACCOUNT: &str = "devstoreaccount1";
const DEV_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

pub enum Credential {
    /// Account name (as signed) and base64 key.
    SharedKey {
        account: String,
        key: String,
    },
    /// A SAS token's query string, without the leading `?`.
    Sas(String),
    Entra(Arc<dyn TokenCredential>),
}

pub struct Resolved {
    /// The account's blob endpoint, e.g. `https://acct.blob.core.windows.net/`.
    pub endpoint: url::Url,
    pub credential: Credential,
    /// Where the credential came from, for error hints.
    pub source: &'static str,
}

impl Resolved {
    /// Strings that must not appear in any message.
    pub fn secrets(&self) -> Vec<String> {
        match &self.credential {
            Credential::SharedKey { key, .. } => vec![key.clone()],
            Credential::Sas(sas) => vec![sas.clone()],
            Credential::Entra(_) => vec![],
        }
    }
}

fn parse_connection_string(s: &str) -> Vec<(String, String)> {
    s.split(';')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect()
}

fn endpoint_url(s: &str, what: &str) -> Result<url::Url, String> {
    let mut u = url::Url::parse(s)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| format!("{what} is not an http(s) URL"))?;
    u.set_query(None);
    if !u.path().ends_with('/') {
        let p = format!("{}/", u.path());
        u.set_path(&p);
    }
    Ok(u)
}

/// The storage services we talk to; they share accounts and credentials
/// but not endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Blob,
    Queue,
}

impl Service {
    /// As in host names (`ACCOUNT.blob.core.windows.net`).
    fn name(self) -> &'static str {
        match self {
            Service::Blob => "blob",
            Service::Queue => "queue",
        }
    }

    /// The port Azurite serves it on by default.
    fn dev_port(self) -> u16 {
        match self {
            Service::Blob => 10000,
            Service::Queue => 10001,
        }
    }

    /// `AZURE_STORAGE_BLOB_ENDPOINT` and its queue sibling.
    fn endpoint_var(self) -> &'static str {
        match self {
            Service::Blob => "AZURE_STORAGE_BLOB_ENDPOINT",
            Service::Queue => "AZURE_STORAGE_QUEUE_ENDPOINT",
        }
    }

    /// The connection string key, lowercased (`BlobEndpoint`).
    fn connection_key(self) -> &'static str {
        match self {
            Service::Blob => "blobendpoint",
            Service::Queue => "queueendpoint",
        }
    }
}

/// Resolve credentials for `url` from the environment `env`.
pub fn resolve(url: &AzureUrl, env: &dyn Fn(&str) -> Option<String>) -> Result<Resolved, String> {
    resolve_for(Service::Blob, &url.account, url.endpoint.as_ref(), env)
}

/// Resolve the endpoint of `service` of `account` and the credentials,
/// from the environment `env`; `explicit` is an endpoint the URL names.
pub fn resolve_for(
    service: Service,
    account: &str,
    explicit: Option<&url::Url>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Resolved, String> {
    let env = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let var = service.endpoint_var();
    let default_endpoint = || -> Result<url::Url, String> {
        if let Some(e) = explicit {
            return endpoint_url(e.as_str(), "the URL's endpoint");
        }
        if let Some(e) = env(var) {
            return endpoint_url(&e, var);
        }
        endpoint_url(
            &format!("https://{account}.{}.core.windows.net/", service.name()),
            "the account",
        )
    };
    if let Some(cs) = env("AZURE_STORAGE_CONNECTION_STRING") {
        let kv = parse_connection_string(&cs);
        let get = |k: &str| kv.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let dev = get("usedevelopmentstorage").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let account = get("accountname").unwrap_or_else(|| {
            if dev {
                DEV_ACCOUNT.to_string()
            } else {
                account.to_string()
            }
        });
        let endpoint = if let Some(e) = explicit {
            endpoint_url(e.as_str(), "the URL's endpoint")?
        } else if let Some(e) = get(service.connection_key()) {
            endpoint_url(&e, "an endpoint in AZURE_STORAGE_CONNECTION_STRING")?
        } else if dev {
            let proxy =
                get("developmentstorageproxyuri").unwrap_or_else(|| "http://127.0.0.1".to_string());
            endpoint_url(
                &format!(
                    "{}:{}/{DEV_ACCOUNT}",
                    proxy.trim_end_matches('/'),
                    service.dev_port()
                ),
                "DevelopmentStorageProxyUri",
            )?
        } else if let Some(e) = env(var) {
            endpoint_url(&e, var)?
        } else {
            let proto = get("defaultendpointsprotocol").unwrap_or_else(|| "https".into());
            let suffix = get("endpointsuffix").unwrap_or_else(|| "core.windows.net".into());
            endpoint_url(
                &format!("{proto}://{account}.{}.{suffix}/", service.name()),
                "the connection string's endpoint",
            )?
        };
        let credential = if let Some(key) = get("accountkey") {
            Credential::SharedKey { account, key }
        } else if let Some(sas) = get("sharedaccesssignature") {
            Credential::Sas(sas.trim_start_matches('?').to_string())
        } else if dev {
            Credential::SharedKey {
                account,
                key: DEV_KEY.to_string(),
            }
        } else {
            return Err(
                "AZURE_STORAGE_CONNECTION_STRING has neither AccountKey nor SharedAccessSignature"
                    .into(),
            );
        };
        return Ok(Resolved {
            endpoint,
            credential,
            source: "AZURE_STORAGE_CONNECTION_STRING",
        });
    }
    if let Some(sas) = env("AZURE_STORAGE_SAS_TOKEN") {
        return Ok(Resolved {
            endpoint: default_endpoint()?,
            credential: Credential::Sas(sas.trim().trim_start_matches('?').to_string()),
            source: "AZURE_STORAGE_SAS_TOKEN",
        });
    }
    if let Some(key) = env("AZURE_STORAGE_KEY") {
        let account = env("AZURE_STORAGE_ACCOUNT").unwrap_or_else(|| account.to_string());
        return Ok(Resolved {
            endpoint: default_endpoint()?,
            credential: Credential::SharedKey { account, key },
            source: "AZURE_STORAGE_KEY",
        });
    }
    Ok(Resolved {
        endpoint: default_endpoint()?,
        credential: Credential::Entra(entra(&env)?),
        source: "Microsoft Entra ID",
    })
}

/// The Entra ID credential of the environment `env`, for other Azure
/// services (Resource Manager) than storage.
pub fn entra_credential(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Arc<dyn TokenCredential>, String> {
    entra(env)
}

/// The Entra ID credential the environment points to: a service principal
/// with a secret, workload identity, an explicit managed identity, or else
/// the developer tools (Azure CLI, azd) and then the machine's managed identity.
fn entra(env: &dyn Fn(&str) -> Option<String>) -> Result<Arc<dyn TokenCredential>, String> {
    let fail = |what: &str, e: azure_core::Error| format!("{what}: {}", e.kind());
    if let (Some(tenant), Some(client), Some(secret)) = (
        env("AZURE_TENANT_ID"),
        env("AZURE_CLIENT_ID"),
        env("AZURE_CLIENT_SECRET"),
    ) {
        return ClientSecretCredential::new(&tenant, client, secret.into(), None)
            .map(|c| c as Arc<dyn TokenCredential>)
            .map_err(|e| fail("AZURE_CLIENT_SECRET credential", e));
    }
    if env("AZURE_FEDERATED_TOKEN_FILE").is_some() {
        return WorkloadIdentityCredential::new(None)
            .map(|c| c as Arc<dyn TokenCredential>)
            .map_err(|e| fail("workload identity", e));
    }
    let managed = ManagedIdentityCredential::new(None).map_err(|e| fail("managed identity", e))?;
    if env("IDENTITY_ENDPOINT").is_some() || env("MSI_ENDPOINT").is_some() {
        return Ok(managed);
    }
    let tools = DeveloperToolsCredential::new(None).map_err(|e| fail("Azure CLI", e))?;
    Ok(Arc::new(Chain(vec![tools, managed])))
}

/// The first credential of the list that yields a token.
#[derive(Debug)]
struct Chain(Vec<Arc<dyn TokenCredential>>);

#[async_trait::async_trait]
impl TokenCredential for Chain {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let mut last = None;
        for c in &self.0 {
            match c.get_token(scopes, options.clone()).await {
                Ok(t) => return Ok(t),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("the chain is not empty"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    fn url(s: &str) -> AzureUrl {
        AzureUrl::parse(s).unwrap()
    }

    #[test]
    fn development_storage_connection_string() {
        let r = resolve(
            &url("azure://devstoreaccount1/cont1"),
            &with(&[(
                "AZURE_STORAGE_CONNECTION_STRING",
                "UseDevelopmentStorage=true",
            )]),
        )
        .unwrap();
        assert_eq!(
            r.endpoint.as_str(),
            "http://127.0.0.1:10000/devstoreaccount1/"
        );
        assert!(
            matches!(r.credential, Credential::SharedKey { ref account, .. } if account == DEV_ACCOUNT)
        );
    }

    #[test]
    fn explicit_blob_endpoint_and_key() {
        let r = resolve(
            &url("azure://acct/cont1"),
            &with(&[(
                "AZURE_STORAGE_CONNECTION_STRING",
                "DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=a2V5;BlobEndpoint=http://10.0.0.1:9999/acct;",
            )]),
        )
        .unwrap();
        assert_eq!(r.endpoint.as_str(), "http://10.0.0.1:9999/acct/");
        assert_eq!(r.secrets(), vec!["a2V5".to_string()]);
    }

    #[test]
    fn order_sas_then_key_and_endpoint_sources() {
        let r = resolve(
            &url("azure://acct/cont1?endpoint=https://private.example/acct"),
            &with(&[
                ("AZURE_STORAGE_SAS_TOKEN", "?sv=1&sig=abc"),
                ("AZURE_STORAGE_KEY", "a2V5"),
            ]),
        )
        .unwrap();
        assert!(matches!(r.credential, Credential::Sas(ref s) if s == "sv=1&sig=abc"));
        assert_eq!(r.endpoint.as_str(), "https://private.example/acct/");
        let r = resolve(
            &url("azure://acct/cont1"),
            &with(&[("AZURE_STORAGE_KEY", "a2V5")]),
        )
        .unwrap();
        assert!(matches!(r.credential, Credential::SharedKey { .. }));
        assert_eq!(r.endpoint.as_str(), "https://acct.blob.core.windows.net/");
        let r = resolve(
            &url("azure://acct/cont1"),
            &with(&[
                ("AZURE_STORAGE_KEY", "a2V5"),
                (
                    "AZURE_STORAGE_BLOB_ENDPOINT",
                    "https://acct.blob.core.chinacloudapi.cn",
                ),
            ]),
        )
        .unwrap();
        assert_eq!(
            r.endpoint.as_str(),
            "https://acct.blob.core.chinacloudapi.cn/"
        );
    }
}
