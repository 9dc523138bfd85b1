//! Opening the repositories a policy names, with the key source it names.

use crate::error::{Error, Kind, Result};
use crate::policy::file::RepositorySpec;
use crate::repo::{Repository, Secret};
use std::sync::Arc;

/// The password or key a repository section names (never printed).
pub fn secret(spec: &RepositorySpec) -> Result<Secret> {
    let read = |p: &std::path::Path| {
        std::fs::read(p).map_err(|e| {
            Error::new(
                Kind::Auth,
                format!("cannot read key `{}`: {}", p.display(), e.kind()),
            )
            .with_hint("check key-file / password-file in the policy")
        })
    };
    let bytes = if let Some(p) = &spec.key_file {
        let mut b = read(p)?;
        while b.last().is_some_and(|c| c.is_ascii_whitespace()) {
            b.pop();
        }
        b
    } else if let Some(p) = &spec.password_file {
        let b = read(p)?;
        let line = b.split(|&c| c == b'\n').next().unwrap_or(&[]);
        line.strip_suffix(b"\r").unwrap_or(line).to_vec()
    } else if let Some(var) = &spec.password_env {
        std::env::var_os(var)
            .ok_or_else(|| {
                Error::new(
                    Kind::Auth,
                    format!("environment variable `{var}` (password-env) is not set"),
                )
                .with_hint("set it in the environment of the scheduled run")
            })?
            .into_encoded_bytes()
    } else if let Some(p) = &spec.password {
        p.as_bytes().to_vec()
    } else {
        return Err(Error::new(
            Kind::Auth,
            format!("the policy gives no key for `{}`", spec.path.display()),
        )
        .with_hint("add key-file, password-file or password-env to the repository section"));
    };
    if bytes.is_empty() {
        return Err(Error::new(Kind::Auth, "the repository password is empty"));
    }
    Ok(if spec.key_file.is_some() {
        Secret::from_key_file(bytes)
    } else {
        Secret::new(bytes)
    })
}

pub fn open(spec: &RepositorySpec) -> Result<Arc<Repository>> {
    let storage = crate::storage::open_location(&spec.path, spec.tier.as_deref())?;
    Ok(Arc::new(Repository::open(storage, || secret(spec))?))
}

/// Which of the policy's repositories holds a restore point: the primary,
/// or else the archive (where `archive` moved the older ones).
pub fn holding(
    spec: &crate::policy::file::PolicyFile,
    point: &str,
    database: Option<&str>,
) -> Result<Arc<Repository>> {
    let primary = open(&spec.repository)?;
    let first = match super::latest::resolve(&primary, point, database) {
        Ok(_) => return Ok(primary),
        Err(e) => e,
    };
    // Only "no such point" is worth a look in the archive.
    if first.kind != Kind::Usage {
        return Err(first);
    }
    let Some(archive) = &spec.archive else {
        return Err(first);
    };
    let archive = open(&archive.repository())?;
    match super::latest::resolve(&archive, point, database) {
        Ok(_) => Ok(archive),
        Err(e) if e.kind == Kind::Usage => Err(first),
        Err(e) => Err(e),
    }
}
