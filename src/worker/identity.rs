//! Who this worker is: host, process, version and the hash of the exact
//! executable, logged at start and put in every result, so a job's outcome
//! can be traced to the build that produced it.

use crate::pipeline::report::WorkerInfo;
use sha2::{Digest, Sha256};

pub fn this_worker() -> WorkerInfo {
    let binary_sha256 = std::env::current_exe()
        .and_then(std::fs::File::open)
        .and_then(|mut f| {
            let mut h = Sha256::new();
            std::io::copy(&mut f, &mut h)?;
            Ok(hex::encode(h.finalize()))
        })
        .unwrap_or_else(|_| "unknown".into());
    WorkerInfo {
        host: crate::util::hostname(),
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        binary_sha256,
    }
}
