use crate::cli::output::Output;
use crate::cli::{Global, repository};
use clap::Args;
use indicatif::HumanBytes;
use serde::Serialize;
use sqlvault::Result;
use tabled::builder::Builder;
use tabled::settings::Style;

#[derive(Debug, Args)]
pub struct PointsArgs {
    /// Only restore points of this database.
    #[arg(long, value_name = "NAME")]
    pub database: Option<String>,
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
}

pub fn run(g: &Global, a: &PointsArgs, out: &Output) -> Result<i32> {
    let repo = repository::open(g, false, out.quiet)?;
    let all = repo.points()?;
    let unreadable = repo.list_points()?.len().saturating_sub(all.len());
    if unreadable > 0 {
        eprintln!(
            "sqlvault: warning: {unreadable} restore point(s) could not be read; run `sqlvault verify` to see which"
        );
    }
    let rows: Vec<Row> = all
        .into_iter()
        .filter(|(_, p)| a.database.as_deref().is_none_or(|d| p.database == d))
        .map(|(id, p)| Row {
            id: id.to_hex(),
            created_at: p.created_at.clone(),
            size: p.size(),
            bytes_stored: p.stats.bytes_stored,
            database: p.database,
            engine: p.engine,
            source: p.source,
            hostname: p.hostname,
        })
        .collect();
    if out.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).expect("rows serialise")
        );
        return Ok(0);
    }
    if rows.is_empty() {
        if !out.quiet {
            println!("no restore points in `{}`", repo.location());
        }
        return Ok(0);
    }
    let mut b = Builder::default();
    b.push_record([
        "id",
        "created (UTC)",
        "database",
        "engine",
        "size",
        "stored",
        "source",
    ]);
    for r in &rows {
        b.push_record([
            r.id[..8].to_string(),
            r.created_at.clone(),
            r.database.clone(),
            r.engine.clone(),
            HumanBytes(r.size).to_string(),
            HumanBytes(r.bytes_stored).to_string(),
            r.source.clone(),
        ]);
    }
    let mut t = b.build();
    t.with(Style::rounded());
    println!("{t}");
    Ok(0)
}
