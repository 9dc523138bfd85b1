//! Opening connections: TLS through rustls per `ssl-mode`, a deadline on
//! the whole start-up (a server that accepts TCP but never answers must
//! not hang a run), and errors a DBA can act on, never holding the
//! password.

use super::url::{ConnSpec, SslMode};
use crate::error::{Error, Kind, Result};
use mysql::{Conn, OptsBuilder, SslOpts};
use std::time::{Duration, Instant};

// Server error codes (the numbers the `mariadb` client prints as `ERROR n`).
const ER_DBACCESS_DENIED: u16 = 1044;
const ER_ACCESS_DENIED: u16 = 1045;
const ER_BAD_DB: u16 = 1049;
const ER_CON_COUNT: u16 = 1040;
const ER_HOST_IS_BLOCKED: u16 = 1129;
const ER_HOST_NOT_PRIVILEGED: u16 = 1130;
const ER_ACCESS_DENIED_NO_PASSWORD: u16 = 1698;

/// Open one connection to `spec`'s server (and database, when it names one).
pub fn connect(spec: &ConnSpec) -> Result<Conn> {
    let timeout = spec
        .connect_timeout
        .unwrap_or(super::url::DEFAULT_CONNECT_TIMEOUT);
    let deadline = Instant::now() + timeout;
    let mode = spec.ssl_mode.unwrap_or(SslMode::Preferred);
    // A Unix socket is never encrypted: the connection does not leave the host.
    let result = if spec.unix_socket().is_some() || mode == SslMode::Disabled {
        attempt(spec, None, deadline)
    } else {
        match attempt(spec, Some(ssl_opts(spec, mode)), deadline) {
            // The client library has no "TLS if offered": ask again in
            // clear text when the server turned TLS down and the mode allows it.
            Err(Failure::Driver(mysql::Error::DriverError(
                mysql::DriverError::TlsNotSupported,
            ))) if mode == SslMode::Preferred => attempt(spec, None, deadline),
            other => other,
        }
    };
    result.map_err(|f| f.into_error(spec, timeout))
}

enum Failure {
    Driver(mysql::Error),
    TimedOut,
}

impl Failure {
    fn into_error(self, spec: &ConnSpec, timeout: Duration) -> Error {
        match self {
            Failure::Driver(e) => connect_error(spec, &e),
            Failure::TimedOut => Error::database(format!(
                "timed out after {}s connecting to `{}`",
                timeout.as_secs(),
                spec.display()
            ))
            .with_hint(
                "check the host and port and that a firewall lets the connection through; \
                 raise connect-timeout in the URL for a slow network",
            ),
        }
    }
}

/// One try, bounded by `deadline`. The client library bounds only the TCP
/// connect; the thread bounds the TLS and login exchange too. A timed-out
/// thread is left to end with the process.
fn attempt(spec: &ConnSpec, tls: Option<SslOpts>, deadline: Instant) -> Result<Conn, Failure> {
    let left = deadline.saturating_duration_since(Instant::now());
    let opts = options(spec, tls, left);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(Conn::new(opts));
    });
    match rx.recv_timeout(left) {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(Failure::Driver(e)),
        Err(_) => Err(Failure::TimedOut),
    }
}

fn options(spec: &ConnSpec, tls: Option<SslOpts>, timeout: Duration) -> OptsBuilder {
    let b = OptsBuilder::new()
        .user(Some(spec.user()))
        .pass(spec.password.as_ref().map(|p| p.expose().to_string()))
        .db_name(spec.database.as_deref().filter(|d| !d.is_empty()))
        // The library would otherwise move a loopback TCP connection to the
        // server's socket on its own, which is not what the URL asked for.
        .prefer_socket(false)
        .tcp_connect_timeout(Some(timeout.max(Duration::from_millis(1))))
        .tcp_keepalive_time_ms(Some(60_000))
        .ssl_opts(tls);
    match spec.unix_socket() {
        Some(sock) => b.socket(Some(sock)),
        None => b.ip_or_hostname(Some(spec.host())).tcp_port(spec.port()),
    }
}

/// What `ssl-mode` asks of the server's certificate. The trusted roots are
/// the `ssl-ca` file's and the Mozilla roots the client library carries.
fn ssl_opts(spec: &ConnSpec, mode: SslMode) -> SslOpts {
    let mut o = SslOpts::default();
    if let Some(ca) = &spec.ssl_ca {
        o = o.with_root_cert_path(Some(ca.clone()));
    }
    match mode {
        // As the MySQL client: `required` (and `preferred`) encrypt without
        // checking who answers.
        SslMode::Disabled | SslMode::Preferred | SslMode::Required => o
            .with_danger_accept_invalid_certs(true)
            .with_danger_skip_domain_validation(true),
        SslMode::VerifyCa => o.with_danger_skip_domain_validation(true),
        SslMode::VerifyIdentity => o,
    }
}

/// Map a failed connection to a message naming the server (no password).
pub fn connect_error(spec: &ConnSpec, e: &mysql::Error) -> Error {
    use mysql::DriverError as D;
    let at = format!("`{}`", spec.display());
    match e {
        mysql::Error::MySqlError(m) => match m.code {
            ER_ACCESS_DENIED | ER_ACCESS_DENIED_NO_PASSWORD | ER_HOST_NOT_PRIVILEGED => {
                Error::new(
                    Kind::Auth,
                    format!("the server at {at} refused the login: {}", m.message),
                )
                .with_hint(if spec.password.is_none() {
                    "no password was given: put it in the URL, MYSQL_PWD, ~/.my.cnf or a --defaults-file"
                } else {
                    "check the user and password (in the URL, MYSQL_PWD, ~/.my.cnf or a --defaults-file) \
                     and that the user may connect from this host"
                })
            }
            ER_DBACCESS_DENIED => Error::new(
                Kind::Auth,
                format!("the server at {at} refused access: {}", m.message),
            )
            .with_hint("grant the user access to the database, or connect as another user"),
            ER_BAD_DB => Error::database(format!(
                "database `{}` does not exist on `{}`",
                spec.database(),
                spec.server()
            ))
            .with_hint("check the name; `sqlvault discover` lists the server's databases"),
            ER_CON_COUNT => Error::database(format!("{at} has too many connections"))
                .with_hint("retry when fewer clients are connected, or raise max_connections"),
            ER_HOST_IS_BLOCKED => Error::database(format!(
                "the server at {at} blocks this host: {}",
                m.message
            ))
            .with_hint("run `mariadb-admin flush-hosts` on the server"),
            _ => Error::database(format!("cannot connect to {at}: {}", m.message)),
        },
        mysql::Error::DriverError(D::ConnectTimeout) => {
            Error::database(format!("timed out connecting to {at}")).with_hint(
                "check the host and port and that a firewall lets the connection through",
            )
        }
        mysql::Error::DriverError(D::CouldNotConnect(Some((_, desc, kind)))) => {
            could_not_connect(spec, &at, desc, *kind)
        }
        mysql::Error::IoError(io) => could_not_connect(spec, &at, &io.to_string(), io.kind()),
        mysql::Error::DriverError(D::TlsNotSupported) => Error::database(format!(
            "the server at {at} does not offer TLS, which ssl-mode={} asks for",
            spec.ssl_mode.unwrap_or(SslMode::Required).as_str()
        ))
        .with_hint("enable TLS on the server, or use ssl-mode=preferred or disabled"),
        mysql::Error::TlsError(t) => Error::database(format!(
            "TLS failed connecting to {at}: {}",
            crate::engine::postgres::redact(&t.to_string())
        ))
        .with_hint("check ssl-mode, and ssl-ca for verify-ca/verify-identity"),
        mysql::Error::DriverError(D::UnknownAuthPlugin(p)) => Error::new(
            Kind::Auth,
            format!("the server at {at} asks for the `{p}` login method, which sqlvault does not speak"),
        )
        .with_hint("give the user a password with mysql_native_password or caching_sha2_password"),
        other => {
            let text = crate::engine::postgres::redact(&other.to_string());
            // rustls reports a refused certificate as an I/O error inside
            // the protocol codec's.
            match text.split_once("invalid peer certificate: ") {
                Some((_, why)) => Error::database(format!(
                    "the server at {at} presented a certificate that ssl-mode={} does not accept: {}",
                    spec.ssl_mode.unwrap_or(SslMode::VerifyIdentity).as_str(),
                    why.trim_end_matches(['\'', ' ', '}'])
                ))
                .with_hint(
                    "give the authority that signed it with ssl-ca=FILE in the URL, \
                     or use ssl-mode=required to encrypt without checking it",
                ),
                None => Error::database(format!("cannot connect to {at}: {text}")),
            }
        }
    }
}

fn could_not_connect(spec: &ConnSpec, at: &str, desc: &str, kind: std::io::ErrorKind) -> Error {
    use std::io::ErrorKind as K;
    if let Some(sock) = spec.unix_socket() {
        return match kind {
            K::NotFound => Error::database(format!("no server socket at `{sock}`")).with_hint(
                "check that the server is running and the socket path (socket= in the URL or ~/.my.cnf)",
            ),
            K::PermissionDenied => {
                Error::database(format!("permission denied opening the socket `{sock}`"))
                    .with_hint("run as a user that may open it, or connect over TCP")
            }
            _ => Error::database(format!("cannot connect to {at}: {desc}")),
        };
    }
    match kind {
        K::ConnectionRefused => Error::database(format!(
            "cannot connect to {at}: connection refused"
        ))
        .with_hint(
            "check the host and port, and that the server is running and listens on that address",
        ),
        K::TimedOut | K::WouldBlock => Error::database(format!("timed out connecting to {at}"))
            .with_hint("check the host and port and that a firewall lets the connection through"),
        _ if desc.contains("lookup") || desc.contains("resolve") => {
            Error::database(format!("cannot find the host `{}`", spec.host()))
                .with_hint("check the host name in the URL")
        }
        _ => Error::database(format!("cannot connect to {at}: {desc}")),
    }
}

/// Map an error from a query on an open connection.
pub fn query_error(what: &str, e: &mysql::Error) -> Error {
    match e {
        mysql::Error::MySqlError(m) => {
            let err = Error::database(format!("{what}: {}", m.message));
            // ER_TABLEACCESS_DENIED_ERROR, ER_SPECIFIC_ACCESS_DENIED_ERROR
            if matches!(m.code, 1142 | 1227) {
                err.with_hint("the user lacks a privilege the command needs")
            } else {
                err
            }
        }
        other => Error::database(format!("{what}: {other}")),
    }
}
