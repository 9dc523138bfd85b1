//! Ctrl-C and SIGTERM: long work stops at the next chunk, cleans up its
//! temporary files, and leaves the repository as a kill would (valid).

use crate::error::{Error, Kind, Result};
use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Install the handler once; a second signal exits at once.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(Kind::Interrupted.exit_code());
        }
    });
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
