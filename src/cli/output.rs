//! Data on stdout, messages on stderr; the report as a table or JSON.

use super::Global;
use super::progress::{Display, Factory};
use indicatif::{HumanBytes, HumanDuration};
use sqlvault::pipeline::report::{ItemReport, SessionReport, Status};
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

    /// Print a session report: JSON, or a table unless quiet.
    pub fn print(&self, r: &SessionReport) {
        if self.json {
            outln!(
                "{}",
                serde_json::to_string_pretty(r).expect("report serialises")
            );
        } else if !self.quiet {
            print_table(r);
        }
    }

    /// Print a finished session, then each database's error, and return
    /// the exit code.
    pub fn report(&self, r: &SessionReport) -> i32 {
        self.print(r);
        for d in &r.databases {
            if let Some(e) = &d.error {
                errln!("sqlvault: error: {}: {e}", d.database);
                if let Some(h) = &d.hint {
                    errln!("  hint: {h}");
                }
            }
        }
        // A signal that came after the work was done changes nothing.
        if sqlvault::interrupt::is_set() && r.status != Status::Ok {
            return sqlvault::Kind::Interrupted.exit_code();
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

fn short(id: &Option<String>) -> String {
    id.as_deref()
        .map(|p| p[..8.min(p.len())].to_string())
        .unwrap_or_default()
}

fn print_table(r: &SessionReport) {
    let mut b = Builder::default();
    let time = |d: &ItemReport| format!("{:.2}s", d.duration_secs);
    let speed = |d: &ItemReport| format!("{:.1} MiB/s", d.throughput_mib_s);
    match r.command.as_str() {
        "backup" | "backup --policy" | "run" | "run --dry-run" => {
            b.push_record([
                "database",
                "status",
                "kind",
                "restore point",
                "read",
                "new",
                "stored",
                "dedupe",
                "time",
                "throughput",
                "note",
            ]);
            for d in &r.databases {
                b.push_record([
                    d.database.clone(),
                    status_word(d.status).into(),
                    d.kind.map(|k| k.to_string()).unwrap_or_default(),
                    short(&d.restore_point),
                    HumanBytes(d.bytes_read).to_string(),
                    HumanBytes(d.bytes_new).to_string(),
                    HumanBytes(d.bytes_stored).to_string(),
                    format!("{:.1}%", d.dedupe_ratio * 100.0),
                    time(d),
                    speed(d),
                    d.note
                        .clone()
                        .or_else(|| d.error.clone())
                        .unwrap_or_default(),
                ]);
            }
        }
        "prune" | "prune --dry-run" | "archive" | "archive --dry-run" => {
            b.push_record(["database", "restore point", "outcome"]);
            for d in &r.databases {
                b.push_record([
                    d.database.clone(),
                    short(&d.restore_point),
                    d.note.clone().unwrap_or_default(),
                ]);
            }
        }
        "repair" | "repair --dry-run" => {
            b.push_record(["database", "restore point", "problem", "outcome"]);
            for d in &r.databases {
                b.push_record([
                    d.database.clone(),
                    short(&d.restore_point),
                    d.error.clone().unwrap_or_default(),
                    d.note.clone().unwrap_or_default(),
                ]);
            }
        }
        "restore" => {
            b.push_record([
                "database",
                "status",
                "restore point",
                "target",
                "written",
                "time",
                "throughput",
                "check",
            ]);
            for d in &r.databases {
                b.push_record([
                    d.database.clone(),
                    status_word(d.status).into(),
                    short(&d.restore_point),
                    d.target.clone().unwrap_or_default(),
                    HumanBytes(d.bytes_read).to_string(),
                    time(d),
                    speed(d),
                    d.check
                        .clone()
                        .or_else(|| d.error.clone())
                        .unwrap_or_default(),
                ]);
            }
        }
        _ => {
            b.push_record([
                "database",
                "status",
                "restore point",
                "size",
                "time",
                "check or error",
            ]);
            for d in &r.databases {
                b.push_record([
                    d.database.clone(),
                    status_word(d.status).into(),
                    short(&d.restore_point),
                    HumanBytes(d.bytes_read).to_string(),
                    time(d),
                    d.error
                        .clone()
                        .or_else(|| d.check.clone())
                        .or_else(|| d.note.clone())
                        .unwrap_or_default(),
                ]);
            }
        }
    }
    // Jobs run by workers say which worker did each.
    if r.databases.iter().any(|d| d.worker.is_some()) {
        b.push_column(
            std::iter::once("worker".to_string()).chain(
                r.databases
                    .iter()
                    .map(|d| d.worker.as_ref().map(|w| w.to_string()).unwrap_or_default()),
            ),
        );
    }
    let mut t = b.build();
    t.with(Style::rounded());
    outln!("{t}");
    let failed = r
        .databases
        .iter()
        .filter(|d| d.status != Status::Ok)
        .count();
    outln!(
        "{} {}: {} of {} ok, {} in {}",
        r.command,
        status_word(r.status),
        r.databases.len() - failed,
        r.databases.len(),
        r.repository,
        HumanDuration(Duration::from_secs_f64(r.duration_secs))
    );
    for e in &r.errors {
        outln!("error: {e}");
    }
    for w in &r.warnings {
        outln!("warning: {w}");
    }
    for n in &r.notes {
        outln!("{n}");
    }
}

/// The one-line error (and hint) every failure ends with.
pub fn print_error(e: &sqlvault::Error) {
    errln!("sqlvault: error: {}", e.message);
    if let Some(h) = &e.hint {
        errln!("  hint: {h}");
    }
}
