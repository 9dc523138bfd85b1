//! Shared Key authorization ("Authorize with Shared Key", Blob service,
//! version 2015-02-21 and later): the SDK authorizes with Entra ID tokens
//! only, and account keys are what Azurite and many scripts use.

use azure_core::http::headers::{HeaderName, HeaderValue, Headers};
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{Context, Request};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;

/// Signs every attempt (the date changes between retries).
#[derive(Clone)]
pub struct SharedKeyPolicy {
    account: String,
    key: Vec<u8>,
}

impl std::fmt::Debug for SharedKeyPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is never shown.
        f.debug_struct("SharedKeyPolicy")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl SharedKeyPolicy {
    /// `key` is the base64 account key as the portal shows it.
    pub fn new(account: &str, key_b64: &str) -> Option<SharedKeyPolicy> {
        let key = B64.decode(key_b64.trim()).ok()?;
        Some(SharedKeyPolicy {
            account: account.to_string(),
            key,
        })
    }

    pub fn signature(&self, string_to_sign: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key size");
        mac.update(string_to_sign.as_bytes());
        B64.encode(mac.finalize().into_bytes())
    }
}

fn header<'a>(h: &'a Headers, name: &'static str) -> &'a str {
    h.get_optional_str(&HeaderName::from_static(name))
        .unwrap_or("")
}

/// The string to sign for a Blob service request.
pub fn string_to_sign(
    account: &str,
    method: &str,
    url: &url::Url,
    headers: &Headers,
    body_len: usize,
) -> String {
    let mut length = header(headers, "content-length").to_string();
    if length.is_empty() && body_len > 0 {
        length = body_len.to_string();
    }
    if length == "0" {
        length.clear();
    }
    let mut s = String::new();
    s.push_str(method);
    s.push('\n');
    for part in [
        header(headers, "content-encoding"),
        header(headers, "content-language"),
        &length,
        header(headers, "content-md5"),
        header(headers, "content-type"),
        "", // Date: x-ms-date is used instead.
        header(headers, "if-modified-since"),
        header(headers, "if-match"),
        header(headers, "if-none-match"),
        header(headers, "if-unmodified-since"),
        header(headers, "range"),
    ] {
        s.push_str(part);
        s.push('\n');
    }
    let mut ms: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                v.as_str().trim().to_string(),
            )
        })
        .filter(|(k, _)| k.starts_with("x-ms-"))
        .collect();
    ms.sort();
    for (k, v) in ms {
        s.push_str(&k);
        s.push(':');
        s.push_str(&v);
        s.push('\n');
    }
    s.push('/');
    s.push_str(account);
    s.push_str(url.path());
    let mut params: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned()))
        .collect();
    params.sort();
    let mut i = 0;
    while i < params.len() {
        let name = params[i].0.clone();
        let mut values = Vec::new();
        while i < params.len() && params[i].0 == name {
            values.push(params[i].1.clone());
            i += 1;
        }
        s.push('\n');
        s.push_str(&name);
        s.push(':');
        s.push_str(&values.join(","));
    }
    s
}

#[async_trait::async_trait]
impl Policy for SharedKeyPolicy {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        let now = time::OffsetDateTime::now_utc();
        let date = now
            .format(&time::format_description::well_known::Rfc2822)
            .map(|d| d.replace("+0000", "GMT"))
            .unwrap_or_default();
        request.insert_header("x-ms-date", date);
        let body_len = request.body().len().unwrap_or(0) as usize;
        let sts = string_to_sign(
            &self.account,
            request.method().as_ref(),
            request.url(),
            request.headers(),
            body_len,
        );
        let auth = format!("SharedKey {}:{}", self.account, self.signature(&sts));
        request.insert_header("authorization", HeaderValue::from(auth));
        next[0].send(ctx, request, &next[1..]).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_sorts_headers_and_query() {
        let mut h = Headers::new();
        h.insert("x-ms-version", "2026-02-06");
        h.insert("x-ms-date", "Sun, 22 Nov 2026 02:00:00 GMT");
        h.insert("if-none-match", "*");
        h.insert("content-type", "application/octet-stream");
        let url = url::Url::parse(
            "http://127.0.0.1:10000/devstoreaccount1/cont/a%20b?restype=container&comp=list&include=metadata&include=deleted",
        )
        .unwrap();
        let s = string_to_sign("devstoreaccount1", "PUT", &url, &h, 5);
        assert_eq!(
            s,
            "PUT\n\n\n5\n\napplication/octet-stream\n\n\n\n*\n\n\n\
             x-ms-date:Sun, 22 Nov 2026 02:00:00 GMT\nx-ms-version:2026-02-06\n\
             /devstoreaccount1/devstoreaccount1/cont/a%20b\ncomp:list\ninclude:deleted,metadata\nrestype:container"
        );
    }

    #[test]
    fn signature_is_hmac_sha256_of_the_string() {
        // HMAC-SHA256 with key "key" of the classic test sentence (RFC 4231 style vector).
        let p = SharedKeyPolicy::new("a", &B64.encode(b"key")).unwrap();
        assert_eq!(
            p.signature("The quick brown fox jumps over the lazy dog"),
            B64.encode(
                hex::decode("f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
                    .unwrap()
            )
        );
        assert!(!format!("{p:?}").contains("key:"));
    }
}
