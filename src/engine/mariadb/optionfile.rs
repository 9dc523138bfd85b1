//! MySQL/MariaDB option files (`~/.my.cnf`, or one named with
//! `--defaults-file`): the connection settings the command-line clients
//! and `mariadb-dump` read from them.
//!
//! Only the groups every client reads are looked at: `[client]`,
//! `[client-server]`, `[client-mariadb]` and `[mariadb-client]`. `[mysql]`
//! configures the interactive `mysql` program alone (the dump tools ignore
//! it), so a password put there for it is not taken. As in the clients, a
//! later line wins over an earlier one, a world-writable file is ignored,
//! and `!include` directives are not followed.

use super::url::Password;
use crate::error::{Error, Result, show_path};
use std::path::Path;

const GROUPS: &[&str] = &[
    "client",
    "client-server",
    "client-mariadb",
    "mariadb-client",
];

/// What an option file says about connecting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientOptions {
    pub user: Option<String>,
    pub password: Option<Password>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub socket: Option<String>,
}

/// Read `path`; a missing file is `None` unless it was named explicitly,
/// when it is an error, as for the clients' `--defaults-file`.
pub fn read(path: &Path, explicit: bool) -> Result<Option<ClientOptions>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            if !explicit {
                // The clients carry on without a home option file they cannot read.
                return Ok(None);
            }
            return Err(
                Error::usage(format!("cannot read option file {}: {e}", show_path(path)))
                    .with_hint("check the path given to --defaults-file"),
            );
        }
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o002 != 0
        {
            if !explicit {
                return Ok(None);
            }
            return Err(Error::usage(format!(
                "option file {} is writable by everyone, so it is not trusted",
                show_path(path)
            ))
            .with_hint("chmod 600 it"));
        }
    }
    parse(&text).map(Some).map_err(|why| {
        Error::usage(format!("option file {}: {why}", show_path(path)))
            .with_hint("write the [client] settings as key=value lines")
    })
}

/// The settings of the client groups of an option file's text.
pub fn parse(text: &str) -> Result<ClientOptions, String> {
    let mut out = ClientOptions::default();
    let mut in_client_group = false;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('!') {
            continue;
        }
        if let Some(group) = line.strip_prefix('[') {
            let group = group
                .split_once(']')
                .map(|(g, _)| g.trim().to_ascii_lowercase())
                .ok_or_else(|| format!("line {}: a group name without its `]`", n + 1))?;
            in_client_group = GROUPS.contains(&group.as_str());
            continue;
        }
        if !in_client_group {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k.trim(), Some(value_of(v))),
            None => (line, None),
        };
        // The clients take `-` and `_` as the same character in names.
        let key = key.replace('_', "-").to_ascii_lowercase();
        match (key.as_str(), value) {
            ("user", Some(v)) => out.user = Some(v),
            // A bare `password` asks the interactive client to prompt:
            // nothing to take here.
            ("password", Some(v)) => out.password = Some(Password::new(v)),
            ("host", Some(v)) => out.host = Some(v),
            ("socket", Some(v)) => out.socket = Some(v),
            ("port", Some(v)) => {
                let port =
                    v.parse::<u16>().ok().filter(|&p| p > 0).ok_or_else(|| {
                        format!("line {}: port `{v}` is not a port number", n + 1)
                    })?;
                out.port = Some(port);
            }
            _ => {}
        }
    }
    Ok(out)
}

/// A value as the clients read it: quotes removed (with `\` escapes
/// inside them), else up to a ` #` comment, trimmed.
fn value_of(v: &str) -> String {
    let v = v.trim();
    let mut chars = v.chars();
    match chars.next() {
        Some(q @ ('\'' | '"')) => {
            let mut out = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some('n') => out.push('\n'),
                        Some('t') => out.push('\t'),
                        Some('s') => out.push(' '),
                        Some(other) => out.push(other),
                        None => out.push('\\'),
                    },
                    c if c == q => break,
                    c => out.push(c),
                }
            }
            out
        }
        _ => {
            let end = v
                .char_indices()
                .find(|&(i, c)| c == '#' && v[..i].ends_with(char::is_whitespace))
                .map_or(v.len(), |(i, _)| i);
            v[..end].trim_end().to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_client_groups_only() {
        let o = parse(
            "# comment\n[mysqld]\nport=1\nuser=mysql\n\n[client]\nuser = app\n\
             password=\"s3c#ret\"\n[mysql]\npassword=ignored\n[client-mariadb]\nport = 3307 # the replica\n\
             socket=/run/m.sock\nhost=db.example\n!includedir /etc/mysql/conf.d/\n",
        )
        .unwrap();
        assert_eq!(o.user.as_deref(), Some("app"));
        assert_eq!(o.password.as_ref().unwrap().expose(), "s3c#ret");
        assert_eq!(o.port, Some(3307));
        assert_eq!(o.socket.as_deref(), Some("/run/m.sock"));
        assert_eq!(o.host.as_deref(), Some("db.example"));
    }

    #[test]
    fn later_lines_win_and_bare_password_is_nothing() {
        let o = parse("[client]\npassword=one\n[CLIENT]\npassword = 'two\\'s'\nuser\n").unwrap();
        assert_eq!(o.password.as_ref().unwrap().expose(), "two's");
        assert_eq!(o.user, None);
        let o = parse("[client]\npassword\n").unwrap();
        assert_eq!(o.password, None);
    }

    #[test]
    fn bad_files_say_where() {
        assert!(parse("[client\n").unwrap_err().contains("line 1"));
        assert!(parse("[client]\nport=x\n").unwrap_err().contains("line 2"));
        // A bad port outside the client groups is not ours to judge.
        assert!(parse("[mysqld]\nport=x\n").is_ok());
    }

    #[test]
    fn files_missing_unreadable_or_writable_by_all() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("my.cnf");
        assert_eq!(read(&f, false).unwrap(), None);
        let e = read(&f, true).unwrap_err();
        assert_eq!(e.kind, crate::Kind::Usage);
        std::fs::write(&f, "[client]\npassword=pw\n").unwrap();
        assert!(read(&f, true).unwrap().unwrap().password.is_some());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o666)).unwrap();
            assert_eq!(read(&f, false).unwrap(), None);
            assert!(
                read(&f, true)
                    .unwrap_err()
                    .message
                    .contains("writable by everyone")
            );
        }
    }
}
