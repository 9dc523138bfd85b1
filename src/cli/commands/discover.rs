use crate::cli::output::Output;
use crate::cli::{Global, repository};
use clap::Args;
use indicatif::HumanBytes;
use sqlvault::engine::postgres::Postgres;
use sqlvault::engine::postgres::discover::{self, DatabaseRow};
use sqlvault::{Error, Result};
use tabled::builder::Builder;
use tabled::settings::Style;

#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// The server, as a postgres:// URL (the database part is not needed).
    #[arg(value_name = "SERVER")]
    pub server: String,
    /// Also list template databases.
    #[arg(long)]
    pub include_templates: bool,
}

pub fn run(g: &Global, a: &DiscoverArgs, out: &Output) -> Result<i32> {
    if !sqlvault::engine::postgres::url::is_postgres_url(&a.server) {
        return Err(Error::usage("discover needs a postgres:// URL")
            .with_hint("give the server as postgres://user@host:port/"));
    }
    let server = Postgres::from_url(&a.server)?;
    let mut rows = discover::discover(&server, a.include_templates)?;
    mark_protected(g, out, &mut rows)?;
    if out.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).expect("rows serialise")
        );
        return Ok(0);
    }
    if out.quiet {
        return Ok(0);
    }
    let mut b = Builder::default();
    b.push_record([
        "database",
        "size",
        "owner",
        "encoding",
        "tables",
        "protected",
        "warnings",
    ]);
    for r in &rows {
        b.push_record([
            r.name.clone(),
            HumanBytes(r.size_bytes.max(0) as u64).to_string(),
            r.owner.clone(),
            r.encoding.clone(),
            r.tables
                .map(|n| n.to_string())
                .unwrap_or_else(|| "?".into()),
            if r.protected { "yes" } else { "no" }.into(),
            r.warnings.join("; "),
        ]);
    }
    let mut t = b.build();
    t.with(Style::rounded());
    println!("{t}");
    println!(
        "{} databases on {}, {} protected",
        rows.len(),
        server.spec.server(),
        rows.iter().filter(|r| r.protected).count()
    );
    Ok(0)
}

/// A database is protected when the repository holds restore points of
/// it. Without --repo and with no default repository yet, none is.
fn mark_protected(g: &Global, out: &Output, rows: &mut [DatabaseRow]) -> Result<()> {
    if g.repo.is_none() && !repository::default_paths()?.repo.join("config").exists() {
        return Ok(());
    }
    let repo = repository::open(g, false, out.quiet)?;
    let points = repo.points()?;
    for r in rows.iter_mut() {
        r.protected = points
            .iter()
            .any(|(_, p)| p.engine == "postgres" && p.source == r.source);
    }
    Ok(())
}
