//! The flags of the Azure SQL path shared by `backup` and `restore`.

use clap::Args;
use sqlvault::engine::azuresql::{AzureOptions, DEFAULT_TIMEOUT_SECS, SqlPassword};
use sqlvault::{Error, Result};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct AzureSqlArgs {
    /// Azure SQL: the container the package passes through,
    /// azure://ACCOUNT/CONTAINER[/prefix] (its key or SAS is handed to the
    /// export and import services).
    #[arg(long, value_name = "URL")]
    pub staging_container: Option<String>,
    /// Azure SQL: the SQL login the export and import services connect with.
    #[arg(long, value_name = "LOGIN")]
    pub sql_login: Option<String>,
    /// Azure SQL: the environment variable that holds the login's password.
    #[arg(long, value_name = "VAR", conflicts_with = "sql_password_file")]
    pub sql_password_env: Option<String>,
    /// Azure SQL: a file whose first line is the login's password.
    #[arg(long, value_name = "FILE")]
    pub sql_password_file: Option<PathBuf>,
    /// Azure SQL: instead of a SQL login, the resource id of a
    /// user-assigned managed identity the export and import services
    /// authenticate as (to the database, and to the staging container when
    /// no key or SAS is set for it).
    #[arg(long, value_name = "RESOURCE_ID", conflicts_with_all = ["sql_login", "sql_password_env", "sql_password_file"])]
    pub sql_managed_identity: Option<String>,
    /// Azure SQL: the server's subscription, when the URL gives none
    /// (default: AZURE_SUBSCRIPTION_ID, else every one the identity sees).
    #[arg(long, value_name = "ID")]
    pub subscription: Option<String>,
    /// Azure SQL: the server's resource group, when the URL gives none.
    #[arg(long, value_name = "NAME")]
    pub resource_group: Option<String>,
    /// Azure SQL: seconds one database copy, export or import may take.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT_SECS)]
    pub operation_timeout: u64,
}

impl AzureSqlArgs {
    pub fn options(&self) -> Result<AzureOptions> {
        let password = SqlPassword::from_settings(
            self.sql_password_env.as_ref(),
            self.sql_password_file.as_ref(),
        );
        if self.operation_timeout == 0 {
            return Err(Error::usage(
                "--operation-timeout must be at least 1 second",
            ));
        }
        Ok(AzureOptions {
            staging_container: self.staging_container.clone(),
            login: self.sql_login.clone(),
            password,
            managed_identity: self.sql_managed_identity.clone(),
            operation_timeout: Duration::from_secs(self.operation_timeout),
            subscription: self.subscription.clone(),
            resource_group: self.resource_group.clone(),
        })
    }
}
