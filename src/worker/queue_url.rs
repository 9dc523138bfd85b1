//! `azure-queue://ACCOUNT/QUEUE?endpoint=URL`: the one string that names a
//! job queue, parsed without touching the network. Credentials come from
//! the environment, as for `azure://` repositories.

use crate::storage::azure::parse_endpoint;
use std::fmt;

pub const SCHEME: &str = "azure-queue://";

pub fn is_queue_url(s: &str) -> bool {
    s.len() >= SCHEME.len() && s[..SCHEME.len()].eq_ignore_ascii_case(SCHEME)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueUrl {
    pub account: String,
    /// The jobs queue; its siblings are `<queue>-poison` and `<queue>-workers`.
    pub queue: String,
    /// The account's queue endpoint, when it is not `https://ACCOUNT.queue.core.windows.net`.
    pub endpoint: Option<url::Url>,
}

/// Azure's rule: 3-63 lowercase letters, digits and single hyphens, not
/// starting or ending with a hyphen. The poison queue adds 7 characters.
fn valid_queue_name(q: &str) -> bool {
    (3..=56).contains(&q.len())
        && q.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !q.starts_with('-')
        && !q.ends_with('-')
        && !q.contains("--")
}

impl QueueUrl {
    pub fn parse(s: &str) -> Result<QueueUrl, String> {
        if !is_queue_url(s) {
            return Err(format!(
                "`{s}` is not a queue URL: write azure-queue://ACCOUNT/QUEUE"
            ));
        }
        let rest = &s[SCHEME.len()..];
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (account, queue) = path.split_once('/').unwrap_or((path, ""));
        let queue = queue.trim_end_matches('/');
        if account.is_empty()
            || !account
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            return Err(format!(
                "`{s}`: the account name must be lowercase letters and digits (azure-queue://ACCOUNT/QUEUE)"
            ));
        }
        if !valid_queue_name(queue) {
            return Err(format!(
                "`{s}`: the queue name must be 3-56 lowercase letters, digits and single hyphens (azure-queue://ACCOUNT/QUEUE)"
            ));
        }
        let mut endpoint = None;
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "endpoint" => endpoint = Some(parse_endpoint(s, &v)?),
                other => {
                    return Err(format!(
                        "`{s}`: unknown option `{other}` (allowed: endpoint); credentials go in the environment, not the URL"
                    ));
                }
            }
        }
        Ok(QueueUrl {
            account: account.to_string(),
            queue: queue.to_string(),
            endpoint,
        })
    }

    /// The queue where jobs that cannot succeed are put aside.
    pub fn poison(&self) -> String {
        format!("{}-poison", self.queue)
    }

    /// The queue where workers announce themselves.
    pub fn workers(&self) -> String {
        format!("{}-workers", self.queue)
    }
}

/// Shown in messages and reports: the endpoint without any query.
impl fmt::Display for QueueUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}/{}", self.account, self.queue)?;
        if let Some(e) = &self.endpoint {
            let mut e = e.clone();
            e.set_query(None);
            write!(f, "?endpoint={e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_account_queue_and_endpoint() {
        let q = QueueUrl::parse(
            "azure-queue://devstoreaccount1/jobs-eastus?endpoint=http://127.0.0.1:10001/devstoreaccount1",
        )
        .unwrap();
        assert_eq!(q.account, "devstoreaccount1");
        assert_eq!(q.queue, "jobs-eastus");
        assert_eq!(q.poison(), "jobs-eastus-poison");
        assert_eq!(
            q.endpoint.unwrap().as_str(),
            "http://127.0.0.1:10001/devstoreaccount1"
        );
    }

    #[test]
    fn refuses_bad_names_and_secrets_in_the_url() {
        for bad in [
            "azure://acct/jobs",
            "azure-queue://acct/",
            "azure-queue://acct/Jobs",
            "azure-queue://acct/a--b",
            "azure-queue://Acct/jobs",
            "azure-queue://acct/jobs?sig=abc",
        ] {
            assert!(QueueUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
