//! Progress on a terminal (indicatif) or as plain log lines otherwise.

use indicatif::{HumanBytes, ProgressBar, ProgressStyle};
use sqlvault::pipeline::ProgressFactory;
use sqlvault::progress::{NoProgress, Progress};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub enum Display {
    Bars,
    Lines,
    Off,
}

pub struct Factory(pub Display);

impl ProgressFactory for Factory {
    fn start(&self, verb: &str, label: &str) -> Box<dyn Progress> {
        match self.0 {
            Display::Off => Box::new(NoProgress),
            Display::Bars => {
                let bar = ProgressBar::new(0);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix} {wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta} {msg}",
                    )
                    .expect("valid template"),
                );
                bar.set_prefix(format!("{verb} {label}"));
                bar.enable_steady_tick(Duration::from_millis(200));
                Box::new(Bar(bar))
            }
            Display::Lines => {
                errln!("sqlvault: {verb} {label}: started");
                Box::new(Lines {
                    label: format!("{verb} {label}"),
                    total: AtomicU64::new(0),
                    done: AtomicU64::new(0),
                    last: Mutex::new(Instant::now()),
                })
            }
        }
    }
}

struct Bar(ProgressBar);

impl Progress for Bar {
    fn set_total(&self, bytes: u64) {
        self.0.set_length(bytes);
    }
    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
    fn phase(&self, what: &str) {
        self.0.set_message(what.to_string());
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// One line every 10 seconds, and one per phase: enough for a log file.
struct Lines {
    label: String,
    total: AtomicU64,
    done: AtomicU64,
    last: Mutex<Instant>,
}

impl Progress for Lines {
    fn set_total(&self, bytes: u64) {
        self.total.store(bytes, Ordering::Relaxed);
    }
    fn advance(&self, bytes: u64) {
        let done = self.done.fetch_add(bytes, Ordering::Relaxed) + bytes;
        let mut last = self.last.lock().unwrap();
        if last.elapsed() >= Duration::from_secs(10) {
            *last = Instant::now();
            let total = self.total.load(Ordering::Relaxed);
            let pct = (done * 100).checked_div(total).unwrap_or(0);
            errln!(
                "sqlvault: {}: {} of {} ({pct}%)",
                self.label,
                HumanBytes(done),
                HumanBytes(total)
            );
        }
    }
    fn phase(&self, what: &str) {
        errln!("sqlvault: {}: {what}", self.label);
    }
}
