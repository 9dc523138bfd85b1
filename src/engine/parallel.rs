//! Work shared among a few database connections: each thread opens its
//! own connection and takes the next item until none is left or one of
//! them failed; the first error wins.

use crate::error::{Error, Result};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Holds the first error any thread met; the others stop at their next step.
pub struct FirstError(Mutex<Option<Error>>);

impl FirstError {
    pub fn new() -> Self {
        FirstError(Mutex::new(None))
    }
    pub fn set(&self, e: Error) {
        self.0.lock().unwrap().get_or_insert(e);
    }
    pub fn is_set(&self) -> bool {
        self.0.lock().unwrap().is_some()
    }
    pub fn take(self) -> Option<Error> {
        self.0.into_inner().unwrap()
    }
}

impl Default for FirstError {
    fn default() -> Self {
        Self::new()
    }
}

/// Run `work` on every item, `jobs` threads at a time, each with its own
/// state from `open` (a connection); items are taken in order.
pub fn each<T: Sync, S>(
    jobs: usize,
    items: &[T],
    open: impl Fn() -> Result<S> + Sync,
    work: impl Fn(&mut S, &T) -> Result<()> + Sync,
) -> Result<()> {
    let next = AtomicUsize::new(0);
    let failed = FirstError::new();
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(items.len()) {
            s.spawn(|| {
                let r = (|| -> Result<()> {
                    let mut state = open()?;
                    loop {
                        crate::interrupt::check()?;
                        if failed.is_set() {
                            return Ok(());
                        }
                        let Some(item) = items.get(next.fetch_add(1, Ordering::Relaxed)) else {
                            return Ok(());
                        };
                        work(&mut state, item)?;
                    }
                })();
                if let Err(e) = r {
                    failed.set(e);
                }
            });
        }
    });
    match failed.take() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
