use crate::cli::output::Output;
use crate::cli::{Global, repository};
use clap::Args;
use indicatif::HumanBytes;
use sqlvault::pipeline::show::{self, PointDescription};
use sqlvault::{Result, pipeline};
use tabled::builder::Builder;
use tabled::settings::Style;

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Restore point id (or a unique prefix of at least 4 digits), or `latest`.
    #[arg(value_name = "POINT")]
    pub point: String,
    /// With `latest`: the latest point of this database.
    #[arg(long, value_name = "NAME")]
    pub database: Option<String>,
    /// Find the point in this policy's repository or its archive repository.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<std::path::PathBuf>,
}

pub fn run(g: &Global, a: &ShowArgs, out: &Output) -> Result<i32> {
    let repo = match &a.policy {
        Some(file) => {
            let policy = sqlvault::policy::Policy::load(file)?;
            pipeline::policy_repo::holding(&policy.spec, &a.point, a.database.as_deref())?
        }
        None => repository::open(g, false, out.quiet)?,
    };
    let (id, point) = sqlvault::pipeline::latest::resolve(&repo, &a.point, a.database.as_deref())?;
    let d = show::describe(&id, &point);
    if out.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&d).expect("description serialises")
        );
    } else {
        print(&d);
    }
    Ok(0)
}

fn print(d: &PointDescription) {
    let versions: Vec<String> = d.versions.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let lines = [
        ("restore point", d.id.clone()),
        ("database", d.database.clone()),
        ("engine", d.engine.clone()),
        ("source", d.source.clone()),
        ("kind", d.kind.to_string()),
        (
            "created (UTC)",
            format!("{} on {}", d.created_at, d.hostname),
        ),
        (
            "depends on",
            d.depends_on.clone().unwrap_or_else(|| "-".into()),
        ),
        ("size", HumanBytes(d.size).to_string()),
        ("stored", HumanBytes(d.bytes_stored).to_string()),
        ("versions", versions.join(", ")),
    ];
    for (k, v) in lines {
        outln!("{k:>14}: {v}");
    }
    if let Some(b) = &d.binlog {
        let text = |k: &str| {
            b.get(k)
                .map(|v| v.to_string().trim_matches('"').to_string())
        };
        let mut at = format!(
            "{}:{}",
            text("file").unwrap_or_default(),
            text("position").unwrap_or_default()
        );
        if let Some(g) = text("gtid").filter(|g| !g.is_empty()) {
            at.push_str(&format!(" (GTID {g})"));
        }
        outln!("{:>14}: {at}", "binary log");
    }
    let mut b = Builder::default();
    b.push_record(["stream", "size", "chunks"]);
    for s in &d.streams {
        b.push_record([
            s.name.clone(),
            HumanBytes(s.size).to_string(),
            s.chunks.to_string(),
        ]);
    }
    let mut t = b.build();
    t.with(Style::rounded());
    outln!("{t}");
    match &d.fingerprints {
        None => outln!("{}", show::NO_FINGERPRINTS),
        Some(f) => {
            if let Some(img) = &f.image_blake3 {
                outln!("file image BLAKE3: {img}");
            }
            let mut b = Builder::default();
            b.push_record(["table", "kind", "rows", "fingerprint"]);
            for e in &f.tables {
                b.push_record([
                    e.name.clone(),
                    e.kind.noun().to_string(),
                    e.rows.to_string(),
                    e.digest.clone(),
                ]);
            }
            let mut t = b.build();
            t.with(Style::rounded());
            outln!("{t}");
            outln!("{} fingerprints ({})", f.tables.len(), f.algorithm);
            for n in &d.not_fingerprinted {
                outln!("not fingerprinted: table {}: {}", n.table, n.reason);
            }
        }
    }
}
