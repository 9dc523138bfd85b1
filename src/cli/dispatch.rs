//! The flags that send a command's jobs to workers through a queue.

use clap::Args;
use sqlvault::worker::dispatch::DispatchOptions;
use std::time::Duration;

#[derive(Debug, Args, Default)]
pub struct DispatchArgs {
    /// Run the jobs on the workers of this queue (azure-queue://ACCOUNT/QUEUE)
    /// instead of here; a policy source's own `queue` takes precedence.
    #[arg(long, value_name = "QUEUE")]
    pub dispatch: Option<String>,
    /// With queued jobs: return once they are queued, without waiting for
    /// their results.
    #[arg(long)]
    pub no_wait: bool,
    /// With queued jobs: stop waiting for results after this many seconds
    /// (the jobs stay queued).
    #[arg(long, value_name = "SECS")]
    pub wait_timeout: Option<u64>,
}

fn log_line(m: &str) {
    errln!("sqlvault: {m}");
}

fn no_log(_: &str) {}

impl DispatchArgs {
    pub fn options(&self, quiet: bool) -> DispatchOptions<'static> {
        DispatchOptions {
            queue: self.dispatch.clone(),
            wait: !self.no_wait,
            timeout: self.wait_timeout.map(Duration::from_secs),
            poll: Duration::from_millis(
                std::env::var("SQLVAULT_DISPATCH_POLL_MS")
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(1000),
            ),
            log: if quiet { &no_log } else { &log_line },
        }
    }
}
