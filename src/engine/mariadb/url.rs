//! Connection URLs for MariaDB and MySQL servers
//! (`mariadb://user:pw@host:port/db?socket=/run/mysqld/mysqld.sock&ssl-mode=required`,
//! or the same with `mysql://`), completed the way the `mariadb` and
//! `mysql` clients complete their options: from `MYSQL_PWD` and the other
//! `MYSQL_*` variables, and from an option file (`~/.my.cnf`, or the one
//! given with `--defaults-file`).
//!
//! Where the password comes from, first found wins: the URL, an option file
//! named with `--defaults-file` (named on the command line, so it beats the
//! environment), `MYSQL_PWD`, then `~/.my.cnf`.

use super::optionfile::{self, ClientOptions};
pub use crate::engine::postgres::url::Password;
use crate::engine::postgres::url::encode;
use crate::error::{Error, Result};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Used when the URL does not say: long enough for a slow network, short
/// enough that an unreachable host fails clearly.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The server's port when nothing names one.
pub const DEFAULT_PORT: u16 = 3306;

/// The MySQL client's `--ssl-mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disabled,
    /// TLS when the server offers it, without checking its certificate.
    Preferred,
    /// TLS or no connection, without checking the certificate.
    Required,
    /// TLS with a certificate signed by a trusted authority, any name.
    VerifyCa,
    /// TLS with a trusted certificate for the host name connected to.
    VerifyIdentity,
}

impl SslMode {
    fn parse(s: &str) -> Result<SslMode> {
        Ok(match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "disabled" => SslMode::Disabled,
            "preferred" => SslMode::Preferred,
            "required" => SslMode::Required,
            "verify-ca" => SslMode::VerifyCa,
            "verify-identity" => SslMode::VerifyIdentity,
            _ => {
                return Err(Error::usage(format!("unknown ssl-mode `{s}`"))
                    .with_hint("use disabled, preferred, required, verify-ca or verify-identity"));
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disabled => "disabled",
            SslMode::Preferred => "preferred",
            SslMode::Required => "required",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyIdentity => "verify-identity",
        }
    }
}

/// Where and how to connect; every field that matters filled once
/// [`ConnSpec::resolve`]d.
#[derive(Debug, Clone, Default)]
pub struct ConnSpec {
    pub host: Option<String>,
    pub port: Option<u16>,
    /// The Unix socket, used when the host is `localhost`.
    pub socket: Option<String>,
    pub user: Option<String>,
    pub password: Option<Password>,
    pub database: Option<String>,
    pub ssl_mode: Option<SslMode>,
    /// Trusted certificate authorities for `verify-ca` and `verify-identity`.
    pub ssl_ca: Option<PathBuf>,
    pub connect_timeout: Option<Duration>,
    /// An option file to read instead of `~/.my.cnf`.
    pub defaults_file: Option<PathBuf>,
}

/// Whether `s` is a MariaDB or MySQL URL.
pub fn is_mariadb_url(s: &str) -> bool {
    s.starts_with("mariadb://") || s.starts_with("mysql://")
}

fn bad_url(why: impl fmt::Display) -> Error {
    Error::usage(format!("bad MariaDB URL: {why}")).with_hint(
        "write it as mariadb://user@host:port/ or mariadb://user@localhost/?socket=/path",
    )
}

fn decode(s: &str) -> Result<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| bad_url("percent-encoded text is not UTF-8"))
}

impl ConnSpec {
    /// Parse a `mariadb://` or `mysql://` URL, without looking at the
    /// environment or option files yet.
    pub fn parse(url: &str) -> Result<ConnSpec> {
        let rest = url
            .strip_prefix("mariadb://")
            .or_else(|| url.strip_prefix("mysql://"))
            .ok_or_else(|| bad_url("it must start with mariadb:// or mysql://"))?;
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match rest.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (rest, None),
        };
        let mut spec = ConnSpec::default();
        let hostport = match authority.rsplit_once('@') {
            Some((userinfo, hp)) => {
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
                hp
            }
            None => authority,
        };
        let (host, port) = split_host_port(hostport)?;
        if !host.is_empty() {
            spec.host = Some(decode(&host)?);
        }
        spec.port = port;
        if let Some(p) = path
            && !p.is_empty()
        {
            if p.contains('/') {
                return Err(bad_url("a database name cannot hold a `/`"));
            }
            spec.database = Some(decode(p)?);
        }
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| bad_url(format!("parameter `{pair}` has no value")))?;
            spec.set_param(&decode(k)?, decode(v)?)?;
        }
        Ok(spec)
    }

    fn set_param(&mut self, key: &str, value: String) -> Result<()> {
        // The clients take `-` and `_` as the same character in option names.
        match key.replace('_', "-").as_str() {
            "socket" => self.socket = Some(value),
            "ssl-mode" | "sslmode" => self.ssl_mode = Some(SslMode::parse(&value)?),
            "ssl-ca" => self.ssl_ca = Some(PathBuf::from(value)),
            "connect-timeout" => self.connect_timeout = Some(parse_timeout(&value)?),
            other => {
                return Err(bad_url(format!("unknown parameter `{other}`")).with_hint(
                    "the parameters are socket, ssl-mode, ssl-ca and connect-timeout; \
                     put the password in the URL's user part, MYSQL_PWD or ~/.my.cnf",
                ));
            }
        }
        Ok(())
    }

    /// Fill what the URL left out, from the option file and the
    /// environment (`MYSQL_PWD`, `MYSQL_HOST`, `MYSQL_TCP_PORT`,
    /// `MYSQL_UNIX_PORT`, `HOME`), then the clients' defaults.
    pub fn resolve(mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<ConnSpec> {
        let var = |k: &str| env(k).filter(|v| !v.is_empty());
        let file = match &self.defaults_file {
            Some(f) => optionfile::read(f, true)?,
            None => match var("HOME") {
                Some(h) => optionfile::read(&PathBuf::from(h).join(".my.cnf"), false)?,
                None => None,
            },
        }
        .unwrap_or_default();
        let ClientOptions {
            user,
            password,
            host,
            port,
            socket,
        } = file;
        if self.password.is_none() {
            self.password = if self.defaults_file.is_some() {
                password.or_else(|| var("MYSQL_PWD").map(Password::new))
            } else {
                var("MYSQL_PWD").map(Password::new).or(password)
            };
        }
        self.user = self
            .user
            .or(user)
            .or_else(|| Some(crate::engine::postgres::url::os_user()));
        self.host = self
            .host
            .or(host)
            .or_else(|| var("MYSQL_HOST"))
            .or_else(|| Some("localhost".into()));
        if self.port.is_none() {
            self.port = match (port, var("MYSQL_TCP_PORT")) {
                (Some(p), _) => Some(p),
                (None, Some(p)) => {
                    Some(p.parse::<u16>().ok().filter(|&n| n > 0).ok_or_else(|| {
                        Error::usage(format!("MYSQL_TCP_PORT `{p}` is not a port number"))
                    })?)
                }
                (None, None) => Some(DEFAULT_PORT),
            };
        }
        self.socket = self.socket.or(socket).or_else(|| var("MYSQL_UNIX_PORT"));
        if self.ssl_mode.is_none() {
            self.ssl_mode = Some(SslMode::Preferred);
        }
        if self.connect_timeout.is_none() {
            self.connect_timeout = Some(DEFAULT_CONNECT_TIMEOUT);
        }
        Ok(self)
    }

    /// The Unix socket to connect through: as with the clients, `localhost`
    /// means the socket when one is known, and any other host means TCP.
    pub fn unix_socket(&self) -> Option<&str> {
        let local = matches!(self.host.as_deref(), None | Some("localhost"));
        self.socket.as_deref().filter(|_| local)
    }

    /// The same server with another database.
    pub fn with_database(&self, db: &str) -> ConnSpec {
        let mut s = self.clone();
        s.database = Some(db.to_string());
        s
    }

    pub fn database(&self) -> &str {
        self.database.as_deref().unwrap_or("")
    }

    pub fn user(&self) -> &str {
        self.user.as_deref().unwrap_or("")
    }

    pub fn host(&self) -> &str {
        self.host.as_deref().unwrap_or("localhost")
    }

    pub fn port(&self) -> u16 {
        self.port.unwrap_or(DEFAULT_PORT)
    }

    /// The server part, safe to show: `mariadb://user@host:port`, or
    /// `mariadb://user@localhost` for a Unix socket.
    pub fn server(&self) -> String {
        let user = encode(self.user());
        if self.unix_socket().is_some() {
            return format!("mariadb://{user}@localhost");
        }
        let host = self.host();
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            encode(host)
        };
        format!("mariadb://{user}@{host}:{}", self.port())
    }

    /// The server and database, with no password: what restore points
    /// record as the source, so it stays the same from one run to the next
    /// whichever scheme (`mysql://`, `mariadb://`) was typed.
    pub fn display(&self) -> String {
        let mut s = format!("{}/{}", self.server(), encode(self.database()));
        if let Some(sock) = self.unix_socket() {
            s.push_str("?socket=");
            s.push_str(&encode_path(sock));
        }
        s
    }
}

/// A socket path keeps its `/` readable in a shown URL.
fn encode_path(p: &str) -> String {
    p.split('/').map(encode).collect::<Vec<_>>().join("/")
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

fn parse_timeout(s: &str) -> Result<Duration> {
    let n: u64 = s
        .trim()
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| bad_url(format!("connect-timeout `{s}` is not a number of seconds")))?;
    Ok(Duration::from_secs(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn parses_a_full_url_with_either_scheme() {
        for scheme in ["mariadb", "mysql"] {
            let s = ConnSpec::parse(&format!(
                "{scheme}://app:s%40cret@db.example:3307/shop%20db?ssl-mode=VERIFY_IDENTITY&ssl-ca=/ca.pem&connect_timeout=5"
            ))
            .unwrap();
            assert_eq!(s.host.as_deref(), Some("db.example"));
            assert_eq!(s.port, Some(3307));
            assert_eq!(s.user.as_deref(), Some("app"));
            assert_eq!(s.password.as_ref().unwrap().expose(), "s@cret");
            assert_eq!(s.database.as_deref(), Some("shop db"));
            assert_eq!(s.ssl_mode, Some(SslMode::VerifyIdentity));
            assert_eq!(s.ssl_ca, Some(PathBuf::from("/ca.pem")));
            assert_eq!(s.connect_timeout, Some(Duration::from_secs(5)));
            let s = s.resolve(&no_env).unwrap();
            assert_eq!(s.display(), "mariadb://app@db.example:3307/shop%20db");
        }
    }

    #[test]
    fn defaults_and_environment() {
        let env = |k: &str| match k {
            "MYSQL_HOST" => Some("envhost".to_string()),
            "MYSQL_TCP_PORT" => Some("3310".to_string()),
            "MYSQL_PWD" => Some("envpw".to_string()),
            _ => None,
        };
        let s = ConnSpec::parse("mysql://root@/")
            .unwrap()
            .resolve(&env)
            .unwrap();
        assert_eq!(s.host(), "envhost");
        assert_eq!(s.port(), 3310);
        assert_eq!(s.password.as_ref().unwrap().expose(), "envpw");
        assert_eq!(s.ssl_mode, Some(SslMode::Preferred));
        assert_eq!(s.connect_timeout, Some(DEFAULT_CONNECT_TIMEOUT));
        assert_eq!(s.display(), "mariadb://root@envhost:3310/");
        let s = ConnSpec::parse("mariadb://u:urlpw@h")
            .unwrap()
            .resolve(&env)
            .unwrap();
        assert_eq!(s.password.as_ref().unwrap().expose(), "urlpw");
        assert_eq!(s.port(), 3310);
        let s = ConnSpec::parse("mariadb://u@h")
            .unwrap()
            .resolve(&no_env)
            .unwrap();
        assert_eq!((s.host(), s.port()), ("h", DEFAULT_PORT));
        assert!(s.password.is_none());
    }

    #[test]
    fn localhost_with_a_socket_is_the_socket() {
        let s = ConnSpec::parse("mariadb://root@localhost/app?socket=/run/my%20sql/m.sock")
            .unwrap()
            .resolve(&no_env)
            .unwrap();
        assert_eq!(s.unix_socket(), Some("/run/my sql/m.sock"));
        assert_eq!(s.server(), "mariadb://root@localhost");
        assert_eq!(
            s.display(),
            "mariadb://root@localhost/app?socket=/run/my%20sql/m.sock"
        );
        // Another host means TCP, socket or not.
        let s = ConnSpec::parse("mariadb://root@127.0.0.1:3306/?socket=/tmp/s")
            .unwrap()
            .resolve(&no_env)
            .unwrap();
        assert_eq!(s.unix_socket(), None);
        assert_eq!(s.display(), "mariadb://root@127.0.0.1:3306/");
        let s = ConnSpec::parse("mariadb://root@[::1]:3306/").unwrap();
        assert_eq!(s.server(), "mariadb://root@[::1]:3306");
    }

    #[test]
    fn option_files_fill_in_and_an_explicit_one_beats_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir(&home).unwrap();
        std::fs::write(
            home.join(".my.cnf"),
            "[client]\nuser=fileuser\npassword=filepw\nport=3399\nsocket=/s.sock\n",
        )
        .unwrap();
        let explicit = dir.path().join("other.cnf");
        std::fs::write(&explicit, "[client]\npassword=otherpw\n").unwrap();
        let home_s = home.display().to_string();
        let with_pwd = |k: &str| match k {
            "HOME" => Some(home_s.clone()),
            "MYSQL_PWD" => Some("envpw".into()),
            _ => None,
        };
        let no_pwd = |k: &str| (k == "HOME").then(|| home_s.clone());

        let s = ConnSpec::parse("mariadb://localhost/")
            .unwrap()
            .resolve(&no_pwd)
            .unwrap();
        assert_eq!(s.user(), "fileuser");
        assert_eq!(s.password.as_ref().unwrap().expose(), "filepw");
        assert_eq!(s.port(), 3399);
        assert_eq!(s.unix_socket(), Some("/s.sock"));
        // MYSQL_PWD beats ~/.my.cnf ...
        let s = ConnSpec::parse("mariadb://h/")
            .unwrap()
            .resolve(&with_pwd)
            .unwrap();
        assert_eq!(s.password.as_ref().unwrap().expose(), "envpw");
        // ... and --defaults-file beats MYSQL_PWD, replacing ~/.my.cnf.
        let mut spec = ConnSpec::parse("mariadb://h/").unwrap();
        spec.defaults_file = Some(explicit);
        let s = spec.resolve(&with_pwd).unwrap();
        assert_eq!(s.password.as_ref().unwrap().expose(), "otherpw");
        assert_ne!(s.user(), "fileuser");
        // A missing --defaults-file is an error, a missing ~/.my.cnf is not.
        let mut spec = ConnSpec::parse("mariadb://h/").unwrap();
        spec.defaults_file = Some(dir.path().join("none.cnf"));
        assert_eq!(spec.resolve(&no_env).unwrap_err().kind, crate::Kind::Usage);
    }

    #[test]
    fn display_and_debug_never_hold_the_password() {
        let s = ConnSpec::parse("mariadb://u:topsecret@h:5/d")
            .unwrap()
            .resolve(&no_env)
            .unwrap();
        assert_eq!(s.display(), "mariadb://u@h:5/d");
        assert!(!format!("{s:?}").contains("topsecret"));
    }

    #[test]
    fn bad_urls_are_usage_errors_without_secrets() {
        for bad in [
            "mariadb://u:pw@h:notaport/d",
            "mariadb://h/d?ssl-mode=sometimes",
            "mariadb://h/d?socket",
            "mariadb://h/d?password=pw",
            "mariadb://h/d/e",
            "mariadb://h/d?connect-timeout=0",
            "mariadb://h/d%ff",
            "postgres://h/d",
        ] {
            let e = ConnSpec::parse(bad).unwrap_err();
            assert_eq!(e.kind, crate::Kind::Usage, "{bad}");
            assert!(!e.message.contains("pw"), "{}", e.message);
        }
    }

    #[test]
    fn the_crate_redaction_hides_passwords_in_these_urls() {
        use crate::engine::postgres::redact;
        assert_eq!(
            redact("mariadb://root:pw@127.0.0.1:3306/"),
            "mariadb://root:***@127.0.0.1:3306/"
        );
        assert_eq!(
            redact("mysql://app:p@ss:w@db/shop?socket=/s"),
            "mysql://app:***@db/shop?socket=/s"
        );
        assert_eq!(redact("mysql://app@db/shop"), "mysql://app@db/shop");
    }
}
