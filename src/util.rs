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

/// The first line of a secret file's bytes, without its line ending
/// (`\n` or `\r\n`), so that files written by `echo` and by editors read
/// the same.
pub fn first_line(bytes: &[u8]) -> &[u8] {
    let line = bytes.split(|&c| c == b'\n').next().unwrap_or(&[]);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A password kept in a file: its [`first_line`], as text.
pub fn password_from_file(path: &std::path::Path) -> std::io::Result<zeroize::Zeroizing<String>> {
    let bytes = zeroize::Zeroizing::new(std::fs::read(path)?);
    let line = std::str::from_utf8(first_line(&bytes))
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))?;
    Ok(zeroize::Zeroizing::new(line.to_string()))
}

#[cfg(test)]
mod tests {
    use super::first_line;

    #[test]
    fn first_line_drops_the_line_ending_and_the_rest() {
        assert_eq!(first_line(b"s3cret\r\nnext"), b"s3cret");
        assert_eq!(first_line(b"s3cret\n"), b"s3cret");
        assert_eq!(first_line(b"s3cret\r"), b"s3cret");
        assert_eq!(first_line(b"s3cret"), b"s3cret");
        assert_eq!(first_line(b""), b"");
    }
}
