//! MariaDB and MySQL: connecting (URLs, option files, TLS) and discovery
//! of a server's databases. Backups of these servers come later; until
//! then, a `mariadb://` or `mysql://` source is refused where a backup or
//! restore would need one.

pub mod connect;
pub mod discover;
pub mod optionfile;
pub mod rows;
pub mod snapshot;
pub mod url;

use crate::error::Result;
use std::path::PathBuf;
pub use url::{ConnSpec, is_mariadb_url};

/// The engine name restore points of these servers will carry.
pub const ENGINE: &str = "mariadb";

/// A MariaDB or MySQL server, and the database a URL names on it.
#[derive(Debug, Clone)]
pub struct MariaDb {
    pub spec: ConnSpec,
}

impl MariaDb {
    /// Parse `url` and complete it from the environment and the option
    /// file (`defaults_file`, else `~/.my.cnf`).
    pub fn from_url(url: &str, defaults_file: Option<PathBuf>) -> Result<MariaDb> {
        let mut spec = ConnSpec::parse(url)?;
        spec.defaults_file = defaults_file;
        let spec = spec.resolve(&|k| std::env::var(k).ok())?;
        Ok(MariaDb { spec })
    }
}
