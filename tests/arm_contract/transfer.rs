//! `Databases - Export` and `Servers - Import`: the request body is checked
//! when it comes in (400 on a missing or malformed field); the SQL login,
//! the storage key and the blob only when the job runs, so those failures
//! end the operation Failed with an `errorMessage`, as the service does.

use super::blobs::Account;
use super::http::{Reply, Request, body_object, optional, required};
use super::model::{Database, Sku, State, now};
use super::operations::{self, Outcome, Work};
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Export,
    Import,
}

pub struct Transfer {
    pub direction: Direction,
    pub server: String,
    pub database: String,
    pub storage_uri: String,
    /// `StorageAccessKey`, `SharedAccessKey` or `ManagedIdentity` (then
    /// `key` is the identity's resource id).
    pub key_type: String,
    pub key: String,
    /// A SQL login, or with `ManagedIdentity` authentication the
    /// identity's resource id (and no password).
    pub login: String,
    pub password: Option<String>,
    /// The new database's sku (imports).
    pub sku: Sku,
    pub queued: String,
    pub modified: String,
}

/// The fields export and import share.
fn parse(
    rq: &Request,
    direction: Direction,
    server: String,
    database: Option<String>,
) -> Result<Transfer, Reply> {
    let body = body_object(rq)?;
    let key_type = required(&body, "storageKeyType")?;
    let key_type = ["StorageAccessKey", "SharedAccessKey", "ManagedIdentity"]
        .into_iter()
        .find(|k| k.eq_ignore_ascii_case(key_type))
        .ok_or_else(|| {
            Reply::error(
                400,
                "InvalidParameterValue",
                format!(
                    "storageKeyType '{key_type}' is not valid: it is 'StorageAccessKey', 'SharedAccessKey' or 'ManagedIdentity'."
                ),
            )
        })?;
    let key = required(&body, "storageKey")?;
    let storage_uri = required(&body, "storageUri")?;
    Account::check_uri(storage_uri).map_err(|e| {
        Reply::error(
            400,
            "InvalidParameterValue",
            format!("storageUri is not valid: {e}."),
        )
    })?;
    let login = required(&body, "administratorLogin")?;
    let identity = match optional(&body, "authenticationType")? {
        None => false,
        Some(a) if a.eq_ignore_ascii_case("Sql") => false,
        Some(a) if a.eq_ignore_ascii_case("ManagedIdentity") => true,
        Some(a) => {
            return Err(Reply::error(
                400,
                "InvalidParameterValue",
                format!(
                    "authenticationType '{a}' is not supported by this server; use 'Sql' or 'ManagedIdentity'."
                ),
            ));
        }
    };
    // With a managed identity, the login is its resource id and there is
    // no password.
    let password = if identity {
        if body
            .get("administratorLoginPassword")
            .is_some_and(|v| !v.is_null())
        {
            return Err(Reply::error(
                400,
                "InvalidParameterValue",
                "administratorLoginPassword must not be given when authenticationType is ManagedIdentity.",
            ));
        }
        None
    } else {
        Some(required(&body, "administratorLoginPassword")?.to_string())
    };
    let (database, sku) = match database {
        Some(d) => (d, Sku::standard_s0()),
        None => {
            let name = required(&body, "databaseName")?.to_string();
            if let Some(v) = body.get("maxSizeBytes").filter(|v| !v.is_null()) {
                // A string in this api-version; a number is tolerated.
                let ok = match v {
                    Value::String(s) => s.parse::<u64>().is_ok_and(|n| n > 0),
                    Value::Number(n) => n.as_u64().is_some_and(|n| n > 0),
                    _ => false,
                };
                if !ok {
                    return Err(Reply::error(
                        400,
                        "InvalidParameterValue",
                        format!("maxSizeBytes '{v}' is not a positive number of bytes."),
                    ));
                }
            }
            let sku = Sku::from_edition(
                optional(&body, "edition")?,
                optional(&body, "serviceObjectiveName")?,
            );
            (name, sku)
        }
    };
    let t = now();
    Ok(Transfer {
        direction,
        server,
        database,
        storage_uri: storage_uri.to_string(),
        key_type: key_type.to_string(),
        key: key.to_string(),
        login: login.to_string(),
        password,
        sku,
        queued: t.clone(),
        modified: t,
    })
}

pub fn export(
    state: &mut State,
    rq: &Request,
    sub: &str,
    rg: &str,
    server: &str,
    db: &str,
) -> Reply {
    let (server, database) = match state.find_database(sub, rg, server, db) {
        Ok((_, d)) if d.package.is_none() => {
            return Reply::error(
                400,
                "InvalidParameterValue",
                format!("The system database '{}' cannot be exported.", d.name),
            );
        }
        Ok((s, d)) => (s.name.clone(), d.name.clone()),
        Err(r) => return r,
    };
    match parse(rq, Direction::Export, server, Some(database)) {
        Ok(t) => start(state, sub, t),
        Err(r) => r,
    }
}

pub fn import(state: &mut State, rq: &Request, sub: &str, rg: &str, server: &str) -> Reply {
    let server = match state.find_server(sub, rg, server) {
        Ok(s) => s.name.clone(),
        Err(r) => return r,
    };
    match parse(rq, Direction::Import, server, None) {
        Ok(t) => start(state, sub, t),
        Err(r) => r,
    }
}

fn start(state: &mut State, sub: &str, t: Transfer) -> Reply {
    let sub = state.find_subscription(sub).unwrap_or_else(|_| sub.into());
    operations::start(state, &sub, Work::Transfer(t))
}

/// Run the job: `Err` is the service's `errorMessage`.
pub fn complete(state: &mut State, t: &mut Transfer) -> Result<(), String> {
    t.modified = now();
    let server = state
        .server(&t.server)
        .ok_or_else(|| format!("The server '{}' no longer exists.", t.server))?;
    match &t.password {
        Some(p) => {
            if !t.login.eq_ignore_ascii_case(&server.admin_login) || *p != server.admin_password {
                return Err(format!("Login failed for user '{}'.", t.login));
            }
        }
        None => {
            if !server
                .identities
                .iter()
                .any(|i| i.eq_ignore_ascii_case(&t.login))
            {
                return Err(format!(
                    "The managed identity '{}' is not assigned to server '{}'.",
                    t.login, t.server
                ));
            }
        }
    }
    if t.key_type == "ManagedIdentity"
        && !server
            .identities
            .iter()
            .any(|i| i.eq_ignore_ascii_case(&t.key))
    {
        return Err("Authentication to the storage account failed.".into());
    }
    if t.direction == Direction::Export
        && let Some(m) = &state.faults.export_failure
    {
        return Err(m.clone());
    }
    if t.key_type == "StorageAccessKey" && !state.account.key_matches(&t.key) {
        return Err("Authentication to the storage account failed.".into());
    }
    match t.direction {
        Direction::Export => {
            let package = server
                .database(&t.database)
                .and_then(|d| d.package.clone())
                .ok_or_else(|| format!("The database '{}' does not exist.", t.database))?;
            state.account.write(&t.storage_uri, &package)
        }
        Direction::Import => {
            if server.database(&t.database).is_some() {
                return Err(format!(
                    "The database '{}' already exists on server '{}'.",
                    t.database, t.server
                ));
            }
            let bytes = state.account.read(&t.storage_uri)?;
            // DacFx opens the package as a ZIP before anything else.
            if !bytes.starts_with(b"PK\x03\x04") {
                return Err(format!(
                    "Could not load package from '{}': File contains corrupted data.",
                    t.storage_uri
                ));
            }
            let db = Database::new(&t.database, Some(Arc::new(bytes)), t.sku.clone());
            state
                .server_mut(&t.server)
                .expect("the server was there a moment ago")
                .databases
                .push(db);
            Ok(())
        }
    }
}

/// ImportExportOperationResult, what the `Location` URL answers when done.
pub fn result_json(id: &str, op_id: &str, t: &Transfer, outcome: &Outcome) -> Value {
    let (status, error) = match outcome {
        Outcome::Succeeded(_) => ("Completed", Value::Null),
        Outcome::Failed { message, .. } => ("Failed", json!(message)),
    };
    json!({
        "id": id,
        "name": op_id,
        "type": "Microsoft.Sql/locations/importExportOperationResults",
        "properties": {
            "requestId": op_id,
            "requestType": match t.direction {
                Direction::Export => "Export",
                Direction::Import => "Import",
            },
            "queuedTime": t.queued,
            "lastModifiedTime": t.modified,
            "blobUri": t.storage_uri,
            "serverName": t.server,
            "databaseName": t.database,
            "status": status,
            "errorMessage": error,
        }
    })
}
