use crate::cli::output::Output;
use crate::cli::{Global, repository};
use clap::{Args, Subcommand};
use sqlvault::Result;
use sqlvault::worker::queue::JobQueue;
use sqlvault::worker::serve::{Worker, WorkerOptions};
use sqlvault::worker::status::status;
use std::time::Duration;
use tabled::builder::Builder;
use tabled::settings::Style;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct WorkerArgs {
    #[command(subcommand)]
    pub command: Option<WorkerCommand>,
    /// The queue to take jobs from: azure-queue://ACCOUNT/QUEUE[?endpoint=URL]
    /// (credentials from the environment, as for azure:// repositories).
    #[arg(long, value_name = "QUEUE", required = true)]
    pub queue: Option<String>,
    /// Seconds a job stays hidden from other workers without a heartbeat;
    /// a worker that dies releases its job after this long.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub visibility_timeout: u64,
    /// Longest pause, in seconds, between two looks at an empty queue.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub idle_max: u64,
    /// Stop after this many jobs (default: run until SIGTERM).
    #[arg(long, value_name = "N")]
    pub max_jobs: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum WorkerCommand {
    /// Jobs queued, running and poisoned on a queue, and the workers seen lately.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The queue: azure-queue://ACCOUNT/QUEUE[?endpoint=URL].
    #[arg(long, value_name = "QUEUE")]
    pub queue: String,
}

fn log_line(m: &str) {
    errln!("{} sqlvault worker: {m}", sqlvault::util::now_rfc3339());
}

pub fn run(g: &Global, a: &WorkerArgs, out: &Output) -> Result<i32> {
    if let Some(WorkerCommand::Status(s)) = &a.command {
        return show_status(&s.queue, out);
    }
    let location = a.queue.as_deref().expect("clap requires --queue");
    if a.visibility_timeout < 3 || a.visibility_timeout > 7 * 24 * 3600 {
        return Err(sqlvault::Error::usage(
            "--visibility-timeout must be between 3 seconds and 7 days",
        ));
    }
    let queue = JobQueue::open(location)?;
    // The queue first: a worker that cannot reach it has nothing to do.
    queue.ensure_exists()?;
    let repo = repository::open(g, false, out.quiet)?;
    // SIGTERM: finish the running job, take no new one; a second signal
    // releases it at once.
    sqlvault::interrupt::drain_first();
    let opts = WorkerOptions {
        visibility: Duration::from_secs(a.visibility_timeout),
        idle_max: Duration::from_secs(a.idle_max.max(1)),
        max_jobs: a.max_jobs,
    };
    let mut w = Worker::new(&queue, &repo, opts, &out.progress, &log_line);
    w.serve()?;
    log_line(&format!(
        "stopped after {} job(s), {} queue request(s)",
        w.jobs_done(),
        queue.requests()
    ));
    Ok(0)
}

fn show_status(location: &str, out: &Output) -> Result<i32> {
    let queue = JobQueue::open(location)?;
    let s = status(&queue)?;
    if out.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&s).expect("status serialises")
        );
        return Ok(0);
    }
    if out.quiet {
        return Ok(0);
    }
    outln!(
        "queue {}: {} message(s) (running ones included), {} poisoned",
        s.queue,
        s.messages,
        s.poisoned_count
    );
    let mut w = Builder::default();
    w.push_record(["worker", "version", "state", "job", "jobs done", "seen at"]);
    for p in &s.workers {
        w.push_record([
            format!("{} pid {}", p.worker.host, p.worker.pid),
            p.worker.version.clone(),
            p.state.clone(),
            p.job.clone().unwrap_or_default(),
            p.jobs_done.to_string(),
            p.at.clone(),
        ]);
    }
    print_table("workers seen lately", w, s.workers.is_empty());
    let mut q = Builder::default();
    q.push_record([
        "job",
        "kind",
        "database",
        "tries",
        "last error",
        "queued at",
    ]);
    for j in &s.queued {
        q.push_record([
            j.id.clone(),
            j.kind.clone(),
            j.label.clone(),
            j.tries.to_string(),
            j.last_error.clone().unwrap_or_default(),
            j.queued_at.clone().unwrap_or_default(),
        ]);
    }
    print_table("queued (waiting to be taken)", q, s.queued.is_empty());
    let mut p = Builder::default();
    p.push_record(["job", "database", "reason", "at", "worker"]);
    for j in &s.poisoned {
        p.push_record([
            j.id.clone().unwrap_or_default(),
            j.label.clone().unwrap_or_default(),
            j.reason.clone(),
            j.at.clone().unwrap_or_default(),
            j.worker.clone().unwrap_or_default(),
        ]);
    }
    print_table("poisoned", p, s.poisoned.is_empty());
    Ok(0)
}

fn print_table(title: &str, b: Builder, empty: bool) {
    if empty {
        outln!("{title}: none");
        return;
    }
    let mut t = b.build();
    t.with(Style::rounded());
    outln!("{title}:\n{t}");
}
