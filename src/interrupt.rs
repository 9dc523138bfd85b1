//! Ctrl-C and SIGTERM: long work stops at the next chunk, cleans up its
//! temporary files, and leaves the repository as a kill would (valid).

use crate::error::{Error, Kind, Result};
use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Set by a long-running service (the worker) that wants its first signal
/// to mean "finish what you are doing, take nothing new".
static DRAIN_FIRST: AtomicBool = AtomicBool::new(false);
static DRAINING: AtomicBool = AtomicBool::new(false);

/// Install the handler once; a second signal exits at once.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if DRAIN_FIRST.load(Ordering::SeqCst) && !DRAINING.swap(true, Ordering::SeqCst) {
            return;
        }
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(Kind::Interrupted.exit_code());
        }
    });
}

/// From now on the first signal only asks to drain ([`draining`]); the
/// second interrupts as usual, the third exits at once.
pub fn drain_first() {
    DRAIN_FIRST.store(true, Ordering::SeqCst);
}

/// Whether a signal asked a service to stop taking work.
pub fn draining() -> bool {
    DRAINING.load(Ordering::Relaxed) || is_set()
}

/// Fail with an "interrupted" error once a signal has arrived.
pub fn check() -> Result<()> {
    if INTERRUPTED.load(Ordering::Relaxed) {
        Err(
            Error::new(Kind::Interrupted, "interrupted; nothing was half-written")
                .with_hint("run the command again to start over"),
        )
    } else {
        Ok(())
    }
}

pub fn is_set() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// Sleep `d`, waking early (with the interrupted error) on a signal.
pub fn sleep(d: std::time::Duration) -> Result<()> {
    let until = std::time::Instant::now() + d;
    loop {
        check()?;
        let now = std::time::Instant::now();
        if now >= until {
            return Ok(());
        }
        std::thread::sleep((until - now).min(std::time::Duration::from_millis(100)));
    }
}
