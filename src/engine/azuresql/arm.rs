//! A small Azure Resource Manager client: bearer tokens from the same
//! Entra ID credential chain as the Blob backend, JSON in and out, and the
//! retry rules ARM documents (429 and 5xx honour `Retry-After`). Errors
//! are written as advice; the token never appears in one.

use crate::error::{Error, Kind, Result};
use azure_core::credentials::TokenCredential;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The api-version every `Microsoft.Sql` call is made with.
pub const SQL_API: &str = "2025-01-01";
/// For listing subscriptions.
pub const SUBSCRIPTIONS_API: &str = "2022-12-01";
const PUBLIC_CLOUD: &str = "https://management.azure.com/";

/// An answer from Resource Manager that was not an error.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// `Azure-AsyncOperation`: where a long-running operation's status is.
    pub async_operation: Option<String>,
    /// `Location`: where its result is.
    pub location: Option<String>,
    pub retry_after: Option<Duration>,
    pub body: serde_json::Value,
}

/// A refusal, with ARM's error code and message.
#[derive(Debug)]
pub struct Refusal {
    pub status: u16,
    pub code: String,
    pub message: String,
}

pub struct Arm {
    base: url::Url,
    credential: Arc<dyn TokenCredential>,
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
    token: Mutex<Option<(String, Instant)>>,
    /// Set while removing staging leftovers: a signal must not stop that.
    cleaning: AtomicBool,
    /// How long throttling and server errors are retried in all.
    pub retry_for: Duration,
}

impl std::fmt::Debug for Arm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Arm")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

fn unreachable_error(base: &url::Url, e: &reqwest::Error) -> Error {
    let why = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    Error::new(
        Kind::Storage,
        format!(
            "Resource Manager at {} is unreachable: {why}",
            base.as_str()
        ),
    )
    .with_hint("check the network and the URL's management= option, then run it again")
}

impl Arm {
    /// A client of `management` (the public cloud when `None`).
    pub fn new(management: Option<&url::Url>) -> Result<Arm> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let base = management
            .cloned()
            .unwrap_or_else(|| url::Url::parse(PUBLIC_CLOUD).expect("a valid URL"));
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let credential = crate::storage::azure::entra_credential(&env).map_err(|e| {
            Error::new(Kind::Auth, format!("no Entra ID credential for Resource Manager: {e}"))
                .with_hint("sign in with `az login`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or run where a managed identity is assigned")
        })?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| Error::new(Kind::Storage, format!("no HTTP client: {e}")))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::new(Kind::Storage, format!("no runtime: {e}")))?;
        let retry_for = std::env::var("SQLVAULT_ARM_RETRY_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .map(Duration::from_secs)
            .unwrap_or(Duration::from_secs(300));
        Ok(Arm {
            base,
            credential,
            http,
            rt,
            token: Mutex::new(None),
            cleaning: AtomicBool::new(false),
            retry_for,
        })
    }

    /// `path` (starting with `/`) with `api-version`, on this endpoint.
    pub fn url(&self, path: &str, api: &str) -> Result<url::Url> {
        let mut u = self
            .base
            .join(path.trim_start_matches('/'))
            .map_err(|e| Error::usage(format!("bad Resource Manager path `{path}`: {e}")))?;
        u.query_pairs_mut().append_pair("api-version", api);
        Ok(u)
    }

    /// An absolute URL the service handed back (an operation's status),
    /// accepted only on the same endpoint: the token goes nowhere else.
    pub fn follow(&self, absolute: &str) -> Result<url::Url> {
        let u = url::Url::parse(absolute).map_err(|_| {
            Error::database(format!(
                "Resource Manager gave an operation URL that is not one: `{absolute}`"
            ))
        })?;
        if u.origin() != self.base.origin() {
            return Err(Error::database(format!(
                "Resource Manager pointed to another host ({}) for an operation's status; not following it",
                u.host_str().unwrap_or("?")
            ))
            .with_hint("check the URL's management= option"));
        }
        Ok(u)
    }

    /// From now on signals are ignored: the staging copies are being removed.
    pub fn cleaning_up(&self) {
        self.cleaning.store(true, Ordering::SeqCst);
    }

    /// Fail once a signal arrived, unless cleaning up.
    fn check(&self) -> Result<()> {
        if self.cleaning.load(Ordering::SeqCst) {
            return Ok(());
        }
        crate::interrupt::check()
    }

    /// Sleep `d`, woken by a signal unless cleaning up.
    pub fn pause(&self, d: Duration) -> Result<()> {
        if self.cleaning.load(Ordering::SeqCst) {
            std::thread::sleep(d);
            return Ok(());
        }
        crate::interrupt::sleep(d)
    }

    fn bearer(&self) -> Result<String> {
        let mut held = self.token.lock().expect("token lock");
        if let Some((t, until)) = held.as_ref()
            && Instant::now() < *until
        {
            return Ok(t.clone());
        }
        // The token's audience is Resource Manager's own identifier, which
        // is the endpoint itself for https clouds; anything else (a local
        // endpoint) stands in for the public cloud.
        let scope = if self.base.scheme() == "https" {
            format!("{}.default", self.base.as_str())
        } else {
            format!("{PUBLIC_CLOUD}.default")
        };
        let token = self
            .rt
            .block_on(self.credential.get_token(&[&scope], None))
            .map_err(|e| {
                // The credential's own words say which source it tried.
                let why = e.to_string();
                let why: String = why.lines().next().unwrap_or_default().chars().take(300).collect();
                Error::new(
                    Kind::Auth,
                    format!("no Entra ID token for Resource Manager: {why}"),
                )
                .with_hint("sign in with `az login`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or run where a managed identity is assigned")
            })?;
        let secret = token.token.secret().to_string();
        // Renewed well before it expires; a long export outlives one token.
        *held = Some((secret.clone(), Instant::now() + Duration::from_secs(600)));
        Ok(secret)
    }

    pub fn get(&self, url: &url::Url) -> Result<Reply, Refused> {
        self.call(reqwest::Method::GET, url, None)
    }

    pub fn put(&self, url: &url::Url, body: &serde_json::Value) -> Result<Reply, Refused> {
        self.call(reqwest::Method::PUT, url, Some(body))
    }

    pub fn post(&self, url: &url::Url, body: &serde_json::Value) -> Result<Reply, Refused> {
        self.call(reqwest::Method::POST, url, Some(body))
    }

    pub fn delete(&self, url: &url::Url) -> Result<Reply, Refused> {
        self.call(reqwest::Method::DELETE, url, None)
    }

    /// One request, retried while ARM throttles or fails on its side.
    fn call(
        &self,
        method: reqwest::Method,
        url: &url::Url,
        body: Option<&serde_json::Value>,
    ) -> Result<Reply, Refused> {
        let started = Instant::now();
        let mut backoff = Duration::from_secs(1);
        loop {
            self.check().map_err(Refused::Failed)?;
            let token = self.bearer().map_err(Refused::Failed)?;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token)
                .header("Accept", "application/json");
            if let Some(b) = body {
                req = req
                    .header("Content-Type", "application/json")
                    .body(serde_json::to_vec(b).expect("JSON"));
            }
            let sent = self.rt.block_on(async {
                let resp = req.send().await?;
                let status = resp.status().as_u16();
                let header = |n: &str| {
                    resp.headers()
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string)
                };
                let (async_operation, location, retry_after) = (
                    header("azure-asyncoperation"),
                    header("location"),
                    header("retry-after")
                        .and_then(|s| s.trim().parse::<u64>().ok())
                        .map(Duration::from_secs),
                );
                let bytes = resp.bytes().await?;
                Ok::<_, reqwest::Error>((status, async_operation, location, retry_after, bytes))
            });
            let transient = match sent {
                Err(e) => Err(unreachable_error(&self.base, &e)),
                Ok((status, async_operation, location, retry_after, bytes)) => {
                    let body: serde_json::Value = if bytes.is_empty() {
                        serde_json::Value::Null
                    } else {
                        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)
                    };
                    if status < 400 {
                        return Ok(Reply {
                            status,
                            async_operation,
                            location,
                            retry_after,
                            body,
                        });
                    }
                    let refusal = Refusal {
                        status,
                        code: body["error"]["code"].as_str().unwrap_or("").to_string(),
                        message: body["error"]["message"].as_str().unwrap_or("").to_string(),
                    };
                    if status != 429 && status < 500 {
                        return Err(Refused::Said(refusal));
                    }
                    Ok((refusal, retry_after))
                }
            };
            let wait = match &transient {
                Ok((_, Some(after))) => (*after).min(Duration::from_secs(60)),
                _ => backoff,
            };
            if started.elapsed() + wait > self.retry_for {
                return Err(match transient {
                    Ok((r, _)) => Refused::Failed(
                        Error::new(
                            Kind::Storage,
                            format!(
                                "Resource Manager kept answering {} ({}) for {} s",
                                r.status,
                                if r.code.is_empty() { "no code" } else { &r.code },
                                self.retry_for.as_secs()
                            ),
                        )
                        .with_hint("the service is throttling or failing; run it again later, or raise SQLVAULT_ARM_RETRY_SECONDS"),
                    ),
                    Err(e) => Refused::Failed(e),
                });
            }
            self.pause(wait).map_err(Refused::Failed)?;
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
    }
}

/// Why a call did not succeed: ARM said no (the caller decides what that
/// means), or it could not be asked at all.
#[derive(Debug)]
pub enum Refused {
    Said(Refusal),
    Failed(Error),
}

impl Refused {
    /// A refusal as an error, `what` saying what was being done.
    pub fn into_error(self, what: &str) -> Error {
        match self {
            Refused::Failed(e) => e,
            Refused::Said(r) => r.into_error(what),
        }
    }
}

impl Refusal {
    pub fn into_error(self, what: &str) -> Error {
        let said = if self.message.is_empty() {
            format!("{} {}", self.status, self.code)
        } else {
            self.message.clone()
        };
        match self.status {
            401 => Error::new(
                Kind::Auth,
                format!("Resource Manager refused the token while trying to {what}"),
            )
            .with_hint("sign in again (`az login`) or check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET"),
            403 => {
                let action = said
                    .split("perform action '")
                    .nth(1)
                    .and_then(|s| s.split('\'').next())
                    .map(|a| format!(" ({a})"))
                    .unwrap_or_default();
                Error::new(
                    Kind::Auth,
                    format!("not allowed to {what}{action}"),
                )
                .with_hint("give the identity the \"SQL DB Contributor\" role on the servers (\"SQL Server Contributor\" to create or delete staging copies), or a custom role with that action")
            }
            _ => Error::database(format!("could not {what}: {said}")),
        }
    }
}
