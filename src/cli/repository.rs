//! Finding and opening the repository a command works on, including the
//! embedded default: a local repository in the user's data directory with
//! a generated key beside its config, created on first backup.

use super::{Global, secrets};
use sqlvault::repo::{InitOptions, Repository, Secret};
use sqlvault::storage::Storage;
use sqlvault::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct DefaultPaths {
    pub repo: PathBuf,
    pub key: PathBuf,
}

/// `$XDG_DATA_HOME/sqlvault/repository` and `$XDG_CONFIG_HOME/sqlvault/default.key`.
pub fn default_paths() -> Result<DefaultPaths> {
    let data = dirs::data_dir().ok_or_else(|| {
        Error::usage("cannot find the user's data directory for the default repository")
            .with_hint("give --repo <path>")
    })?;
    let config = dirs::config_dir().unwrap_or_else(|| data.clone());
    Ok(DefaultPaths {
        repo: data.join("sqlvault").join("repository"),
        key: config.join("sqlvault").join("default.key"),
    })
}

/// A directory or an `azure://ACCOUNT/CONTAINER[/prefix]` URL.
pub fn storage_for(path: &Path) -> Result<Arc<dyn Storage>> {
    Ok(sqlvault::storage::open_location(path, None)?)
}

/// Open the repository named by --repo, or the default one.
/// With `create_default`, a missing default repository is created.
pub fn open(g: &Global, create_default: bool, quiet: bool) -> Result<Arc<Repository>> {
    if let Some(path) = &g.repo {
        let repo = Repository::open(storage_for(path)?, || secrets::password(g))?;
        return Ok(Arc::new(repo));
    }
    let d = default_paths()?;
    let storage = storage_for(&d.repo)?;
    let explicit_secret = g.key_file.is_some() || g.password_file.is_some();
    let secret = || {
        if explicit_secret {
            secrets::password(g)
        } else {
            read_default_key(&d.key)
        }
    };
    if storage.exists("config")? {
        return Ok(Arc::new(Repository::open(storage, secret)?));
    }
    if !create_default {
        return Err(Error::usage(format!(
            "no repository given, and the default repository `{}` does not exist yet",
            d.repo.display()
        ))
        .with_hint(
            "give --repo <path>, or run `sqlvault backup <database>` to create the default one",
        ));
    }
    let key = if explicit_secret {
        secrets::new_password(g)?
    } else {
        create_default_key(&d.key)?
    };
    let repo = Repository::init(storage, &InitOptions::default(), Some(&key))?;
    if !quiet {
        errln!(
            "sqlvault: created the default repository at `{}`; its key is in `{}` (keep a copy: without it, the backups cannot be read)",
            d.repo.display(),
            d.key.display()
        );
    }
    Ok(Arc::new(repo))
}

fn read_default_key(path: &Path) -> Result<Secret> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::new(
            sqlvault::Kind::Auth,
            format!(
                "cannot read the default repository's key `{}`: {}",
                path.display(),
                e.kind()
            ),
        )
        .with_hint("restore the key file from your copy, or give --key-file")
    })?;
    Ok(Secret::from_key_file(text.trim().as_bytes().to_vec()))
}

/// Generate a random key and store it with mode 0600, unless one exists.
fn create_default_key(path: &Path) -> Result<Secret> {
    if path.exists() {
        return read_default_key(path);
    }
    let dir = path.parent().expect("key path has a parent");
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::usage(format!("cannot create `{}`: {}", dir.display(), e.kind())))?;
    let mut raw = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut raw);
    let text = hex::encode(raw);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).map_err(|e| {
        Error::usage(format!(
            "cannot create key file `{}`: {}",
            path.display(),
            e.kind()
        ))
    })?;
    f.write_all(format!("{text}\n").as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| {
            Error::usage(format!(
                "cannot write key file `{}`: {}",
                path.display(),
                e.kind()
            ))
        })?;
    Ok(Secret::from_key_file(text.into_bytes()))
}
