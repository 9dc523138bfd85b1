//! Small pipeline policies: a transfer checksum on every upload, and a
//! request counter for the benchmark.

use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{Body, Context, Method, Request};
use base64::Engine as _;
use md5::{Digest, Md5};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Adds `Content-MD5` to every PUT that carries bytes and has none, so the
/// service rejects a block or blob damaged in transit (the SDK's managed
/// upload leaves it out). Runs before signing, which covers the header.
#[derive(Debug, Default)]
pub struct ContentMd5Policy;

#[async_trait::async_trait]
impl Policy for ContentMd5Policy {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        if request.method() == Method::Put
            && request
                .headers()
                .get_optional_str(&azure_core::http::headers::HeaderName::from_static(
                    "content-md5",
                ))
                .is_none()
            && let Body::Bytes(b) = request.body()
            && !b.is_empty()
        {
            let sum = base64::engine::general_purpose::STANDARD.encode(Md5::digest(b));
            request.insert_header("content-md5", sum);
        }
        next[0].send(ctx, request, &next[1..]).await
    }
}

/// Counts every attempt that goes out, retries included.
#[derive(Debug, Default)]
pub struct CountPolicy {
    pub requests: AtomicU64,
}

#[async_trait::async_trait]
impl Policy for CountPolicy {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        self.requests.fetch_add(1, Ordering::Relaxed);
        next[0].send(ctx, request, &next[1..]).await
    }
}
