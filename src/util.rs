//! Small helpers shared across layers.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Current time in UTC, RFC 3339 with seconds, e.g. `2026-11-21T10:00:00.123Z`.
pub fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .expect("a current time formats")
}

/// The machine's cores, 2 when that cannot be known.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates
    // within it or truncates.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// MiB per second, 0 when no time passed.
pub fn throughput_mib_s(bytes: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        bytes as f64 / (1024.0 * 1024.0) / secs
    } else {
        0.0
    }
}

/// A password kept in a file: its first line, without the line ending, so
/// that files written by `echo` and by editors read the same.
pub fn password_from_file(path: &std::path::Path) -> std::io::Result<zeroize::Zeroizing<String>> {
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(path)?);
    Ok(zeroize::Zeroizing::new(
        text.lines().next().unwrap_or_default().to_string(),
    ))
}
