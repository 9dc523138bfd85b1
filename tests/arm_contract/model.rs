//! What the fake Azure holds: logical servers with their databases (each a
//! BACPAC package in memory), the long-running operations, the faults to
//! inject, and how each resource looks as JSON.

use super::blobs::Account;
use super::http::{Reply, Request};
use super::operations::Operation;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

pub const LOCATION: &str = "westeurope";
pub const API_VERSION: &str = "2025-01-01";

pub struct State {
    /// `http://127.0.0.1:PORT`, the base of the operation URLs handed out.
    pub base: String,
    /// The only token Resource Manager accepts.
    pub token: String,
    /// Who that token belongs to, for authorization errors.
    pub client_id: String,
    pub object_id: String,
    pub tenant_id: String,
    pub account: Account,
    pub servers: Vec<SqlServer>,
    pub operations: HashMap<String, Operation>,
    pub requests: Vec<Request>,
    pub faults: Faults,
}

pub struct SqlServer {
    pub subscription: String,
    pub resource_group: String,
    pub name: String,
    pub admin_login: String,
    pub admin_password: String,
    /// Resource ids of the user-assigned managed identities it may use.
    pub identities: Vec<String>,
    pub databases: Vec<Database>,
}

#[derive(Clone)]
pub struct Database {
    pub name: String,
    pub id: String,
    pub created: String,
    /// The content; `None` for `master`, which cannot be exported.
    pub package: Option<Arc<Vec<u8>>>,
    pub sku: Sku,
}

#[derive(Clone)]
pub struct Sku {
    pub name: String,
    pub tier: String,
    pub capacity: u32,
}

impl Sku {
    pub fn standard_s0() -> Sku {
        Sku {
            name: "S0".into(),
            tier: "Standard".into(),
            capacity: 10,
        }
    }

    /// From an import's `edition` and `serviceObjectiveName`.
    pub fn from_edition(edition: Option<&str>, objective: Option<&str>) -> Sku {
        let name = objective.unwrap_or("S0").to_string();
        let capacity = match name.as_str() {
            "Basic" => 5,
            "S1" => 20,
            "S2" => 50,
            "S3" => 100,
            _ => 10,
        };
        let tier = edition
            .map(str::to_string)
            .unwrap_or_else(|| match name.chars().next() {
                Some('P') => "Premium".into(),
                Some('B') => "Basic".into(),
                _ => "Standard".into(),
            });
        Sku {
            name,
            tier,
            capacity,
        }
    }
}

/// Injected failures and timing; see the knobs on `ArmServer`.
pub struct Faults {
    pub throttle: usize,
    pub unavailable: usize,
    /// (method, path substring) pairs answered 403.
    pub denied: Vec<(String, String)>,
    pub export_failure: Option<String>,
    pub polls_before_done: usize,
    pub stall_all: bool,
    pub stall_transfers: bool,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            throttle: 0,
            unavailable: 0,
            denied: Vec::new(),
            export_failure: None,
            polls_before_done: 2,
            stall_all: false,
            stall_transfers: false,
        }
    }
}

pub fn uuid() -> String {
    let b: [u8; 16] = rand::random();
    let h = hex::encode(b);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("the time formats")
}

impl Database {
    pub fn new(name: &str, package: Option<Arc<Vec<u8>>>, sku: Sku) -> Database {
        Database {
            name: name.to_string(),
            id: uuid(),
            created: now(),
            package,
            sku,
        }
    }

    pub fn master() -> Database {
        Database::new(
            "master",
            None,
            Sku {
                name: "System".into(),
                tier: "System".into(),
                capacity: 0,
            },
        )
    }
}

impl SqlServer {
    pub fn id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Sql/servers/{}",
            self.subscription, self.resource_group, self.name
        )
    }

    pub fn json(&self) -> Value {
        json!({
            "id": self.id(),
            "name": self.name,
            "type": "Microsoft.Sql/servers",
            "location": LOCATION,
            "kind": "v12.0",
            "properties": {
                "administratorLogin": self.admin_login,
                "fullyQualifiedDomainName": format!("{}.database.windows.net", self.name),
                "state": "Ready",
                "version": "12.0",
                "publicNetworkAccess": "Enabled",
            }
        })
    }

    pub fn database(&self, name: &str) -> Option<&Database> {
        self.databases
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(name))
    }

    pub fn database_id(&self, db: &str) -> String {
        format!("{}/databases/{db}", self.id())
    }

    pub fn database_json(&self, d: &Database) -> Value {
        let system = d.sku.tier == "System";
        json!({
            "id": self.database_id(&d.name),
            "name": d.name,
            "type": "Microsoft.Sql/servers/databases",
            "location": LOCATION,
            "kind": if system { "v12.0,system" } else { "v12.0,user" },
            "sku": {"name": d.sku.name, "tier": d.sku.tier, "capacity": d.sku.capacity},
            "properties": {
                "status": "Online",
                "maxSizeBytes": if system { 32_212_254_720u64 } else { 268_435_456_000u64 },
                "currentServiceObjectiveName": if system { "System0" } else { &d.sku.name },
                "requestedServiceObjectiveName": if system { "System0" } else { &d.sku.name },
                "databaseId": d.id,
                "creationDate": d.created,
                "collation": "SQL_Latin1_General_CP1_CI_AS",
                "catalogCollation": "SQL_Latin1_General_CP1_CI_AS",
                "zoneRedundant": false,
            }
        })
    }
}

impl State {
    pub fn server(&self, name: &str) -> Option<&SqlServer> {
        self.servers
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    pub fn server_mut(&mut self, name: &str) -> Option<&mut SqlServer> {
        self.servers
            .iter_mut()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// Subscriptions in the order their first server was added.
    pub fn subscriptions(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in &self.servers {
            if !out.iter().any(|x| x.eq_ignore_ascii_case(&s.subscription)) {
                out.push(s.subscription.clone());
            }
        }
        out
    }

    /// The subscription's canonical spelling, or ARM's 404.
    pub fn find_subscription(&self, sub: &str) -> Result<String, Reply> {
        self.subscriptions()
            .into_iter()
            .find(|s| s.eq_ignore_ascii_case(sub))
            .ok_or_else(|| {
                Reply::error(
                    404,
                    "SubscriptionNotFound",
                    format!("The subscription '{sub}' could not be found."),
                )
            })
    }

    /// Check that the resource group exists in the subscription.
    pub fn find_group(&self, sub: &str, rg: &str) -> Result<(), Reply> {
        self.find_subscription(sub)?;
        let known = self.servers.iter().any(|s| {
            s.subscription.eq_ignore_ascii_case(sub) && s.resource_group.eq_ignore_ascii_case(rg)
        });
        if known {
            Ok(())
        } else {
            Err(Reply::error(
                404,
                "ResourceGroupNotFound",
                format!("Resource group '{rg}' could not be found."),
            ))
        }
    }

    /// A server as addressed by a resource id: it must be in that
    /// subscription and resource group, as with ARM.
    pub fn find_server(&self, sub: &str, rg: &str, server: &str) -> Result<&SqlServer, Reply> {
        self.find_group(sub, rg)?;
        self.server(server)
            .filter(|s| {
                s.subscription.eq_ignore_ascii_case(sub)
                    && s.resource_group.eq_ignore_ascii_case(rg)
            })
            .ok_or_else(|| {
                Reply::error(
                    404,
                    "ResourceNotFound",
                    format!(
                        "The Resource 'Microsoft.Sql/servers/{server}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
                    ),
                )
            })
    }

    pub fn find_database(
        &self,
        sub: &str,
        rg: &str,
        server: &str,
        db: &str,
    ) -> Result<(&SqlServer, &Database), Reply> {
        let s = self.find_server(sub, rg, server)?;
        let d = s.database(db).ok_or_else(|| {
            Reply::error(
                404,
                "ResourceNotFound",
                format!(
                    "The Resource 'Microsoft.Sql/servers/{}/databases/{db}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                    s.name
                ),
            )
        })?;
        Ok((s, d))
    }
}
