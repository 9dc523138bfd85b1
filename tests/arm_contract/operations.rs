//! Long-running operations as ARM runs them: the request answers 202 with
//! an `Azure-AsyncOperation` URL (status documents) and a `Location` URL
//! (202 until done, then the result), both with `Retry-After: 1`. Polls of
//! either URL count together; after `polls_before_done` "in progress"
//! answers the next poll finishes the operation, and only then does its
//! effect happen (copy created, blob written, database deleted).

use super::databases;
use super::http::Reply;
use super::model::{API_VERSION, LOCATION, State, now};
use super::transfer::{self, Transfer};
use serde_json::{Value, json};

pub struct Operation {
    pub id: String,
    pub subscription: String,
    pub started: String,
    pub polls: usize,
    pub polls_before_done: usize,
    pub work: Work,
    pub outcome: Option<Outcome>,
}

pub enum Work {
    Copy(databases::Copy),
    Delete { server: String, database: String },
    Transfer(Transfer),
}

pub enum Outcome {
    /// With the body the `Location` URL answers (200), if any (else 204).
    Succeeded(Option<Value>),
    Failed {
        code: String,
        message: String,
    },
}

/// The two URL kinds of each family: (Azure-AsyncOperation, Location).
fn url_kinds(work: &Work) -> (&'static str, &'static str) {
    match work {
        Work::Transfer(_) => (
            "importExportAzureAsyncOperation",
            "importExportOperationResults",
        ),
        _ => ("databaseAzureAsyncOperation", "databaseOperationResults"),
    }
}

fn url(state: &State, sub: &str, kind: &str, id: &str) -> String {
    format!(
        "{}/subscriptions/{sub}/providers/Microsoft.Sql/locations/{LOCATION}/{kind}/{id}?api-version={API_VERSION}",
        state.base
    )
}

/// Accept `work` as a new operation: 202 with where to poll.
pub fn start(state: &mut State, subscription: &str, work: Work) -> Reply {
    let id = super::model::uuid();
    let (async_kind, result_kind) = url_kinds(&work);
    let reply = Reply::empty(202)
        .with(
            "Azure-AsyncOperation",
            url(state, subscription, async_kind, &id),
        )
        .with("Location", url(state, subscription, result_kind, &id))
        .with("Retry-After", "1");
    state.operations.insert(
        id.clone(),
        Operation {
            id,
            subscription: subscription.to_string(),
            started: now(),
            polls: 0,
            polls_before_done: state.faults.polls_before_done,
            work,
            outcome: None,
        },
    );
    reply
}

/// Whether `server`/`database` is the target of a copy or import still
/// running: the name is taken, though the database does not exist yet.
pub fn creating(state: &State, server: &str, database: &str) -> bool {
    state.operations.values().any(|op| {
        let (s, d) = match &op.work {
            Work::Copy(c) => (&c.server, &c.name),
            Work::Transfer(t) if t.direction == transfer::Direction::Import => {
                (&t.server, &t.database)
            }
            _ => return false,
        };
        op.outcome.is_none() && s.eq_ignore_ascii_case(server) && d.eq_ignore_ascii_case(database)
    })
}

/// `GET` of an operation URL (`…/locations/{location}/{kind}/{id}`).
pub fn poll(state: &mut State, sub: &str, location: &str, kind: &str, id: &str) -> Reply {
    let key = id.to_ascii_lowercase();
    let not_found = || {
        Reply::error(
            404,
            "ResourceNotFound",
            format!(
                "The operation '{id}' of type '{kind}' was not found in location '{location}'."
            ),
        )
    };
    let Some(mut op) = state.operations.remove(&key) else {
        return not_found();
    };
    let (async_kind, result_kind) = url_kinds(&op.work);
    let is_async = kind.eq_ignore_ascii_case(async_kind);
    let fits = (is_async || kind.eq_ignore_ascii_case(result_kind))
        && op.subscription.eq_ignore_ascii_case(sub)
        && location.eq_ignore_ascii_case(LOCATION);
    if !fits {
        state.operations.insert(key, op);
        return not_found();
    }
    advance(state, &mut op);
    let reply = if is_async {
        status_document(&op)
    } else {
        result(state, &op, result_kind)
    };
    state.operations.insert(key, op);
    reply
}

fn advance(state: &mut State, op: &mut Operation) {
    let stalled = state.faults.stall_all
        || state.faults.stall_transfers && matches!(op.work, Work::Transfer(_));
    if op.outcome.is_some() || stalled {
        return;
    }
    if op.polls < op.polls_before_done {
        op.polls += 1;
        return;
    }
    op.outcome = Some(match &mut op.work {
        Work::Copy(c) => databases::complete_copy(state, c),
        Work::Delete { server, database } => databases::complete_delete(state, server, database),
        Work::Transfer(t) => match transfer::complete(state, t) {
            Ok(()) => Outcome::Succeeded(None),
            Err(message) => Outcome::Failed {
                code: "ImportExportJobError".into(),
                message,
            },
        },
    });
}

/// What the `Azure-AsyncOperation` URL answers.
fn status_document(op: &Operation) -> Reply {
    let mut doc =
        json!({"id": op.id, "name": op.id, "status": "InProgress", "startTime": op.started});
    match &op.outcome {
        None => return Reply::json(200, doc).with("Retry-After", "1"),
        Some(Outcome::Succeeded(_)) => doc["status"] = json!("Succeeded"),
        Some(Outcome::Failed { code, message }) => {
            doc["status"] = json!("Failed");
            // The service wraps an import/export job's own message.
            let message = match &op.work {
                Work::Transfer(_) => format!(
                    "The ImportExport operation with Request Id '{}' failed due to '{message}'.",
                    op.id
                ),
                _ => message.clone(),
            };
            doc["error"] = json!({"code": code, "message": message});
        }
    }
    Reply::json(200, doc)
}

/// What the `Location` URL answers.
fn result(state: &State, op: &Operation, kind: &str) -> Reply {
    let Some(outcome) = &op.outcome else {
        return Reply::empty(202)
            .with("Location", url(state, &op.subscription, kind, &op.id))
            .with("Retry-After", "1");
    };
    if let Work::Transfer(t) = &op.work {
        let id = format!(
            "/subscriptions/{}/providers/Microsoft.Sql/locations/{LOCATION}/{kind}/{}",
            op.subscription, op.id
        );
        return Reply::json(200, transfer::result_json(&id, &op.id, t, outcome));
    }
    match outcome {
        Outcome::Succeeded(Some(body)) => Reply::json(200, body.clone()),
        Outcome::Succeeded(None) => Reply::empty(204),
        Outcome::Failed { code, message } => Reply::error(400, code, message.clone()),
    }
}
