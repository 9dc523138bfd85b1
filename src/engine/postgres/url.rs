//! libpq-style connection URLs (`postgres://user:pw@host:port/db?sslmode=require`)
//! completed from the usual `PG*` environment variables and `~/.pgpass`,
//! as `psql` would. Passwords are kept out of every way of showing one.

use super::pgpass;
use crate::error::{Error, Result};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Used when neither the URL nor `PGCONNECT_TIMEOUT` says: long enough for
/// a slow network, short enough that an unreachable host fails clearly.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// libpq's `sslmode` values; `allow` is treated as `prefer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(s: &str) -> Result<SslMode> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(Error::usage(format!("unknown sslmode `{other}`"))
                    .with_hint("use disable, prefer, require, verify-ca or verify-full"));
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// A password that never shows up in `Debug` output and is wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(s: String) -> Self {
        Password(s)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Drop for Password {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// Where and how to connect; every field filled once [`ConnSpec::resolve`]d.
#[derive(Debug, Clone, Default)]
pub struct ConnSpec {
    /// Host names, addresses, or Unix socket directories (starting with `/`).
    pub hosts: Vec<String>,
    pub ports: Vec<u16>,
    pub user: Option<String>,
    pub password: Option<Password>,
    pub dbname: Option<String>,
    pub sslmode: Option<SslMode>,
    pub sslrootcert: Option<PathBuf>,
    pub connect_timeout: Option<Duration>,
    pub options: Option<String>,
    pub passfile: Option<PathBuf>,
}

fn bad_url(why: impl fmt::Display) -> Error {
    Error::usage(format!("bad PostgreSQL URL: {why}"))
        .with_hint("write it as postgres://user@host:port/database?sslmode=require")
}

fn decode(s: &str) -> Result<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| bad_url("a `%` not followed by two hex digits"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad_url("percent-encoded text is not UTF-8"))
}

/// Percent-encode what cannot stand as it is in a URL part.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || "-._~".contains(c) || !c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Whether `s` is a PostgreSQL URL (as opposed to a file path).
pub fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

impl ConnSpec {
    /// Parse a `postgres://` or `postgresql://` URL, without looking at the
    /// environment yet.
    pub fn parse(url: &str) -> Result<ConnSpec> {
        let rest = url
            .strip_prefix("postgresql://")
            .or_else(|| url.strip_prefix("postgres://"))
            .ok_or_else(|| bad_url("it must start with postgres:// or postgresql://"))?;
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match rest.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (rest, None),
        };
        let mut spec = ConnSpec::default();
        let hostlist = match authority.rsplit_once('@') {
            Some((userinfo, hosts)) => {
                let (user, pw) = match userinfo.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (userinfo, None),
                };
                if !user.is_empty() {
                    spec.user = Some(decode(user)?);
                }
                if let Some(p) = pw {
                    spec.password = Some(Password::new(decode(p)?));
                }
                hosts
            }
            None => authority,
        };
        if !hostlist.is_empty() {
            for part in hostlist.split(',') {
                let (host, port) = split_host_port(part)?;
                if !host.is_empty() {
                    spec.hosts.push(decode(&host)?);
                }
                if let Some(p) = port {
                    spec.ports.push(p);
                }
            }
        }
        if let Some(p) = path
            && !p.is_empty()
        {
            spec.dbname = Some(decode(p)?);
        }
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').ok_or_else(|| {
                bad_url(format!("parameter `{}` has no value", redact_param(pair)))
            })?;
            spec.set_param(&decode(k)?, decode(v)?)?;
        }
        Ok(spec)
    }

    fn set_param(&mut self, key: &str, value: String) -> Result<()> {
        match key {
            "host" => self.hosts = value.split(',').map(str::to_string).collect(),
            "port" => self.ports = parse_ports(&value)?,
            "user" => self.user = Some(value),
            "password" => self.password = Some(Password::new(value)),
            "dbname" => self.dbname = Some(value),
            "sslmode" => self.sslmode = Some(SslMode::parse(&value)?),
            "sslrootcert" => self.sslrootcert = Some(PathBuf::from(value)),
            "connect_timeout" => self.connect_timeout = Some(parse_timeout(&value)?),
            "options" => self.options = Some(value),
            "passfile" => self.passfile = Some(PathBuf::from(value)),
            // Accepted for compatibility with URLs written for libpq.
            "application_name" | "fallback_application_name" | "target_session_attrs" => {}
            other => {
                return Err(bad_url(format!("unknown parameter `{other}`")));
            }
        }
        Ok(())
    }

    /// Fill what the URL left out from the environment (`PGHOST`, `PGPORT`,
    /// `PGUSER`, `PGPASSWORD`, `PGDATABASE`, `PGSSLMODE`, ...), the defaults
    /// libpq uses, and the password file.
    pub fn resolve(mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<ConnSpec> {
        let var = |k: &str| env(k).filter(|v| !v.is_empty());
        if self.hosts.is_empty() {
            self.hosts = match var("PGHOST") {
                Some(h) => h.split(',').map(str::to_string).collect(),
                None if std::path::Path::new("/var/run/postgresql").is_dir() => {
                    vec!["/var/run/postgresql".into()]
                }
                None => vec!["localhost".into()],
            };
        }
        if self.ports.is_empty() {
            self.ports = match var("PGPORT") {
                Some(p) => parse_ports(&p)?,
                None => vec![5432],
            };
        }
        if self.ports.len() != 1 && self.ports.len() != self.hosts.len() {
            return Err(bad_url("give one port, or one port per host"));
        }
        if self.user.is_none() {
            self.user = Some(var("PGUSER").unwrap_or_else(os_user));
        }
        if self.dbname.is_none() {
            self.dbname = var("PGDATABASE").or_else(|| self.user.clone());
        }
        if self.sslmode.is_none() {
            self.sslmode = Some(match var("PGSSLMODE") {
                Some(m) => SslMode::parse(&m)?,
                None => SslMode::Prefer,
            });
        }
        if self.sslrootcert.is_none() {
            self.sslrootcert = var("PGSSLROOTCERT").map(PathBuf::from);
        }
        if self.connect_timeout.is_none() {
            self.connect_timeout = match var("PGCONNECT_TIMEOUT") {
                Some(t) => Some(parse_timeout(&t)?),
                None => Some(DEFAULT_CONNECT_TIMEOUT),
            };
        }
        if self.options.is_none() {
            self.options = var("PGOPTIONS");
        }
        if self.passfile.is_none() {
            self.passfile = var("PGPASSFILE")
                .map(PathBuf::from)
                .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".pgpass")));
        }
        if self.password.is_none() {
            self.password = var("PGPASSWORD").map(Password::new);
        }
        if self.password.is_none()
            && let Some(file) = &self.passfile
        {
            self.password = pgpass::lookup(
                file,
                &self.hosts[0],
                self.ports[0],
                self.dbname.as_deref().unwrap_or(""),
                self.user.as_deref().unwrap_or(""),
            )
            .map(Password::new);
        }
        Ok(self)
    }

    /// The same server with another database.
    pub fn with_dbname(&self, db: &str) -> ConnSpec {
        let mut s = self.clone();
        s.dbname = Some(db.to_string());
        s
    }

    pub fn dbname(&self) -> &str {
        self.dbname.as_deref().unwrap_or("")
    }

    pub fn user(&self) -> &str {
        self.user.as_deref().unwrap_or("")
    }

    /// The server part, safe to show: `postgres://user@host:port`.
    pub fn server(&self) -> String {
        let hosts: Vec<String> = self
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let port = self
                    .ports
                    .get(i)
                    .or(self.ports.first())
                    .copied()
                    .unwrap_or(5432);
                if h.starts_with('/') {
                    format!("{}:{port}", encode(h))
                } else if h.contains(':') {
                    format!("[{h}]:{port}")
                } else {
                    format!("{h}:{port}")
                }
            })
            .collect();
        format!("postgres://{}@{}", encode(self.user()), hosts.join(","))
    }

    /// The server and database, with no password: what restore points
    /// record as the source, so it must stay the same from one backup to
    /// the next.
    pub fn display(&self) -> String {
        format!("{}/{}", self.server(), encode(self.dbname()))
    }
}

fn split_host_port(part: &str) -> Result<(String, Option<u16>)> {
    if let Some(rest) = part.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| bad_url("an IPv6 address without its closing `]`"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(parse_port(p)?),
            None => None,
        };
        return Ok((host.to_string(), port));
    }
    match part.rsplit_once(':') {
        Some((h, p)) => Ok((h.to_string(), Some(parse_port(p)?))),
        None => Ok((part.to_string(), None)),
    }
}

fn parse_port(p: &str) -> Result<u16> {
    p.parse::<u16>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| bad_url(format!("`{p}` is not a port number")))
}

fn parse_ports(s: &str) -> Result<Vec<u16>> {
    s.split(',').map(parse_port).collect()
}

fn parse_timeout(s: &str) -> Result<Duration> {
    let n: u64 = s
        .trim()
        .parse()
        .map_err(|_| bad_url(format!("connect_timeout `{s}` is not a number of seconds")))?;
    // libpq treats anything below 2 seconds as 2.
    Ok(Duration::from_secs(if n == 0 { 0 } else { n.max(2) }))
}

/// A `password=...` parameter shown in an error loses its value.
fn redact_param(pair: &str) -> String {
    if pair.starts_with("password") {
        "password=***".into()
    } else {
        pair.to_string()
    }
}

/// The name of the user this process runs as.
pub(crate) fn os_user() -> String {
    // SAFETY: getpwuid returns a pointer into static storage or null; the
    // name is copied out at once.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if !pw.is_null() && !(*pw).pw_name.is_null() {
            return std::ffi::CStr::from_ptr((*pw).pw_name)
                .to_string_lossy()
                .into_owned();
        }
    }
    std::env::var("USER").unwrap_or_else(|_| "postgres".into())
}

/// Replace the password in anything that looks like a URL (`scheme://user:pw@host`,
/// `password=...` parameters) with `***`; used on every location shown to users.
pub fn redact(s: &str) -> String {
    let Some(start) = s.find("://") else {
        return s.to_string();
    };
    let auth_start = start + 3;
    let auth_end = s[auth_start..]
        .find(['/', '?'])
        .map_or(s.len(), |i| auth_start + i);
    let mut out = s[..auth_start].to_string();
    let authority = &s[auth_start..auth_end];
    match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => {
            match userinfo.split_once(':') {
                Some((u, _)) => out.push_str(&format!("{u}:***")),
                None => out.push_str(userinfo),
            }
            out.push('@');
            out.push_str(hosts);
        }
        None => out.push_str(authority),
    }
    let rest = &s[auth_end..];
    match rest.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            let q: Vec<String> = query.split('&').map(redact_param).collect();
            out.push_str(&q.join("&"));
        }
        None => out.push_str(rest),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn parses_a_full_url() {
        let s = ConnSpec::parse(
            "postgresql://alice:s%40cret@db.example:6432/my%20app?sslmode=verify-full&connect_timeout=5",
        )
        .unwrap();
        assert_eq!(s.hosts, vec!["db.example"]);
        assert_eq!(s.ports, vec![6432]);
        assert_eq!(s.user.as_deref(), Some("alice"));
        assert_eq!(s.password.as_ref().unwrap().expose(), "s@cret");
        assert_eq!(s.dbname.as_deref(), Some("my app"));
        assert_eq!(s.sslmode, Some(SslMode::VerifyFull));
        assert_eq!(s.connect_timeout, Some(Duration::from_secs(5)));
    }

    #[test]
    fn url_wins_over_environment_which_wins_over_defaults() {
        let env = |k: &str| match k {
            "PGUSER" => Some("envuser".to_string()),
            "PGPORT" => Some("7777".to_string()),
            "PGPASSWORD" => Some("envpw".to_string()),
            "PGHOST" => Some("envhost".to_string()),
            _ => None,
        };
        let s = ConnSpec::parse("postgres://bob@/db1")
            .unwrap()
            .resolve(&env)
            .unwrap();
        assert_eq!(s.user(), "bob");
        assert_eq!(s.hosts, vec!["envhost"]);
        assert_eq!(s.ports, vec![7777]);
        assert_eq!(s.password.as_ref().unwrap().expose(), "envpw");
        let s = ConnSpec::parse("postgres://h/")
            .unwrap()
            .resolve(&env)
            .unwrap();
        assert_eq!(s.user(), "envuser");
        assert_eq!(s.dbname(), "envuser", "dbname defaults to the user");
        assert_eq!(s.sslmode, Some(SslMode::Prefer));
        assert_eq!(s.connect_timeout, Some(DEFAULT_CONNECT_TIMEOUT));
    }

    #[test]
    fn ipv6_unix_sockets_and_host_lists() {
        let s = ConnSpec::parse("postgres://[::1]:5433,other/x").unwrap();
        assert_eq!(s.hosts, vec!["::1", "other"]);
        assert_eq!(s.ports, vec![5433]);
        let s = ConnSpec::parse("postgres://u@%2Ftmp%2Fpg/x").unwrap();
        assert_eq!(s.hosts, vec!["/tmp/pg"]);
        let s = ConnSpec::parse("postgres:///x?host=/run/pg&port=5439").unwrap();
        assert_eq!(s.hosts, vec!["/run/pg"]);
        assert_eq!(s.ports, vec![5439]);
    }

    #[test]
    fn display_never_holds_the_password() {
        let s = ConnSpec::parse("postgres://u:topsecret@h:5/d?password=x2")
            .unwrap()
            .resolve(&no_env)
            .unwrap();
        assert_eq!(s.display(), "postgres://u@h:5/d");
        assert!(!format!("{s:?}").contains("topsecret"));
    }

    #[test]
    fn bad_urls_are_usage_errors_without_secrets() {
        for bad in [
            "postgres://u:pw@h:notaport/d",
            "postgres://h/d?sslmode=sometimes",
            "postgres://h/d?password",
            "postgres://h/d?frobnicate=1",
            "postgres://h/d%zz",
        ] {
            let e = ConnSpec::parse(bad).unwrap_err();
            assert_eq!(e.kind, crate::Kind::Usage, "{bad}");
            assert!(!e.message.contains("pw@"), "{}", e.message);
        }
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact("postgresql://h/db?sslmode=require&password=pw"),
            "postgresql://h/db?sslmode=require&password=***"
        );
        assert_eq!(redact("/srv/app.db"), "/srv/app.db");
        assert_eq!(
            redact("postgres://u:p@ss:w@h:1/d"),
            "postgres://u:***@h:1/d"
        );
    }
}
