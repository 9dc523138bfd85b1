//! `worker status`: what is queued, what is running and on which worker,
//! what was poisoned and why.

use super::job::Job;
use super::presence::{self, Presence};
use super::queue::{JobQueue, Which};
use super::serve::Poisoned;
use crate::error::Result;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct QueueStatus {
    pub queue: String,
    /// The service's approximate count, running (hidden) jobs included.
    pub messages: u64,
    /// The visible jobs at the head of the queue (up to 32).
    pub queued: Vec<QueuedJob>,
    pub workers: Vec<Presence>,
    pub poisoned_count: u64,
    pub poisoned: Vec<PoisonedJob>,
}

#[derive(Debug, Serialize)]
pub struct QueuedJob {
    pub id: String,
    pub kind: String,
    pub label: String,
    pub tries: u32,
    pub last_error: Option<String>,
    pub queued_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PoisonedJob {
    pub id: Option<String>,
    pub label: Option<String>,
    pub reason: String,
    pub at: Option<String>,
    pub worker: Option<String>,
}

pub fn status(queue: &JobQueue) -> Result<QueueStatus> {
    let messages = queue.count(Which::Jobs)?;
    let queued = queue
        .peek(Which::Jobs)?
        .into_iter()
        .map(|m| match Job::parse(&m.text) {
            Ok(j) => QueuedJob {
                id: j.id,
                kind: j.task.kind().into(),
                label: j.label,
                tries: m.dequeue_count,
                last_error: j.last_error,
                queued_at: m.inserted,
            },
            Err(_) => QueuedJob {
                id: String::new(),
                kind: "unreadable".into(),
                label: String::new(),
                tries: m.dequeue_count,
                last_error: None,
                queued_at: m.inserted,
            },
        })
        .collect();
    let poisoned = queue
        .peek(Which::Poison)?
        .into_iter()
        .map(|m| match serde_json::from_str::<Poisoned>(&m.text) {
            Ok(p) => PoisonedJob {
                id: p.job.as_ref().map(|j| j.id.clone()),
                label: p.job.as_ref().map(|j| j.label.clone()),
                reason: p.reason,
                at: Some(p.at),
                worker: Some(p.worker.to_string()),
            },
            Err(_) => PoisonedJob {
                id: None,
                label: None,
                reason: "not a poison record".into(),
                at: m.inserted,
                worker: None,
            },
        })
        .collect();
    Ok(QueueStatus {
        queue: queue.url.to_string(),
        messages,
        queued,
        workers: presence::seen(queue)?,
        poisoned_count: queue.count(Which::Poison)?,
        poisoned,
    })
}
