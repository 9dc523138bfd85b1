//! Waiting for Resource Manager's long-running operations (a copy, an
//! export, an import, a delete): poll the `Azure-AsyncOperation` status, or
//! else the `Location` result, at the pace `Retry-After` asks for, until it
//! ends or the timeout passes. A signal stops the wait, not the operation.

use super::arm::{Arm, Reply};
use crate::error::{Error, Result};
use crate::progress::Progress;
use std::time::{Duration, Instant};

const DEFAULT_POLL: Duration = Duration::from_secs(5);

/// The pace to poll at: what the service asked, within sane bounds.
fn pace(after: Option<Duration>) -> Duration {
    after
        .unwrap_or(DEFAULT_POLL)
        .clamp(Duration::from_millis(500), Duration::from_secs(60))
}

/// The failure message of an import/export result or an operation status.
fn failure(body: &serde_json::Value) -> Option<String> {
    let props = &body["properties"];
    if props["status"].as_str() == Some("Failed") {
        return Some(
            props["errorMessage"]
                .as_str()
                .unwrap_or("no message")
                .to_string(),
        );
    }
    match body["status"].as_str() {
        Some("Failed") | Some("Canceled") => Some(
            body["error"]["message"]
                .as_str()
                .unwrap_or(body["status"].as_str().unwrap_or("failed"))
                .to_string(),
        ),
        _ => None,
    }
}

/// Wait for the operation `first` started; its final body (`Null` when
/// the service gives none). `what` reads like "export `shop`".
pub fn wait(
    arm: &Arm,
    first: Reply,
    what: &str,
    timeout: Duration,
    progress: &dyn Progress,
) -> Result<serde_json::Value> {
    let failed = |message: String| {
        Error::database(format!("{what} failed: {message}"))
            .with_hint("the message is Azure SQL's; fix what it names and run it again")
    };
    // Without a status URL, only a 202 means "still running".
    if first.async_operation.is_none() && (first.location.is_none() || first.status != 202) {
        return match failure(&first.body) {
            Some(m) => Err(failed(m)),
            None => Ok(first.body),
        };
    }
    let status_url = first
        .async_operation
        .as_deref()
        .map(|u| arm.follow(u))
        .transpose()?;
    let result_url = first
        .location
        .as_deref()
        .map(|u| arm.follow(u))
        .transpose()?;
    let started = Instant::now();
    let mut after = first.retry_after;
    progress.phase(&format!("waiting for Azure SQL: {what}"));
    loop {
        let wait = pace(after);
        if started.elapsed() + wait > timeout {
            return Err(Error::database(format!(
                "{what} did not finish within {} s",
                timeout.as_secs()
            ))
            .with_hint("raise --operation-timeout (exports of large databases take hours); the operation may still be running in Azure"));
        }
        arm.pause(wait)?;
        if let Some(url) = &status_url {
            let r = arm
                .get(url)
                .map_err(|e| e.into_error(&format!("read the status of {what}")))?;
            after = r.retry_after;
            if let Some(m) = failure(&r.body) {
                return Err(failed(m));
            }
            if r.body["status"].as_str() != Some("Succeeded") {
                continue;
            }
            let Some(url) = &result_url else {
                return Ok(serde_json::Value::Null);
            };
            let r = arm
                .get(url)
                .map_err(|e| e.into_error(&format!("read the result of {what}")))?;
            return match failure(&r.body) {
                Some(m) => Err(failed(m)),
                None => Ok(r.body),
            };
        }
        let url = result_url.as_ref().expect("one of the two URLs");
        let r = arm
            .get(url)
            .map_err(|e| e.into_error(&format!("read the result of {what}")))?;
        after = r.retry_after;
        if r.status == 202 {
            continue;
        }
        return match failure(&r.body) {
            Some(m) => Err(failed(m)),
            None => Ok(r.body),
        };
    }
}
