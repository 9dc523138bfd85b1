//! The worker loop: take a job, keep it hidden with a heartbeat while it
//! runs, record the result in the repository, then delete the message.
//! Failures are retried with a growing delay, then poisoned; a worker that
//! dies leaves the job to reappear when its visibility timeout ends.

use super::execute::{Outcome, execute};
use super::identity::this_worker;
use super::job::{JOB_FORMAT, Job, Unreadable};
use super::presence::{self, Presence};
use super::queue::{JobQueue, Message, Which};
use crate::error::{Error, Kind, Result};
use crate::pipeline::report::{ItemReport, SessionReport, WorkerInfo};
use crate::pipeline::{ProgressFactory, record};
use crate::repo::Repository;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// How long a taken job stays hidden without a heartbeat; the
    /// heartbeat extends it every third of that.
    pub visibility: Duration,
    /// The longest wait between two looks at an empty queue.
    pub idle_max: Duration,
    /// Stop after this many jobs (for scripts and tests); none by default.
    pub max_jobs: Option<u64>,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            visibility: Duration::from_secs(60),
            idle_max: Duration::from_secs(5),
            max_jobs: None,
        }
    }
}

/// What goes on `<queue>-poison`: the message as it was, and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Poisoned {
    pub reason: String,
    pub at: String,
    pub worker: WorkerInfo,
    /// The job, when the message was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<Job>,
    /// The text, when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The worker's log: plain lines, one per event.
pub type Log<'a> = &'a (dyn Fn(&str) + Sync);

pub struct Worker<'a> {
    pub queue: &'a JobQueue,
    pub repo: &'a Arc<Repository>,
    pub opts: WorkerOptions,
    pub progress: &'a (dyn ProgressFactory + Sync),
    pub log: Log<'a>,
    me: WorkerInfo,
    started_at: String,
    done: u64,
}

impl<'a> Worker<'a> {
    pub fn new(
        queue: &'a JobQueue,
        repo: &'a Arc<Repository>,
        opts: WorkerOptions,
        progress: &'a (dyn ProgressFactory + Sync),
        log: Log<'a>,
    ) -> Self {
        Worker {
            queue,
            repo,
            opts,
            progress,
            log,
            me: this_worker(),
            started_at: crate::util::now_rfc3339(),
            done: 0,
        }
    }

    pub fn info(&self) -> &WorkerInfo {
        &self.me
    }

    /// Jobs taken so far (done, failed or released).
    pub fn jobs_done(&self) -> u64 {
        self.done
    }

    fn heartbeat_every(&self) -> Duration {
        (self.opts.visibility / 3).max(Duration::from_secs(1))
    }

    fn announce(&self, state: &str, job: Option<String>) {
        let p = Presence {
            worker: self.me.clone(),
            started_at: self.started_at.clone(),
            at: crate::util::now_rfc3339(),
            state: state.into(),
            job,
            jobs_done: self.done,
        };
        if let Err(e) = presence::announce(self.queue, &p, self.heartbeat_every()) {
            (self.log)(&format!("cannot announce this worker: {}", e.message));
        }
    }

    /// Take and run jobs until a signal (or `max_jobs`), from queues that
    /// exist ([`JobQueue::ensure_exists`]). Fails only when the queue
    /// cannot be used at all (credentials).
    pub fn serve(&mut self) -> Result<()> {
        (self.log)(&format!(
            "worker {} started: queue {}, repository {}, binary sha256 {}",
            self.me,
            self.queue.url,
            self.repo.location(),
            self.me.binary_sha256
        ));
        let mut idle = Duration::from_millis(250);
        let mut last_announce = Instant::now() - self.heartbeat_every();
        loop {
            if crate::interrupt::draining() {
                (self.log)("signal received: stopping (no job running)");
                self.announce("stopping", None);
                return Ok(());
            }
            if self.opts.max_jobs.is_some_and(|m| self.done >= m) {
                return Ok(());
            }
            if last_announce.elapsed() >= self.heartbeat_every() {
                self.announce("idle", None);
                last_announce = Instant::now();
            }
            let msg = match self.queue.receive(self.opts.visibility) {
                Ok(m) => m,
                Err(e) if e.kind == Kind::Storage => {
                    (self.log)(&format!(
                        "cannot read the queue, trying again: {}",
                        e.message
                    ));
                    sleep_unless_draining(self.opts.idle_max);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let Some(msg) = msg else {
                sleep_unless_draining(idle);
                idle = (idle * 2).min(self.opts.idle_max);
                continue;
            };
            idle = Duration::from_millis(250);
            self.handle(msg);
            last_announce = Instant::now() - self.heartbeat_every();
        }
    }

    fn poison(&self, msg: &Message, reason: &str, job: Option<Job>) {
        let entry = Poisoned {
            reason: reason.to_string(),
            at: crate::util::now_rfc3339(),
            worker: self.me.clone(),
            message: job.is_none().then(|| msg.text.clone()),
            job,
        };
        let text = serde_json::to_string(&entry).expect("poison entry serialises");
        match self
            .queue
            .send(Which::Poison, &text, None, Some(Duration::MAX))
        {
            Ok(()) => {
                if let Err(e) = self.queue.delete(msg) {
                    (self.log)(&format!("cannot delete poisoned message: {}", e.message));
                }
            }
            Err(e) => (self.log)(&format!(
                "cannot move a message to the poison queue, leaving it: {}",
                e.message
            )),
        }
    }

    fn handle(&mut self, mut msg: Message) {
        let mut job = match Job::parse(&msg.text) {
            Ok(j) => j,
            Err(Unreadable::Malformed(reason)) => {
                (self.log)(&format!(
                    "malformed message moved to the poison queue: {reason}"
                ));
                self.poison(&msg, &format!("malformed message: {reason}"), None);
                return;
            }
            Err(Unreadable::Newer(v)) => {
                (self.log)(&format!(
                    "a job in format {v} is newer than this worker's ({JOB_FORMAT}): left for a newer worker; upgrade sqlvault"
                ));
                let _ = self.queue.update(&mut msg, Duration::from_secs(300), None);
                return;
            }
        };
        if job.repository != self.repo.config().id {
            (self.log)(&format!(
                "job {} is for another repository: left for the workers of that one",
                job.id
            ));
            self.release(&mut msg, &mut job, Duration::from_secs(30));
            return;
        }
        // Takes that ended in neither a result, a recorded failure nor a
        // release are workers that died (killed, crashed) with the job.
        let lost = msg
            .dequeue_count
            .saturating_sub(1 + job.failures + job.releases);
        if lost >= job.max_attempts {
            let reason =
                format!("workers stopped {lost} times while running this job (killed or crashed)");
            self.finish_failed(&mut msg, &mut job, &Error::database(reason.clone()));
            return;
        }
        let what = format!("{} of {}", job.task.kind(), job.label);
        let waited = msg
            .inserted
            .map(|t| {
                (time::OffsetDateTime::now_utc() - t)
                    .as_seconds_f64()
                    .max(0.0)
            })
            .map_or(String::new(), |s| format!(", queued {s:.1}s ago"));
        (self.log)(&format!(
            "took job {} ({what}), try {}{waited}",
            job.id,
            job.failures + lost + 1
        ));
        let outcome = self.run_with_heartbeat(&mut msg, &job, &what);
        self.done += 1;
        match outcome {
            Err(e) if e.kind == Kind::Interrupted => {
                (self.log)(&format!(
                    "interrupted: job {} released for another worker",
                    job.id
                ));
                self.release(&mut msg, &mut job, Duration::ZERO);
            }
            Err(e) => self.retry_or_poison(&mut msg, &mut job, &e),
            Ok(o) => match o.failed().cloned() {
                Some(item) if item.error_kind == Some(Kind::Interrupted) => {
                    (self.log)(&format!(
                        "interrupted: job {} released for another worker",
                        job.id
                    ));
                    self.release(&mut msg, &mut job, Duration::ZERO);
                }
                Some(item) => {
                    let e = Error::new(
                        item.error_kind.unwrap_or(Kind::Database),
                        item.error.clone().unwrap_or_else(|| "failed".into()),
                    );
                    self.retry_or_poison(&mut msg, &mut job, &e);
                }
                None => {
                    self.record(&job, o);
                    match self.queue.delete(&msg) {
                        Ok(()) => (self.log)(&format!("job {} done", job.id)),
                        Err(e) => (self.log)(&format!(
                            "job {} done, but its message could not be deleted (a later try will find it done): {}",
                            job.id, e.message
                        )),
                    }
                }
            },
        }
    }

    /// Run the job while a thread keeps its message hidden.
    fn run_with_heartbeat(&self, msg: &mut Message, job: &Job, what: &str) -> Result<Outcome> {
        let shared = Mutex::new(msg.clone());
        let stop = AtomicBool::new(false);
        let every = self.heartbeat_every();
        let out = std::thread::scope(|s| {
            s.spawn(|| {
                let mut last = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                    if last.elapsed() < every {
                        continue;
                    }
                    last = Instant::now();
                    let mut m = shared.lock().unwrap();
                    if let Err(e) = self.queue.update(&mut m, self.opts.visibility, None) {
                        (self.log)(&format!("heartbeat failed: {}", e.message));
                    }
                    drop(m);
                    let state = if crate::interrupt::draining() {
                        "stopping"
                    } else {
                        "running"
                    };
                    self.announce(state, Some(format!("{what} ({})", job.id)));
                }
            });
            self.announce("running", Some(format!("{what} ({})", job.id)));
            let out = execute(self.repo, job, self.progress);
            stop.store(true, Ordering::Relaxed);
            out
        });
        *msg = shared.into_inner().unwrap();
        out
    }

    /// Give the job back untried, visible again after `after`.
    fn release(&self, msg: &mut Message, job: &mut Job, after: Duration) {
        job.releases += 1;
        if let Err(e) = self.queue.update(msg, after, Some(&job.to_text())) {
            (self.log)(&format!("cannot release job {}: {}", job.id, e.message));
        }
    }

    fn retry_or_poison(&self, msg: &mut Message, job: &mut Job, e: &Error) {
        job.failures += 1;
        job.last_error = Some(e.message.clone());
        if job.failures >= job.max_attempts {
            self.finish_failed(msg, job, e);
            return;
        }
        let delay = Duration::from_secs(1 << job.failures.min(6));
        (self.log)(&format!(
            "job {} failed (try {} of {}), again in {}s: {}",
            job.id,
            job.failures,
            job.max_attempts,
            delay.as_secs(),
            e.message
        ));
        if let Err(u) = self.queue.update(msg, delay, Some(&job.to_text())) {
            (self.log)(&format!(
                "cannot record the failure on the message: {}",
                u.message
            ));
        }
    }

    /// Give up: record the failure for the dispatcher, poison the message.
    fn finish_failed(&self, msg: &mut Message, job: &mut Job, e: &Error) {
        job.last_error = Some(e.message.clone());
        (self.log)(&format!(
            "job {} moved to the poison queue: {}",
            job.id, e.message
        ));
        let mut item = ItemReport::new(job.label.clone()).failed(e);
        item.note = Some(format!(
            "moved to the poison queue `{}`",
            self.queue.url.poison()
        ));
        self.record(
            job,
            Outcome {
                items: vec![item],
                notes: vec![],
                warnings: vec![],
            },
        );
        self.poison(msg, &e.message, Some(job.clone()));
    }

    /// The result, as a session the dispatcher finds by its id.
    fn record(&self, job: &Job, o: Outcome) {
        let (mut report, started) = SessionReport::new("worker", self.repo.location());
        report.job = Some(job.id.clone());
        report.dispatch = Some(job.dispatch.clone());
        report.notes = o.notes;
        report.warnings = o.warnings;
        report.databases = o
            .items
            .into_iter()
            .map(|mut i| {
                i.worker = Some(self.me.clone());
                i
            })
            .collect();
        let report = record(self.repo, report.finish(started));
        for w in &report.warnings {
            (self.log)(&format!("warning: {w}"));
        }
    }
}

fn sleep_unless_draining(d: Duration) {
    let until = Instant::now() + d;
    while Instant::now() < until && !crate::interrupt::draining() {
        std::thread::sleep(Duration::from_millis(50));
    }
}
