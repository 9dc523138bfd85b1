//! Azure SQL Database through BACPAC: a copy of the database on a staging
//! server, exported to a package in a staging blob by Azure Resource
//! Manager, read from there into the repository by the package engine;
//! restores import a package as a new database.

pub mod arm;
mod backup;
mod cleanup;
pub mod discover;
pub mod operation;
pub mod resources;
mod restore;
pub mod staging;
pub mod url;

pub use url::{AzureSqlUrl, is_azuresql_url};

use crate::error::{Error, Kind, Result};
use std::time::Duration;
use zeroize::Zeroizing;

/// What the Azure SQL path needs besides the URL, for backup and restore.
#[derive(Debug, Clone)]
pub struct AzureOptions {
    /// `azure://ACCOUNT/CONTAINER[/prefix]` the export writes to and the
    /// import reads from.
    pub staging_container: Option<String>,
    /// The SQL login the export and import services connect with.
    pub login: Option<String>,
    /// Where that login's password is read from, when it is needed (a
    /// listing of databases does not need it).
    pub password: Option<SqlPassword>,
    /// Instead of a login: the resource id of a user-assigned managed
    /// identity the services authenticate as (to the database, and to the
    /// staging container when no key or SAS is configured for it).
    pub managed_identity: Option<String>,
    /// How long one copy, export or import may take.
    pub operation_timeout: Duration,
    /// Where the server is, when the URL does not say.
    pub subscription: Option<String>,
    pub resource_group: Option<String>,
}

impl Default for AzureOptions {
    fn default() -> Self {
        AzureOptions {
            staging_container: None,
            login: None,
            password: None,
            managed_identity: None,
            operation_timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
            subscription: None,
            resource_group: None,
        }
    }
}

/// How the export and import services authenticate to the database.
pub enum Login {
    Sql {
        login: String,
        password: Zeroizing<String>,
    },
    /// A user-assigned managed identity's resource id.
    Identity(String),
}

/// Where the SQL login's password is: never the password itself, so that
/// options can be cloned, logged and sent to workers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlPassword {
    /// The name of an environment variable.
    Env(String),
    /// A file whose first line is the password.
    File(std::path::PathBuf),
}

impl SqlPassword {
    pub fn read(&self) -> Result<Zeroizing<String>> {
        match self {
            SqlPassword::Env(var) => std::env::var(var)
                .ok()
                .filter(|v| !v.is_empty())
                .map(Zeroizing::new)
                .ok_or_else(|| {
                    Error::new(
                        Kind::Auth,
                        format!("environment variable {var} (the SQL login's password) is not set"),
                    )
                    .with_hint("set it where sqlvault runs, or give the password in a file with sql-password-file")
                }),
            SqlPassword::File(path) => crate::util::password_from_file(path).map_err(|e| {
                Error::new(
                    Kind::Auth,
                    format!(
                        "cannot read the SQL password file `{}`: {}",
                        path.display(),
                        e.kind()
                    ),
                )
                .with_hint("check the path and its permissions")
            }),
        }
    }

    /// The password named by an `…-env` or else a `…-file` setting.
    pub fn from_settings(
        env: Option<&String>,
        file: Option<&std::path::PathBuf>,
    ) -> Option<SqlPassword> {
        match (env, file) {
            (Some(var), _) => Some(SqlPassword::Env(var.clone())),
            (None, Some(file)) => Some(SqlPassword::File(file.clone())),
            (None, None) => None,
        }
    }
}

/// Exports of large databases take hours.
pub const DEFAULT_TIMEOUT_SECS: u64 = 6 * 3600;

impl AzureOptions {
    /// The login and password, or advice on where to give them.
    fn credentials(&self) -> Result<Login> {
        if let Some(id) = &self.managed_identity {
            return Ok(Login::Identity(id.clone()));
        }
        match (&self.login, &self.password) {
            (Some(l), Some(p)) => Ok(Login::Sql {
                login: l.clone(),
                password: p.read()?,
            }),
            _ => Err(Error::usage(
                "the export and import services need the server's SQL login",
            )
            .with_hint("give --sql-login NAME and --sql-password-env VAR (or --sql-password-file FILE), or --sql-managed-identity RESOURCE_ID")),
        }
    }

    /// `url` with the subscription and resource group the options give
    /// where it gives none.
    pub fn locate(&self, url: &AzureSqlUrl) -> AzureSqlUrl {
        let mut u = url.clone();
        u.subscription = u.subscription.or_else(|| self.subscription.clone());
        u.resource_group = u.resource_group.or_else(|| self.resource_group.clone());
        u
    }

    fn container(&self) -> Result<staging::StagingContainer> {
        let location = self.staging_container.as_deref().ok_or_else(|| {
            Error::usage("Azure SQL needs a staging container for the package")
                .with_hint("give --staging-container azure://ACCOUNT/CONTAINER")
        })?;
        staging::StagingContainer::open(location, self.managed_identity.as_deref())
    }
}

/// An Azure SQL database: the source of a backup, or the target of a
/// restore (a new database).
#[derive(Debug, Clone)]
pub struct AzureSql {
    pub url: AzureSqlUrl,
    /// The server the copy is made on (same subscription and resource
    /// group); `None` with `no_staging`.
    pub staging_server: Option<String>,
    /// Export the live database: consistent only if nothing writes.
    pub no_staging: bool,
    pub options: AzureOptions,
}

impl AzureSql {
    pub fn new(url: &str) -> Result<AzureSql> {
        let url = AzureSqlUrl::parse(url)?;
        Ok(AzureSql {
            url,
            staging_server: None,
            no_staging: false,
            options: AzureOptions::default(),
        })
    }

    fn database(&self) -> Result<&str> {
        if self.url.database.is_empty() {
            return Err(
                Error::usage(format!("`{}` names a server, not a database", self.url))
                    .with_hint("add the database: azuresql://SERVER.database.windows.net/DATABASE"),
            );
        }
        Ok(&self.url.database)
    }
}

impl crate::engine::Engine for AzureSql {
    fn name(&self) -> &'static str {
        crate::engine::bacpac::ENGINE
    }

    fn source(&self) -> String {
        self.url.to_string()
    }

    fn backup(
        &self,
        writer: &crate::repo::writer::BackupWriter,
        progress: &dyn crate::progress::Progress,
    ) -> Result<crate::engine::Exported> {
        backup::run(self, writer, progress)
    }

    fn restore(
        &self,
        repo: &crate::repo::Repository,
        index: &crate::repo::index::Index,
        point: &crate::repo::point::RestorePoint,
        opts: &crate::engine::RestoreOptions,
        progress: &dyn crate::progress::Progress,
    ) -> Result<crate::engine::Restored> {
        restore::run(self, repo, index, point, opts, progress)
    }
}
