use crate::cli::output::Output;
use crate::cli::{Global, repository};
use clap::Args;
use sqlvault::Result;
use tabled::builder::Builder;
use tabled::settings::Style;

#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// Show only the newest N sessions.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub last: usize,
}

pub fn run(g: &Global, a: &SessionsArgs, out: &Output) -> Result<i32> {
    let repo = repository::open(g, false, out.quiet)?;
    let all = repo.sessions()?;
    let skip = all.len().saturating_sub(a.last);
    let shown: Vec<serde_json::Value> = all.into_iter().skip(skip).map(|(_, v)| v).collect();
    if out.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&shown).expect("sessions serialise")
        );
        return Ok(0);
    }
    if shown.is_empty() {
        if !out.quiet {
            outln!("no sessions recorded in `{}`", repo.location());
        }
        return Ok(0);
    }
    let text = |v: &serde_json::Value, k: &str| {
        v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string()
    };
    let mut b = Builder::default();
    b.push_record([
        "started (UTC)",
        "command",
        "status",
        "databases",
        "failed",
        "duration",
    ]);
    for s in &shown {
        let dbs = s
            .get("databases")
            .and_then(|d| d.as_array())
            .cloned()
            .unwrap_or_default();
        let failed: Vec<String> = dbs
            .iter()
            .filter(|d| d.get("status").and_then(|x| x.as_str()) != Some("ok"))
            .map(|d| text(d, "database"))
            .collect();
        b.push_record([
            text(s, "started_at"),
            text(s, "command"),
            text(s, "status"),
            dbs.len().to_string(),
            failed.join(", "),
            format!(
                "{:.1}s",
                s.get("duration_secs")
                    .and_then(|x| x.as_f64())
                    .unwrap_or(0.0)
            ),
        ]);
    }
    let mut t = b.build();
    t.with(Style::rounded());
    outln!("{t}");
    Ok(0)
}
