use crate::cli::output::Output;
use crate::cli::{Global, repository};
use clap::Args;
use indicatif::HumanBytes;
use sqlvault::engine::azuresql;
use sqlvault::engine::mariadb::{self, MariaDb};
use sqlvault::engine::postgres::Postgres;
use sqlvault::engine::postgres::discover;
use sqlvault::{Error, Result};
use std::collections::HashSet;
use std::path::PathBuf;
use tabled::builder::Builder;
use tabled::settings::Style;

#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// The server, as a postgres://, mariadb://, mysql:// or azuresql://
    /// URL (the database part is not needed).
    #[arg(value_name = "SERVER")]
    pub server: String,
    /// Also list template databases (PostgreSQL).
    #[arg(long)]
    pub include_templates: bool,
    /// Read the MariaDB/MySQL client options (user, password, host, port,
    /// socket) from this option file instead of ~/.my.cnf, as the clients'
    /// --defaults-file does.
    #[arg(long, value_name = "FILE")]
    pub defaults_file: Option<PathBuf>,
    /// Azure SQL: the server's subscription, when the URL gives none.
    #[arg(long, value_name = "ID")]
    pub subscription: Option<String>,
    /// Azure SQL: the server's resource group, when the URL gives none.
    #[arg(long, value_name = "NAME")]
    pub resource_group: Option<String>,
}

pub fn run(g: &Global, a: &DiscoverArgs, out: &Output) -> Result<i32> {
    if (a.subscription.is_some() || a.resource_group.is_some())
        && !azuresql::is_azuresql_url(&a.server)
    {
        return Err(Error::usage(
            "--subscription and --resource-group are for azuresql:// servers",
        ));
    }
    if mariadb::is_mariadb_url(&a.server) {
        return run_mariadb(g, a, out);
    }
    if azuresql::is_azuresql_url(&a.server) {
        return run_azuresql(g, a, out);
    }
    if !sqlvault::engine::postgres::url::is_postgres_url(&a.server) {
        return Err(Error::usage(
            "discover needs a postgres://, mariadb://, mysql:// or azuresql:// URL",
        )
        .with_hint("give the server as postgres://user@host:port/ or mariadb://user@host:port/"));
    }
    if a.defaults_file.is_some() {
        return Err(
            Error::usage("--defaults-file is for MariaDB and MySQL servers")
                .with_hint("give a PostgreSQL password in the URL, PGPASSWORD or ~/.pgpass"),
        );
    }
    let server = Postgres::from_url(&a.server)?;
    let mut rows = discover::discover(&server, a.include_templates)?;
    let protected = protected_sources(g, out, "postgres")?;
    for r in rows.iter_mut() {
        r.protected = protected.contains(&r.source);
    }
    if print_json(out, &rows) || out.quiet {
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
            yes_no(r.protected),
            r.warnings.join("; "),
        ]);
    }
    let summary = (rows.len(), rows.iter().filter(|r| r.protected).count());
    print_table(b, &summary, &server.spec.server());
    Ok(0)
}

fn run_mariadb(g: &Global, a: &DiscoverArgs, out: &Output) -> Result<i32> {
    if a.include_templates {
        return Err(
            Error::usage("--include-templates is for PostgreSQL servers")
                .with_hint("MariaDB and MySQL have no template databases; leave it out"),
        );
    }
    let server = MariaDb::from_url(&a.server, a.defaults_file.clone())?;
    let mut rows = mariadb::discover::discover(&server)?;
    let protected = protected_sources(g, out, mariadb::ENGINE)?;
    for r in rows.iter_mut() {
        r.protected = protected.contains(&r.source);
    }
    if print_json(out, &rows) || out.quiet {
        return Ok(0);
    }
    let mut b = Builder::default();
    b.push_record([
        "database",
        "size",
        "tables",
        "engines",
        "charset",
        "protected",
        "warnings",
    ]);
    for r in &rows {
        b.push_record([
            r.name.clone(),
            HumanBytes(r.size_bytes).to_string(),
            r.tables.to_string(),
            r.engines.join(", "),
            r.charset.clone(),
            yes_no(r.protected),
            r.warnings.join("; "),
        ]);
    }
    let summary = (rows.len(), rows.iter().filter(|r| r.protected).count());
    print_table(b, &summary, &server.spec.server());
    Ok(0)
}

fn run_azuresql(g: &Global, a: &DiscoverArgs, out: &Output) -> Result<i32> {
    if a.include_templates || a.defaults_file.is_some() {
        return Err(Error::usage(
            "--include-templates and --defaults-file are not for Azure SQL servers",
        )
        .with_hint("leave them out"));
    }
    let mut url = azuresql::AzureSqlUrl::parse(&a.server)?;
    url.subscription = url.subscription.or_else(|| a.subscription.clone());
    url.resource_group = url.resource_group.or_else(|| a.resource_group.clone());
    let mut rows = azuresql::discover::discover(&url)?;
    let protected = protected_sources(g, out, sqlvault::engine::bacpac::ENGINE)?;
    for r in rows.iter_mut() {
        r.protected = protected.contains(&r.source);
    }
    if print_json(out, &rows) || out.quiet {
        return Ok(0);
    }
    let mut b = Builder::default();
    b.push_record([
        "database",
        "edition",
        "service objective",
        "max size",
        "status",
        "protected",
    ]);
    for r in &rows {
        b.push_record([
            r.name.clone(),
            r.edition.clone(),
            r.service_objective.clone(),
            r.max_size_bytes
                .map(|n| HumanBytes(n).to_string())
                .unwrap_or_else(|| "?".into()),
            r.status.clone(),
            yes_no(r.protected),
        ]);
    }
    let summary = (rows.len(), rows.iter().filter(|r| r.protected).count());
    print_table(b, &summary, &url.host);
    Ok(0)
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

/// With --json, the rows as JSON on stdout; true when printed.
fn print_json<T: serde::Serialize>(out: &Output, rows: &[T]) -> bool {
    if out.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(rows).expect("rows serialise")
        );
    }
    out.json
}

fn print_table(b: Builder, (all, protected): &(usize, usize), server: &str) {
    let mut t = b.build();
    t.with(Style::rounded());
    outln!("{t}");
    outln!("{all} databases on {server}, {protected} protected");
}

/// The sources of `engine` that have restore points: a database is
/// protected when its source is one of them. Without --repo and with no
/// default repository yet, none is.
fn protected_sources(g: &Global, out: &Output, engine: &str) -> Result<HashSet<String>> {
    if g.repo.is_none() && !repository::default_paths()?.repo.join("config").exists() {
        return Ok(HashSet::new());
    }
    let repo = repository::open(g, false, out.quiet)?;
    Ok(repo
        .points()?
        .into_iter()
        .filter(|(_, p)| p.engine == engine)
        .map(|(_, p)| p.source)
        .collect())
}
