use crate::cli::output::Output;
use crate::cli::{Global, repository};
use clap::{Args, ValueEnum};
use sqlvault::Result;
use sqlvault::pipeline::rehydrate::{RehydrateStatus, rehydrate};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Priority {
    /// Up to 15 hours, at the lower price.
    Standard,
    /// Usually under an hour for small objects, at a higher price.
    High,
}

#[derive(Debug, Args)]
pub struct RehydrateArgs {
    /// Restore point id (or a unique prefix of at least 4 digits), or `latest`.
    #[arg(value_name = "POINT")]
    pub point: String,
    /// With `latest`: the latest point of this database.
    #[arg(long, value_name = "NAME")]
    pub database: Option<String>,
    /// How fast Azure should bring the objects back.
    #[arg(long, value_enum, default_value_t = Priority::Standard)]
    pub priority: Priority,
    /// Check again every few minutes until every object is back.
    #[arg(long)]
    pub wait: bool,
}

fn show(out: &Output, s: &RehydrateStatus) {
    if out.json {
        outln!("{}", serde_json::to_string(s).expect("serialisable"));
    } else if !out.quiet {
        let state = if s.done() {
            "ready to restore".to_string()
        } else {
            format!("{} being rehydrated", s.rehydrating)
        };
        outln!(
            "{} ({}): {} of {} objects online, {state}",
            &s.restore_point[..12],
            s.database,
            s.online,
            s.objects
        );
    }
}

pub fn run(g: &Global, a: &RehydrateArgs, out: &Output) -> Result<i32> {
    let repo = repository::open(g, false, out.quiet)?;
    let high = a.priority == Priority::High;
    let poll = std::env::var("SQLVAULT_REHYDRATE_POLL_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    loop {
        let s = rehydrate(&repo, &a.point, a.database.as_deref(), high)?;
        if s.done() || !a.wait {
            show(out, &s);
            if !s.done() && !out.quiet && !out.json {
                errln!(
                    "sqlvault: run this command again (or with --wait) to see when the point can be restored"
                );
            }
            return Ok(0);
        }
        if !out.quiet {
            errln!(
                "sqlvault: {} of {} objects online; checking again in {poll} s",
                s.online,
                s.objects
            );
        }
        std::thread::sleep(Duration::from_secs(poll));
    }
}
