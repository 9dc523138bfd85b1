//! The Azure SQL resources sqlvault works with, through Resource Manager:
//! finding a logical server, its databases, a database copy, its deletion,
//! and the BACPAC export and import operations.

use super::arm::{Arm, Refused, SQL_API, SUBSCRIPTIONS_API};
use super::operation;
use super::url::AzureSqlUrl;
use crate::error::{Error, Result};
use crate::progress::Progress;
use serde_json::json;
use std::time::Duration;

/// A logical server, located.
#[derive(Debug, Clone)]
pub struct Server {
    pub name: String,
    pub subscription: String,
    pub resource_group: String,
    pub location: String,
}

impl Server {
    pub fn id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Sql/servers/{}",
            self.subscription, self.resource_group, self.name
        )
    }

    pub fn database_id(&self, db: &str) -> String {
        format!("{}/databases/{}", self.id(), encode(db))
    }

    /// Another server of the same subscription and resource group.
    pub fn sibling(&self, arm: &Arm, name: &str) -> Result<Server> {
        let s = Server {
            name: name.to_ascii_lowercase(),
            ..self.clone()
        };
        get_server(arm, &s)
    }
}

/// A database as `discover` and the checks need it.
#[derive(Debug, Clone)]
pub struct Database {
    pub name: String,
    /// The SKU's tier: Basic, Standard, Premium, GeneralPurpose…
    pub edition: String,
    pub service_objective: String,
    pub max_size_bytes: Option<u64>,
    pub status: String,
}

/// What a path segment must escape: all but RFC 3986's unreserved characters.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn encode(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, SEGMENT).to_string()
}

fn database_of(v: &serde_json::Value) -> Database {
    let p = &v["properties"];
    Database {
        name: v["name"].as_str().unwrap_or_default().to_string(),
        edition: v["sku"]["tier"].as_str().unwrap_or_default().to_string(),
        service_objective: p["currentServiceObjectiveName"]
            .as_str()
            .or(v["sku"]["name"].as_str())
            .unwrap_or_default()
            .to_string(),
        max_size_bytes: p["maxSizeBytes"].as_u64(),
        status: p["status"].as_str().unwrap_or_default().to_string(),
    }
}

fn server_of(v: &serde_json::Value) -> Option<Server> {
    let id = v["id"].as_str()?;
    let parts: Vec<&str> = id.split('/').collect();
    let after = |key: &str| {
        parts
            .iter()
            .position(|p| p.eq_ignore_ascii_case(key))
            .and_then(|i| parts.get(i + 1))
            .map(|s| s.to_string())
    };
    Some(Server {
        name: v["name"].as_str()?.to_ascii_lowercase(),
        subscription: after("subscriptions")?,
        resource_group: after("resourceGroups")?,
        location: v["location"].as_str().unwrap_or_default().to_string(),
    })
}

fn get_server(arm: &Arm, s: &Server) -> Result<Server> {
    match arm.get(&arm.url(&s.id(), SQL_API)?) {
        Ok(r) => server_of(&r.body).ok_or_else(|| {
            Error::database(format!(
                "Resource Manager's answer about server `{}` is not one",
                s.name
            ))
        }),
        Err(Refused::Said(r)) if r.status == 404 => Err(Error::database(format!(
            "server `{}` was not found in resource group `{}` of subscription {}",
            s.name, s.resource_group, s.subscription
        ))
        .with_hint(
            "check the server's name and the URL's subscription= and resource-group= options",
        )),
        Err(e) => Err(e.into_error(&format!("read server `{}`", s.name))),
    }
}

/// All pages of a list.
fn list(arm: &Arm, first: url::Url, what: &str) -> Result<Vec<serde_json::Value>> {
    let mut out = Vec::new();
    let mut next = Some(first);
    while let Some(u) = next {
        let r = arm.get(&u).map_err(|e| e.into_error(what))?;
        if let Some(items) = r.body["value"].as_array() {
            out.extend(items.iter().cloned());
        }
        next = r.body["nextLink"]
            .as_str()
            .map(|l| arm.follow(l))
            .transpose()?;
    }
    Ok(out)
}

/// Find the server a URL names: directly when its subscription and
/// resource group are given, else by listing the servers of the
/// subscription (`AZURE_SUBSCRIPTION_ID`, or every one the identity sees).
pub fn locate(arm: &Arm, url: &AzureSqlUrl) -> Result<Server> {
    let subscription = url
        .subscription
        .clone()
        .or_else(|| std::env::var("AZURE_SUBSCRIPTION_ID").ok())
        .filter(|s| !s.trim().is_empty());
    if let (Some(sub), Some(rg)) = (&subscription, &url.resource_group) {
        return get_server(
            arm,
            &Server {
                name: url.server.clone(),
                subscription: sub.clone(),
                resource_group: rg.clone(),
                location: String::new(),
            },
        );
    }
    let subscriptions = match subscription {
        Some(s) => vec![s],
        None => list(
            arm,
            arm.url("/subscriptions", SUBSCRIPTIONS_API)?,
            "list the subscriptions",
        )?
        .iter()
        .filter_map(|s| s["subscriptionId"].as_str().map(str::to_string))
        .collect(),
    };
    for sub in &subscriptions {
        let servers = list(
            arm,
            arm.url(
                &format!("/subscriptions/{sub}/providers/Microsoft.Sql/servers"),
                SQL_API,
            )?,
            &format!("list the SQL servers of subscription {sub}"),
        )?;
        if let Some(s) = servers
            .iter()
            .filter_map(server_of)
            .find(|s| s.name == url.server)
            .filter(|s| {
                url.resource_group
                    .as_ref()
                    .is_none_or(|rg| rg.eq_ignore_ascii_case(&s.resource_group))
            })
        {
            return Ok(s);
        }
    }
    Err(Error::database(format!(
        "server `{}` was not found in {} subscription(s) the identity can see",
        url.server,
        subscriptions.len()
    ))
    .with_hint("check the server's name, or give ?subscription=ID&resource-group=NAME in the URL"))
}

pub fn databases(arm: &Arm, server: &Server) -> Result<Vec<Database>> {
    Ok(list(
        arm,
        arm.url(&format!("{}/databases", server.id()), SQL_API)?,
        &format!("list the databases of server `{}`", server.name),
    )?
    .iter()
    .map(database_of)
    .collect())
}

pub fn database(arm: &Arm, server: &Server, name: &str) -> Result<Option<Database>> {
    match arm.get(&arm.url(&server.database_id(name), SQL_API)?) {
        Ok(r) => Ok(Some(database_of(&r.body))),
        Err(Refused::Said(r)) if r.status == 404 => Ok(None),
        Err(e) => Err(e.into_error(&format!(
            "read database `{name}` of server `{}`",
            server.name
        ))),
    }
}

/// Copy `source` of `from` to `name` on `to` (`createMode = Copy`): a
/// transactionally consistent copy, and wait until it is online.
pub fn copy(
    arm: &Arm,
    from: &Server,
    source: &str,
    to: &Server,
    name: &str,
    timeout: Duration,
    progress: &dyn Progress,
) -> Result<()> {
    let what = format!("copy of `{source}` to `{name}` on server `{}`", to.name);
    let body = json!({
        "location": to.location,
        "properties": {"createMode": "Copy", "sourceDatabaseId": from.database_id(source)},
    });
    let first = arm
        .put(&arm.url(&to.database_id(name), SQL_API)?, &body)
        .map_err(|e| e.into_error(&format!("start the {what}")))?;
    operation::wait(arm, first, &what, timeout, progress).map(|_| ())
}

/// Delete database `name` and wait until it is gone.
pub fn delete(arm: &Arm, server: &Server, name: &str, timeout: Duration) -> Result<()> {
    let what = format!("deletion of `{name}` on server `{}`", server.name);
    let first = match arm.delete(&arm.url(&server.database_id(name), SQL_API)?) {
        Ok(r) => r,
        Err(Refused::Said(r)) if r.status == 404 => return Ok(()),
        Err(e) => return Err(e.into_error(&format!("delete `{name}` on server `{}`", server.name))),
    };
    operation::wait(arm, first, &what, timeout, &crate::progress::NoProgress).map(|_| ())
}

/// Where an export writes, or an import reads, a package, and how the
/// service connects to the database. Never shown.
pub struct Transfer<'a> {
    pub storage_key_type: &'a str,
    pub storage_key: &'a str,
    pub storage_uri: &'a str,
    pub login: &'a super::Login,
}

impl<'a> Transfer<'a> {
    /// Blob `uri` of `container`, with the login.
    pub fn new(
        container: &'a super::staging::StagingContainer,
        uri: &'a str,
        login: &'a super::Login,
    ) -> Transfer<'a> {
        Transfer {
            storage_key_type: container.key_type,
            storage_key: &container.key,
            storage_uri: uri,
            login,
        }
    }

    fn body(&self) -> serde_json::Value {
        let mut body = json!({
            "storageKeyType": self.storage_key_type,
            "storageKey": self.storage_key,
            "storageUri": self.storage_uri,
        });
        match self.login {
            super::Login::Sql { login, password } => {
                body["administratorLogin"] = json!(login);
                body["administratorLoginPassword"] = json!(password.as_str());
                body["authenticationType"] = json!("Sql");
            }
            super::Login::Identity(id) => {
                body["administratorLogin"] = json!(id);
                body["authenticationType"] = json!("ManagedIdentity");
            }
        }
        body
    }
}

/// Export database `name` to a BACPAC blob, and wait for it.
pub fn export(
    arm: &Arm,
    server: &Server,
    name: &str,
    to: &Transfer,
    timeout: Duration,
    progress: &dyn Progress,
) -> Result<()> {
    let what = format!("export of `{name}` on server `{}`", server.name);
    let first = arm
        .post(
            &arm.url(&format!("{}/export", server.database_id(name)), SQL_API)?,
            &to.body(),
        )
        .map_err(|e| e.into_error(&format!("start the {what}")))?;
    operation::wait(arm, first, &what, timeout, progress).map(|_| ())
}

/// Import a BACPAC blob as new database `name`, and wait for it.
pub fn import(
    arm: &Arm,
    server: &Server,
    name: &str,
    from: &Transfer,
    timeout: Duration,
    progress: &dyn Progress,
) -> Result<()> {
    let what = format!("import of `{name}` on server `{}`", server.name);
    let mut body = from.body();
    body["databaseName"] = json!(name);
    let first = arm
        .post(
            &arm.url(&format!("{}/import", server.id()), SQL_API)?,
            &body,
        )
        .map_err(|e| e.into_error(&format!("start the {what}")))?;
    operation::wait(arm, first, &what, timeout, progress).map(|_| ())
}
