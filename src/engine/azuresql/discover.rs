//! `discover azuresql://SERVER/`: the server's databases with their
//! edition, service objective and size, as Resource Manager lists them.

use super::arm::Arm;
use super::resources;
use super::url::AzureSqlUrl;
use crate::error::Result;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct DiscoveredDatabase {
    pub name: String,
    /// As restore points record it: `azuresql://SERVER/DB`.
    pub source: String,
    pub edition: String,
    pub service_objective: String,
    /// The most the database may grow to (Resource Manager does not list
    /// the space used).
    pub max_size_bytes: Option<u64>,
    pub status: String,
    pub protected: bool,
}

/// The user databases of the server `url` names (`master` left out).
pub fn discover(url: &AzureSqlUrl) -> Result<Vec<DiscoveredDatabase>> {
    let arm = Arm::new(url.management.as_ref())?;
    let server = resources::locate(&arm, url)?;
    let mut rows: Vec<DiscoveredDatabase> = resources::databases(&arm, &server)?
        .into_iter()
        .filter(|d| !d.name.eq_ignore_ascii_case("master"))
        .map(|d| DiscoveredDatabase {
            source: url.with_database(&d.name).to_string(),
            name: d.name,
            edition: d.edition,
            service_objective: d.service_objective,
            max_size_bytes: d.max_size_bytes,
            status: d.status,
            protected: false,
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(rows)
}
