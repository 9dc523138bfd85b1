//! `PUT` (only `createMode: Copy`) and `DELETE` of a database: checked when
//! the request comes in, carried out when the operation completes.

use super::http::{Reply, Request, body_object, optional, required};
use super::model::{Database, LOCATION, Sku, State};
use super::operations::{self, Outcome, Work};
use serde_json::Value;

/// A copy being made: `server`/`name` from `source_server`/`source`.
pub struct Copy {
    pub server: String,
    pub name: String,
    pub source_server: String,
    pub source: String,
    /// The copy's own sku when the request gave one, else the source's.
    pub sku: Option<Sku>,
}

/// `/subscriptions/S/resourceGroups/R/providers/Microsoft.Sql/servers/X/databases/Y`
/// as (S, R, X, Y), segment names compared without regard to case.
pub fn parse_database_id(id: &str) -> Option<(String, String, String, String)> {
    let s: Vec<&str> = id.split('/').filter(|s| !s.is_empty()).collect();
    let fixed = [
        (0, "subscriptions"),
        (2, "resourceGroups"),
        (4, "providers"),
        (5, "Microsoft.Sql"),
        (6, "servers"),
        (8, "databases"),
    ];
    if s.len() != 10 || !fixed.iter().all(|(i, w)| s[*i].eq_ignore_ascii_case(w)) {
        return None;
    }
    Some((s[1].into(), s[3].into(), s[7].into(), s[9].into()))
}

fn sku_of(body: &serde_json::Map<String, Value>) -> Result<Option<Sku>, Reply> {
    let Some(sku) = body.get("sku").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let Some(sku) = sku.as_object() else {
        return Err(Reply::error(
            400,
            "InvalidParameterValue",
            "sku must be an object.",
        ));
    };
    let name = required(sku, "name")?;
    let mut s = Sku::from_edition(optional(sku, "tier")?, Some(name));
    if let Some(c) = sku.get("capacity").and_then(Value::as_u64) {
        s.capacity = c as u32;
    }
    Ok(Some(s))
}

pub fn put(state: &mut State, rq: &Request, sub: &str, rg: &str, server: &str, db: &str) -> Reply {
    let target = match state.find_server(sub, rg, server) {
        Ok(s) => s.name.clone(),
        Err(r) => return r,
    };
    let body = match body_object(rq) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let location = match body.get("location") {
        Some(Value::String(l)) => l.replace(' ', "").to_ascii_lowercase(),
        _ => {
            return Reply::error(
                400,
                "LocationRequired",
                "The location property is required for this definition.",
            );
        }
    };
    if location != LOCATION {
        return Reply::error(
            400,
            "InvalidResourceLocation",
            format!("A database must be in the location of its server, '{LOCATION}'."),
        );
    }
    let Some(props) = body.get("properties").and_then(Value::as_object) else {
        return Reply::error(
            400,
            "InvalidRequestContent",
            "The request content was invalid: 'properties' must be an object.",
        );
    };
    let mode = match optional(props, "createMode") {
        Ok(m) => m.unwrap_or("Default"),
        Err(r) => return r,
    };
    if !mode.eq_ignore_ascii_case("Copy") {
        return Reply::error(
            400,
            "InvalidParameterValue",
            format!("createMode '{mode}' is not supported by this server; only 'Copy' is."),
        );
    }
    let source_id = match required(props, "sourceDatabaseId") {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some((s_sub, s_rg, s_server, s_db)) = parse_database_id(source_id) else {
        return Reply::error(
            400,
            "InvalidParameterValue",
            format!("sourceDatabaseId '{source_id}' is not the resource id of a database."),
        );
    };
    let (source_server, source) = match state.find_database(&s_sub, &s_rg, &s_server, &s_db) {
        Ok((s, d)) if d.package.is_some() => (s.name.clone(), d.name.clone()),
        Ok(_) => {
            return Reply::error(
                400,
                "InvalidParameterValue",
                "A system database cannot be copied.",
            );
        }
        Err(_) => {
            return Reply::error(
                404,
                "SourceDatabaseNotFound",
                format!("The source database '{s_server}/{s_db}' does not exist."),
            );
        }
    };
    let sku = match sku_of(&body) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let exists = state.server(&target).and_then(|s| s.database(db)).is_some();
    if exists || operations::creating(state, &target, db) {
        return Reply::error(
            409,
            "DatabaseAlreadyExists",
            format!("The database '{target}/{db}' already exists."),
        );
    }
    let copy = Copy {
        server: target,
        name: db.to_string(),
        source_server,
        source,
        sku,
    };
    let sub = state.find_subscription(sub).unwrap_or_else(|_| sub.into());
    operations::start(state, &sub, Work::Copy(copy))
}

pub fn delete(state: &mut State, sub: &str, rg: &str, server: &str, db: &str) -> Reply {
    let (server, database) = match state.find_server(sub, rg, server) {
        Ok(s) => match s.database(db) {
            None => return Reply::empty(204),
            Some(d) if d.package.is_none() => {
                return Reply::error(
                    400,
                    "OperationNotAllowed",
                    format!("The system database '{}' cannot be deleted.", d.name),
                );
            }
            Some(d) => (s.name.clone(), d.name.clone()),
        },
        Err(r) => return r,
    };
    let sub = state.find_subscription(sub).unwrap_or_else(|_| sub.into());
    operations::start(state, &sub, Work::Delete { server, database })
}

pub fn complete_copy(state: &mut State, c: &Copy) -> Outcome {
    let source = state
        .server(&c.source_server)
        .and_then(|s| s.database(&c.source))
        .cloned();
    let Some(source) = source else {
        return Outcome::Failed {
            code: "SourceDatabaseNotFound".into(),
            message: format!(
                "The source database '{}/{}' does not exist.",
                c.source_server, c.source
            ),
        };
    };
    let Some(server) = state.server_mut(&c.server) else {
        return Outcome::Failed {
            code: "ResourceNotFound".into(),
            message: format!("The server '{}' no longer exists.", c.server),
        };
    };
    if server.database(&c.name).is_some() {
        return Outcome::Failed {
            code: "DatabaseAlreadyExists".into(),
            message: format!("The database '{}/{}' already exists.", c.server, c.name),
        };
    }
    let sku = c.sku.clone().unwrap_or(source.sku);
    let copy = Database::new(&c.name, source.package, sku);
    let body = server.database_json(&copy);
    server.databases.push(copy);
    Outcome::Succeeded(Some(body))
}

pub fn complete_delete(state: &mut State, server: &str, database: &str) -> Outcome {
    if let Some(s) = state.server_mut(server) {
        s.databases
            .retain(|d| !d.name.eq_ignore_ascii_case(database));
    }
    Outcome::Succeeded(None)
}
