//! Data on stdout, messages on stderr; the report as a table or JSON.

use super::Global;
use super::progress::{Display, Factory};
use indicatif::{HumanBytes, HumanDuration};
use sqlvault::pipeline::report::{SessionReport, Status};
use std::io::IsTerminal;
use std::time::Duration;
use tabled::builder::Builder;
use tabled::settings::Style;

pub struct Output {
    pub json: bool,
    pub quiet: bool,
    pub progress: Factory,
}

impl Output {
    pub fn new(g: &Global) -> Self {
        let display = if g.quiet || g.no_progress && !std::io::stderr().is_terminal() {
            Display::Off
        } else if std::io::stderr().is_terminal() && !g.no_progress {
            Display::Bars
        } else if g.no_progress {
            Display::Off
        } else {
            Display::Lines
        };
        Output {
            json: g.json,
            quiet: g.quiet,
            progress: Factory(display),
        }
    }

    /// Print a finished session and return its exit code.
    pub fn report(&self, r: &SessionReport) -> i32 {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(r).expect("report serialises")
            );
        } else if !self.quiet {
            print_table(r);
        }
        for d in &r.databases {
            if let (Some(e), false) = (&d.error, self.json) {
                eprintln!("sqlvault: error: {}: {e}", d.database);
                if let Some(h) = &d.hint {
                    eprintln!("  hint: {h}");
                }
            }
        }
        r.exit_code()
    }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Partial => "partial",
        Status::Failed => "FAILED",
    }
}

fn print_table(r: &SessionReport) {
    let mut b = Builder::default();
    let restore = r.command == "restore";
    b.push_record([
        "database",
        "status",
        "restore point",
        if restore { "written" } else { "read" },
        "new",
        "stored",
        "dedupe",
        "time",
        "throughput",
    ]);
    for d in &r.databases {
        b.push_record([
            d.database.clone(),
            status_word(d.status).to_string(),
            d.restore_point
                .as_deref()
                .map(|p| p[..8.min(p.len())].to_string())
                .unwrap_or_default(),
            HumanBytes(d.bytes_read).to_string(),
            HumanBytes(d.bytes_new).to_string(),
            HumanBytes(d.bytes_stored).to_string(),
            format!("{:.1}%", d.dedupe_ratio * 100.0),
            format!("{:.2}s", d.duration_secs),
            format!("{:.1} MiB/s", d.throughput_mib_s),
        ]);
    }
    let mut t = b.build();
    t.with(Style::rounded());
    println!("{t}");
    let failed = r
        .databases
        .iter()
        .filter(|d| d.status != Status::Ok)
        .count();
    println!(
        "{} {}: {} of {} ok, {} in {}",
        r.command,
        status_word(r.status),
        r.databases.len() - failed,
        r.databases.len(),
        r.repository,
        HumanDuration(Duration::from_secs_f64(r.duration_secs))
    );
    for e in &r.errors {
        println!("error: {e}");
    }
    for w in &r.warnings {
        println!("note: {w}");
    }
}

/// The one-line error (and hint) every failure ends with.
pub fn print_error(e: &sqlvault::Error) {
    eprintln!("sqlvault: error: {}", e.message);
    if let Some(h) = &e.hint {
        eprintln!("  hint: {h}");
    }
}
