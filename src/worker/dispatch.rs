//! The dispatching side: put jobs on queues, then follow them through the
//! results workers record in the repository, and turn those into the same
//! session report a local run prints.

use super::job::Job;
use super::queue::{JobQueue, Which};
use super::serve::Log;
use crate::error::{Error, Kind, Result};
use crate::pipeline::report::{ItemReport, Status};
use crate::repo::Repository;
use crate::repo::ids::SessionId;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// How a run hands its jobs to workers.
pub struct DispatchOptions<'a> {
    /// `--dispatch`: the queue for sources that name none.
    pub queue: Option<String>,
    /// Follow the jobs until each has a result (the default).
    pub wait: bool,
    /// Give up following after this long.
    pub timeout: Option<Duration>,
    pub poll: Duration,
    pub log: Log<'a>,
}

impl DispatchOptions<'_> {
    /// Nothing dispatched: every source runs in-process.
    pub fn local() -> DispatchOptions<'static> {
        DispatchOptions {
            queue: None,
            wait: true,
            timeout: None,
            poll: Duration::from_secs(1),
            log: &|_| {},
        }
    }
}

/// A job put on a queue, and what the report calls it.
#[derive(Debug, Clone)]
pub struct Sent {
    pub job: String,
    pub label: String,
    pub queue: String,
    pub item: ItemReport,
}

/// A fresh id for one dispatching run.
pub fn new_dispatch_id() -> String {
    hex::encode(rand::random::<[u8; 8]>())
}

/// The open queues of one run, each opened once.
pub struct Dispatcher<'a> {
    pub id: String,
    opts: &'a DispatchOptions<'a>,
    queues: HashMap<String, JobQueue>,
    seen: HashSet<SessionId>,
    pub sent: Vec<Sent>,
}

impl<'a> Dispatcher<'a> {
    /// Start a dispatch; the repository's sessions now are not results.
    pub fn new(repo: &Repository, opts: &'a DispatchOptions<'a>) -> Result<Self> {
        Ok(Dispatcher {
            id: new_dispatch_id(),
            opts,
            queues: HashMap::new(),
            seen: repo.session_ids()?.into_iter().collect(),
            sent: Vec::new(),
        })
    }

    /// The queue a source's jobs go to: its own, else `--dispatch`'s.
    pub fn queue_for(&self, own: Option<&str>) -> Option<String> {
        own.map(str::to_string).or_else(|| self.opts.queue.clone())
    }

    fn open(&mut self, location: &str) -> Result<&JobQueue> {
        if !self.queues.contains_key(location) {
            let q = JobQueue::open(location)?;
            // The jobs queue must exist: a job sent nowhere would wait for ever.
            q.count(Which::Jobs)?;
            self.queues.insert(location.to_string(), q);
        }
        Ok(&self.queues[location])
    }

    /// Put `job` on `queue`; the item is what the report shows until a result comes.
    pub fn send(&mut self, queue: &str, job: &Job, mut item: ItemReport) -> Result<()> {
        let text = job.to_text();
        if text.len() > 48 * 1024 {
            return Err(Error::usage(format!(
                "the job for `{}` is {} bytes, more than a queue message holds",
                job.label,
                text.len()
            )));
        }
        self.open(queue)?.send(Which::Jobs, &text, None, None)?;
        (self.opts.log)(&format!(
            "queued {} of {} as job {}",
            job.task.kind(),
            job.label,
            job.id
        ));
        item.note = Some(format!("queued on {queue} as job {}", job.id));
        self.sent.push(Sent {
            job: job.id.clone(),
            label: job.label.clone(),
            queue: queue.to_string(),
            item,
        });
        Ok(())
    }

    /// Queue requests made so far.
    pub fn requests(&self) -> u64 {
        self.queues.values().map(JobQueue::requests).sum()
    }

    /// "dispatched N job(s) ...", when any was.
    pub fn summary(&self) -> Option<String> {
        (!self.sent.is_empty()).then(|| {
            format!(
                "dispatched {} job(s) to {} queue(s) as run {}, with {} queue request(s)",
                self.sent.len(),
                self.queues.len(),
                self.id,
                self.requests()
            )
        })
    }

    /// The results of the sent jobs, in the order they were sent: each
    /// job's recorded items, or a failure saying why there is none.
    pub fn wait(&mut self, repo: &Repository) -> Vec<ItemReport> {
        let mut results: HashMap<String, Vec<ItemReport>> = HashMap::new();
        if !self.opts.wait || self.sent.is_empty() {
            return self.sent.iter().map(|s| s.item.clone()).collect();
        }
        let started = Instant::now();
        let mut stop: Option<(String, String)> = None;
        while results.len() < self.sent.len() {
            match self.collect(repo, &mut results) {
                Ok(()) => {}
                Err(e) => {
                    (self.opts.log)(&format!("cannot read results, trying again: {}", e.message))
                }
            }
            if results.len() == self.sent.len() {
                break;
            }
            if crate::interrupt::is_set() {
                stop = Some((
                    "not waited for (interrupted); the job stays queued".into(),
                    "see `sqlvault worker status` and `sqlvault sessions`".into(),
                ));
                break;
            }
            if let Some(t) = self.opts.timeout
                && started.elapsed() >= t
            {
                stop = Some((
                    format!(
                        "no result within {}s; the job is still queued or running",
                        t.as_secs()
                    ),
                    "see `sqlvault worker status --queue ...`; is a worker running on the queue?"
                        .into(),
                ));
                break;
            }
            std::thread::sleep(self.opts.poll);
        }
        self.sent
            .iter()
            .flat_map(|s| match results.remove(&s.job) {
                Some(items) => items,
                None => {
                    let (why, hint) = stop.clone().unwrap_or_default();
                    let mut item = s.item.clone();
                    item.status = Status::Failed;
                    item.error = Some(why);
                    item.error_kind = Some(Kind::Database);
                    item.hint = Some(hint);
                    vec![item]
                }
            })
            .collect()
    }

    /// Read the sessions recorded since the last look; keep those that are
    /// results of this dispatch.
    fn collect(
        &mut self,
        repo: &Repository,
        results: &mut HashMap<String, Vec<ItemReport>>,
    ) -> Result<()> {
        for id in repo.session_ids()? {
            if self.seen.contains(&id) {
                continue;
            }
            let Ok(v) = repo.read_session(&id) else {
                // Half-visible or damaged: look again next time.
                continue;
            };
            self.seen.insert(id);
            if v.get("dispatch").and_then(|d| d.as_str()) != Some(self.id.as_str()) {
                continue;
            }
            let Some(job) = v.get("job").and_then(|j| j.as_str()) else {
                continue;
            };
            let Some(sent) = self.sent.iter().find(|s| s.job == job) else {
                continue;
            };
            let items: Vec<ItemReport> = v
                .get("databases")
                .and_then(|d| serde_json::from_value(d.clone()).ok())
                .unwrap_or_default();
            for i in &items {
                let by = i.worker.as_ref().map(|w| w.to_string()).unwrap_or_default();
                (self.opts.log)(&format!(
                    "{}: {} by {by}",
                    sent.label,
                    match i.status {
                        Status::Ok => "done".to_string(),
                        _ => format!("failed: {}", i.error.as_deref().unwrap_or("")),
                    }
                ));
            }
            results.insert(job.to_string(), items);
        }
        Ok(())
    }
}
