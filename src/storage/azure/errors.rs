//! Turning SDK errors into [`StorageError`]s written for users, with every
//! secret taken out of the text.

use super::AzureStorage;
use crate::storage::StorageError;
use azure_core::error::ErrorKind;

/// The service's error code (`BlobNotFound`, …), from the body or the
/// `x-ms-error-code` header.
pub fn code(e: &azure_core::Error) -> Option<String> {
    match e.kind() {
        ErrorKind::HttpResponse { error_code, .. } => error_code.clone(),
        _ => None,
    }
}

fn status(e: &azure_core::Error) -> Option<u16> {
    e.http_status().map(u16::from)
}

/// A conditional create found the blob there already.
pub fn already_exists(e: &azure_core::Error) -> bool {
    matches!(status(e), Some(409) | Some(412))
        && matches!(
            code(e).as_deref(),
            Some("BlobAlreadyExists") | Some("ConditionNotMet") | None
        )
}

pub fn classify(s: &AzureStorage, name: &str, e: azure_core::Error) -> StorageError {
    let code = code(&e);
    let what = || {
        if name.is_empty() {
            s.url.to_string()
        } else {
            name.to_string()
        }
    };
    if matches!(e.kind(), ErrorKind::Credential) {
        return StorageError::Auth {
            location: s.url.to_string(),
            detail: format!(
                "no Microsoft Entra ID token ({})",
                redact(&root_cause(&e), &s.secrets)
            ),
        };
    }
    match (status(&e), code.as_deref()) {
        (_, Some("ContainerNotFound")) => StorageError::ContainerMissing(s.url.to_string()),
        (Some(404), _) => StorageError::NotFound(name.to_string()),
        (_, Some("BlobArchived")) => StorageError::Archived(name.to_string()),
        (Some(416), _) | (_, Some("InvalidRange")) => super::shorter(name),
        (Some(401 | 403), c) => StorageError::Auth {
            location: s.url.to_string(),
            detail: format!(
                "{} (credentials from {})",
                c.unwrap_or("access denied"),
                s.credential_source
            ),
        },
        (Some(st), c) => StorageError::Remote {
            name: what(),
            detail: format!("HTTP {st} {}", c.unwrap_or("")).trim().to_string(),
        },
        (None, _) => StorageError::Remote {
            name: what(),
            detail: format!(
                "cannot reach the storage service ({})",
                redact(&root_cause(&e), &s.secrets)
            ),
        },
    }
}

/// The innermost cause ("Connection refused", "dns error"), which is what
/// the user can act on; the layers above it repeat the request's URL.
fn root_cause(e: &azure_core::Error) -> String {
    let mut text = e.to_string();
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cur {
        text = c.to_string();
        cur = c.source();
    }
    text.replace('\n', " ")
}

/// Drop the query of every URL (where a SAS token sits) and every known
/// secret from `text`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_query = false;
    let mut word_is_url = false;
    let mut word = String::new();
    for ch in text.chars() {
        if ch.is_whitespace() || ch == ')' || ch == '(' {
            in_query = false;
            word_is_url = false;
            word.clear();
            out.push(ch);
            continue;
        }
        word.push(ch);
        if word.contains("://") {
            word_is_url = true;
        }
        if ch == '?' && word_is_url {
            in_query = true;
        }
        if !in_query {
            out.push(ch);
        }
    }
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(s.as_str(), "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_queries_and_secrets() {
        let t = "error sending request for url (http://h:1/a/b?sv=1&sig=SECRET) with key KEYKEY";
        let r = redact(t, &["KEYKEY".to_string()]);
        assert_eq!(
            r,
            "error sending request for url (http://h:1/a/b) with key ***"
        );
        assert!(!r.contains("SECRET"));
    }
}
