//! Workers announce themselves on `<queue>-workers`: a short-lived message
//! per heartbeat saying who they are and what they are doing, which
//! `worker status` reads. The messages expire by themselves, so a worker
//! that died drops out of the list without anyone cleaning up.

use super::queue::{JobQueue, Which};
use crate::error::Result;
use crate::pipeline::report::WorkerInfo;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Presence {
    pub worker: WorkerInfo,
    pub started_at: String,
    /// When this announcement was made (RFC 3339).
    pub at: String,
    /// `idle`, `running` or `stopping`.
    pub state: String,
    /// The job running, as `kind label (id)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    #[serde(default)]
    pub jobs_done: u64,
}

/// Announce `p`, visible for three heartbeats.
pub fn announce(queue: &JobQueue, p: &Presence, every: Duration) -> Result<()> {
    let text = serde_json::to_string(p).expect("presence serialises");
    queue.send(
        Which::Workers,
        &text,
        None,
        Some(every * 3 + Duration::from_secs(1)),
    )
}

/// The workers seen lately, newest announcement of each.
pub fn seen(queue: &JobQueue) -> Result<Vec<Presence>> {
    let mut out: Vec<Presence> = Vec::new();
    for m in queue.peek(Which::Workers)? {
        let Ok(p) = serde_json::from_str::<Presence>(&m.text) else {
            continue;
        };
        match out
            .iter_mut()
            .find(|o| o.worker.host == p.worker.host && o.worker.pid == p.worker.pid)
        {
            Some(o) if o.at < p.at => *o = p,
            Some(_) => {}
            None => out.push(p),
        }
    }
    out.sort_by(|a, b| (&a.worker.host, a.worker.pid).cmp(&(&b.worker.host, b.worker.pid)));
    Ok(out)
}
