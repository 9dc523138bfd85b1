use crate::cli::Global;
use crate::cli::output::Output;
use clap::{Args, Subcommand};
use sqlvault::Result;
use sqlvault::pipeline::sources::databases_for;
use sqlvault::policy::Policy;
use sqlvault::policy::file::RepositorySpec;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy file and print its plan in words.
    Check {
        /// The policy file (TOML).
        file: PathBuf,
    },
}

fn key_source(r: &RepositorySpec) -> String {
    if let Some(p) = &r.key_file {
        format!("key file `{}`", p.display())
    } else if let Some(p) = &r.password_file {
        format!("password file `{}`", p.display())
    } else if let Some(v) = &r.password_env {
        format!("password from ${v}")
    } else if r.password.is_some() {
        "password written in the policy".into()
    } else {
        "no key given".into()
    }
}

pub fn run(_g: &Global, a: &PolicyArgs, out: &Output) -> Result<i32> {
    let PolicyCommand::Check { file } = &a.command;
    let policy = Policy::load(file)?;
    let spec = &policy.spec;
    for w in &policy.warnings {
        errln!("sqlvault: warning: {w}");
    }
    if out.json {
        outln!(
            "{}",
            serde_json::json!({"policy": file, "valid": true, "warnings": policy.warnings})
        );
        return Ok(0);
    }
    if out.quiet {
        return Ok(0);
    }
    outln!("policy `{}` is valid.", file.display());
    outln!(
        "repository: `{}` ({})",
        spec.repository.path.display(),
        key_source(&spec.repository)
    );
    if let Some(a) = &spec.archive {
        outln!(
            "archive: restore points older than {} days move to `{}` ({})",
            a.after_days,
            a.path.display(),
            key_source(&a.repository())
        );
    }
    for s in &spec.sources {
        let mut what: Vec<String> = s.databases.iter().map(|d| format!("`{d}`")).collect();
        if let Some(url) = &s.url {
            let mut auto = format!("on `{}`", sqlvault::engine::postgres::redact(url));
            if s.auto_protect {
                auto = format!("every database {auto}, including new ones");
                if !s.exclude.is_empty() {
                    auto += &format!(", except {}", s.exclude.join(", "));
                }
            }
            what.push(auto);
        }
        if let Some(dir) = &s.directory {
            let mut auto = format!(
                "every SQLite database in `{}`, including new ones",
                dir.display()
            );
            if !s.exclude.is_empty() {
                auto += &format!(", except {}", s.exclude.join(", "));
            }
            what.push(auto);
        }
        let now = match databases_for(s, s.queue.is_some()) {
            Ok(d) => format!("{} found now", d.len()),
            Err(e) => format!("cannot be listed now: {}", e.message),
        };
        if let Some(q) = &s.queue {
            what.push(format!("backed up by the workers of `{q}`"));
        }
        outln!(
            "source `{}` ({}): {} ({now})",
            s.name,
            s.engine,
            what.join("; ")
        );
    }
    outln!("schedule: {}", spec.schedule.describe());
    let zone = spec.schedule.zone().map_err(sqlvault::Error::usage)?;
    let next = sqlvault::policy::next_slots(&spec.schedule, crate::cli::policy_now()?, 4)
        .map_err(sqlvault::Error::usage)?;
    for d in next {
        outln!(
            "  next: {} {}",
            d.kind,
            d.slot
                .to_zoned(zone.clone())
                .strftime("%a %Y-%m-%d %H:%M %Z")
        );
    }
    let r = &spec.retention;
    outln!(
        "retention: the newest full of each of the last {} days, {} weeks, {} months and {} years; differentials {} days; a full is kept while a kept point needs it",
        r.daily,
        r.weekly,
        r.monthly,
        r.yearly,
        r.differential_days.unwrap_or(r.daily)
    );
    let o = &spec.options;
    outln!(
        "options: compression {}, {} database(s) at a time, {} per run, {} tries for queued jobs{}",
        o.compression
            .map_or("as the repository".into(), |c| c.to_string()),
        o.max_parallel,
        o.max_per_run
            .map_or("no limit".into(), |m| format!("at most {m}")),
        o.max_attempts,
        o.copy.as_ref().map_or(String::new(), |c| format!(
            ", plain copies of {} backups in `{}`",
            c.kinds
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join("/"),
            c.path.display()
        ))
    );
    Ok(0)
}
