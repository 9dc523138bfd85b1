//! What a backup or restore leaves in Azure on its way (a staging copy of
//! the database, a package blob) and its removal, also after a failure or
//! a signal. What cannot be removed is named with the command that
//! removes it.

use super::arm::Arm;
use super::resources::{self, Server};
use super::staging::StagingContainer;
use std::time::Duration;

pub struct Leftovers<'a> {
    pub arm: &'a Arm,
    pub container: &'a StagingContainer,
    pub timeout: Duration,
    /// A staging copy: its server and name.
    pub copy: Option<(Server, String)>,
    /// A package blob in the staging container.
    pub blob: Option<String>,
}

impl Leftovers<'_> {
    /// Remove everything; one warning per thing that is left.
    pub fn remove(&mut self) -> Vec<String> {
        self.arm.cleaning_up();
        let mut left = Vec::new();
        if let Some(name) = self.blob.take()
            && let Err(e) = self.container.remove(&name)
        {
            left.push(format!(
                "staging blob `{}` was not removed ({}); remove it with: az storage blob delete --account-name {} --container-name {} --name {}",
                self.container.shown(&name),
                e.message,
                self.container.account(),
                self.container.container(),
                self.container.full_name(&name),
            ));
        }
        if let Some((server, name)) = self.copy.take()
            && let Err(e) = resources::delete(self.arm, &server, &name, self.timeout)
        {
            left.push(format!(
                "staging database `{name}` on server `{}` was not removed ({}); remove it with: az sql db delete --subscription {} --resource-group {} --server {} --name {name} --yes",
                server.name, e.message, server.subscription, server.resource_group, server.name,
            ));
        }
        left
    }
}

/// `e` with what was left behind added to its hint.
pub fn with_leftovers(mut e: crate::error::Error, leftovers: &[String]) -> crate::error::Error {
    if !leftovers.is_empty() {
        let hint = e.hint.take().map(|h| format!("{h}; ")).unwrap_or_default();
        e.hint = Some(format!("{hint}{}", leftovers.join("; ")));
    }
    e
}
