use crate::cli::output::Output;
use crate::cli::{Global, repository};
use clap::Args;
use indicatif::HumanBytes;
use serde::Serialize;
use sqlvault::Result;
use sqlvault::pipeline::policy_repo;
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
    for (location, repo) in &repos {
        rows.extend(rows_of(repo, location, a.database.as_deref())?);
    }
    rows.sort_by(|a, b| a.created_at.cmp(&b.created_at));
    let by_policy = a.policy.is_some();
    if out.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).expect("rows serialise")
        );
        return Ok(0);
    }
    if rows.is_empty() {
        if !out.quiet {
            let places: Vec<String> = repos.iter().map(|(_, r)| r.location()).collect();
            println!("no restore points in `{}`", places.join("` or `"));
        }
        return Ok(0);
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
    println!("{t}");
    Ok(0)
}

fn rows_of(repo: &Repository, location: &str, database: Option<&str>) -> Result<Vec<Row>> {
    let all = repo.points()?;
    let unreadable = repo.list_points()?.len().saturating_sub(all.len());
    if unreadable > 0 {
        eprintln!(
            "sqlvault: warning: {unreadable} restore point(s) in `{}` could not be read; run `sqlvault verify` to see which",
            repo.location()
        );
    }
    Ok(all
        .into_iter()
        .filter(|(_, p)| database.is_none_or(|d| p.database == d))
        .map(|(id, p)| Row {
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
