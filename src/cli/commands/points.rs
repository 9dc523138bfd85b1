use crate::cli::output::Output;
use crate::cli::{Global, repository};
use clap::Args;
use indicatif::HumanBytes;
use serde::Serialize;
use sqlvault::Result;
use sqlvault::engine::postgres::physical::window::{self, Window};
use sqlvault::pipeline::{latest, policy_repo};
use sqlvault::policy::Policy;
use sqlvault::repo::Repository;
use std::sync::Arc;
use tabled::builder::Builder;
use tabled::settings::Style;

#[derive(Debug, Args)]
pub struct PointsArgs {
    /// Only restore points of this database.
    #[arg(long, value_name = "NAME")]
    pub database: Option<String>,
    /// List the points of this policy's repository and of its archive
    /// repository, with where each one lives.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<std::path::PathBuf>,
}

#[derive(Serialize)]
struct Row {
    id: String,
    created_at: String,
    database: String,
    engine: String,
    source: String,
    hostname: String,
    size: u64,
    bytes_stored: u64,
    /// `primary` or `archive` with --policy; the repository otherwise.
    location: String,
    /// For a base backup: the times and WAL it can be recovered to.
    #[serde(skip_serializing_if = "Option::is_none")]
    restorable: Option<Window>,
}

pub fn run(g: &Global, a: &PointsArgs, out: &Output) -> Result<i32> {
    let repos: Vec<(String, Arc<Repository>)> = match &a.policy {
        Some(file) => {
            let spec = Policy::load(file)?.spec;
            let mut r = vec![("primary".to_string(), policy_repo::open(&spec.repository)?)];
            if let Some(archive) = &spec.archive {
                r.push(("archive".into(), policy_repo::open(&archive.repository())?));
            }
            r
        }
        None => {
            let repo = repository::open(g, false, out.quiet)?;
            vec![(repo.location(), repo)]
        }
    };
    let mut rows: Vec<Row> = Vec::new();
    let mut lost = false;
    for (location, repo) in &repos {
        rows.extend(rows_of(repo, location, a.database.as_deref())?);
        lost |= warn_lost(repo, a.database.as_deref())?;
    }
    // A point the sessions say was written and that cannot be read makes
    // `restore latest` refuse; scripts must see it here too.
    let damaged = sqlvault::Kind::Repository.exit_code();
    rows.sort_by(|a, b| a.created_at.cmp(&b.created_at));
    let by_policy = a.policy.is_some();
    if out.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&rows).expect("rows serialise")
        );
        // A gap in the WAL is a failure scripts must see.
        let gaps = rows.iter().any(|r| {
            r.restorable
                .as_ref()
                .is_some_and(|w| w.missing.is_some() || !w.consistent)
        });
        return Ok(if lost {
            damaged
        } else if gaps {
            1
        } else {
            0
        });
    }
    if rows.is_empty() {
        if !out.quiet {
            let places: Vec<String> = repos.iter().map(|(_, r)| r.location()).collect();
            outln!("no restore points in `{}`", places.join("` or `"));
        }
        return Ok(if lost { damaged } else { 0 });
    }
    let mut b = Builder::default();
    let mut head = vec![
        "id",
        "created (UTC)",
        "database",
        "engine",
        "size",
        "stored",
        "source",
    ];
    if by_policy {
        head.push("location");
    }
    b.push_record(head);
    for r in &rows {
        let mut rec = vec![
            r.id[..8].to_string(),
            r.created_at.clone(),
            r.database.clone(),
            r.engine.clone(),
            HumanBytes(r.size).to_string(),
            HumanBytes(r.bytes_stored).to_string(),
            r.source.clone(),
        ];
        if by_policy {
            rec.push(r.location.clone());
        }
        b.push_record(rec);
    }
    let mut t = b.build();
    t.with(Style::rounded());
    outln!("{t}");
    let gaps = print_windows(&rows);
    Ok(if lost {
        damaged
    } else if gaps {
        1
    } else {
        0
    })
}

/// A warning for each restore point the session records say was written
/// (and nothing removed) whose manifest cannot be read; true if any.
fn warn_lost(repo: &Repository, database: Option<&str>) -> Result<bool> {
    let lost: Vec<_> = latest::lost_points(repo)?
        .into_iter()
        .filter(|l| database.is_none_or(|d| l.database == d))
        .collect();
    for l in &lost {
        errln!(
            "sqlvault: warning: restore point {} of `{}`, backed up {}, cannot be read: its manifest `points/{}` in `{}` is missing or damaged",
            &l.id[..8.min(l.id.len())],
            l.database,
            l.written,
            l.id,
            repo.location()
        );
    }
    if !lost.is_empty() {
        errln!(
            "  hint: copy the manifests back from another copy of the repository; `sqlvault verify` names every damaged object"
        );
    }
    Ok(!lost.is_empty())
}

/// The restorable window under the table, one line per base backup, and
/// a warning for each gap in the WAL; true when there is one.
fn print_windows(rows: &[Row]) -> bool {
    let mut gaps = false;
    for r in rows {
        let Some(w) = &r.restorable else { continue };
        if !w.consistent {
            gaps = true;
            errln!(
                "sqlvault: warning: base backup {} of cluster {} cannot be restored: the WAL up to its end ({}) is not all archived",
                &r.id[..8],
                r.database,
                w.from_lsn
            );
            continue;
        }
        outln!(
            "{} cluster {}: restorable from {} to {} (timeline {}, WAL up to {})",
            &r.id[..8],
            r.database,
            w.from,
            w.to,
            w.timeline,
            if w.last_segment.is_empty() {
                "none"
            } else {
                &w.last_segment
            }
        );
        if !w.forks.is_empty() {
            outln!("  timelines: {}", w.forks.join("; "));
        }
        if let Some(missing) = &w.missing {
            gaps = true;
            errln!(
                "sqlvault: warning: WAL segment {missing} of cluster {} is missing: from base backup {}, times after {} cannot be reached{}",
                r.database,
                &r.id[..8],
                w.to,
                match &w.resumes_at {
                    Some(t) =>
                        format!(" (the archive resumes at {t}; a newer base backup is needed)"),
                    None => String::new(),
                }
            );
        }
    }
    gaps
}

fn rows_of(repo: &Repository, location: &str, database: Option<&str>) -> Result<Vec<Row>> {
    let all = repo.points()?;
    let unreadable = repo.list_points()?.len().saturating_sub(all.len());
    if unreadable > 0 {
        errln!(
            "sqlvault: warning: {unreadable} restore point(s) in `{}` could not be read; run `sqlvault verify` to see which",
            repo.location()
        );
    }
    let mut windows = window::windows(repo, &all)?;
    Ok(all
        .into_iter()
        .filter(|(_, p)| database.is_none_or(|d| p.database == d))
        .map(|(id, p)| Row {
            restorable: windows.remove(&id),
            id: id.to_hex(),
            created_at: p.created_at.clone(),
            size: p.size(),
            bytes_stored: p.stats.bytes_stored,
            database: p.database,
            engine: p.engine,
            source: p.source,
            hostname: p.hostname,
            location: location.to_string(),
        })
        .collect())
}
