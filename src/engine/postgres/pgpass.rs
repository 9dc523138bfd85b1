//! `~/.pgpass` lookup, as libpq does it: lines of
//! `hostname:port:database:username:password`, `*` matching anything,
//! `\` escaping `:` and `\`, the first matching line winning. A file that
//! others can read is ignored, as libpq ignores it.

use std::path::Path;

/// The password for this connection, if the file has one.
pub fn lookup(file: &Path, host: &str, port: u16, db: &str, user: &str) -> Option<String> {
    let meta = std::fs::metadata(file).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 || !meta.is_file() {
            return None;
        }
    }
    let text = std::fs::read_to_string(file).ok()?;
    // A Unix socket connection matches `localhost` entries.
    let host = if host.starts_with('/') {
        "localhost"
    } else {
        host
    };
    find(&text, host, &port.to_string(), db, user)
}

fn find(text: &str, host: &str, port: &str, db: &str, user: &str) -> Option<String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .find_map(|line| {
            let f = fields(line);
            if f.len() < 5 {
                return None;
            }
            let ok = |pat: &str, v: &str| pat == "*" || pat == v;
            (ok(&f[0], host) && ok(&f[1], port) && ok(&f[2], db) && ok(&f[3], user))
                .then(|| f[4..].join(":"))
        })
}

/// Split on unescaped `:`, removing the escapes.
fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.last_mut().unwrap().push(n);
                }
            }
            ':' if out.len() < 5 => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# comment\n\
        db1.example:5432:app:alice:first\n\
        *:*:app:alice:second\n\
        *:5433:*:*:wild\\:card\\\\\n\
        localhost:5432:*:bob:local\n";

    #[test]
    fn first_matching_line_wins() {
        assert_eq!(
            find(FILE, "db1.example", "5432", "app", "alice").as_deref(),
            Some("first")
        );
        assert_eq!(
            find(FILE, "other", "5432", "app", "alice").as_deref(),
            Some("second")
        );
        assert_eq!(
            find(FILE, "x", "5433", "y", "z").as_deref(),
            Some("wild:card\\")
        );
        assert_eq!(find(FILE, "x", "5432", "y", "z"), None);
    }

    #[test]
    fn unix_sockets_match_localhost_and_loose_files_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pgpass");
        std::fs::write(&p, FILE).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            lookup(&p, "/var/run/postgresql", 5432, "d", "bob").as_deref(),
            Some("local")
        );
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(lookup(&p, "localhost", 5432, "d", "bob"), None);
        assert_eq!(lookup(&dir.path().join("missing"), "h", 1, "d", "u"), None);
    }
}
