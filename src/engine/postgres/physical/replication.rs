//! A physical replication connection (`replication=true`): the protocol
//! `pg_basebackup` speaks, so base backups work from another machine or
//! from a standby. The client library has no replication mode, so the few
//! messages needed are framed here over a plain, Unix or TLS socket, with
//! the library's password and SCRAM code for authentication.

use super::super::connect::tls_client_config;
use super::super::url::{ConnSpec, SslMode};
use crate::error::{Error, Kind, Result};
use bytes::BytesMut;
use postgres_protocol::authentication::{md5_hash, sasl};
use postgres_protocol::message::frontend;
use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::Duration;

enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Socket::Tcp(s) => s.read(buf),
            Socket::Unix(s) => s.read(buf),
            Socket::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Socket::Tcp(s) => s.write(buf),
            Socket::Unix(s) => s.write(buf),
            Socket::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Socket::Tcp(s) => s.flush(),
            Socket::Unix(s) => s.flush(),
            Socket::Tls(s) => s.flush(),
        }
    }
}

impl Socket {
    fn set_read_timeout(&self, t: Option<Duration>) {
        let _ = match self {
            Socket::Tcp(s) => s.set_read_timeout(t),
            Socket::Unix(s) => s.set_read_timeout(t),
            Socket::Tls(s) => s.sock.set_read_timeout(t),
        };
    }
}

/// One backend message: its type byte and body.
pub struct Message {
    pub tag: u8,
    pub body: Vec<u8>,
}

/// A server error, with its SQLSTATE.
#[derive(Debug)]
pub struct ServerError {
    pub code: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

impl ServerError {
    pub fn parse(body: &[u8]) -> ServerError {
        let mut e = ServerError {
            code: String::new(),
            message: String::new(),
            detail: None,
            hint: None,
        };
        let mut rest = body;
        while let Some((&field, tail)) = rest.split_first() {
            if field == 0 {
                break;
            }
            let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
            let text = String::from_utf8_lossy(&tail[..end]).into_owned();
            match field {
                b'C' => e.code = text,
                b'M' => e.message = text,
                b'D' => e.detail = Some(text),
                b'H' => e.hint = Some(text),
                _ => {}
            }
            rest = tail.get(end + 1..).unwrap_or(&[]);
        }
        e
    }
}

pub struct Replication {
    /// Reads are buffered; the few writes go straight to the socket.
    stream: BufReader<Socket>,
    /// `postgres://user@host:port`, for messages.
    shown: String,
    /// The server's version as `server_version_num` would give it.
    pub server_version: u32,
}

fn io_err(shown: &str, e: std::io::Error) -> Error {
    if matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    ) {
        return Error::database(format!("`{shown}` stopped answering"))
            .with_hint("check the server and the network, then run the backup again");
    }
    Error::database(format!("the connection to `{shown}` failed: {e}"))
        .with_hint("check the server and the network, then run the backup again")
}

fn open_socket(spec: &ConnSpec, timeout: Duration) -> Result<Socket> {
    let shown = spec.server();
    let port = spec.ports.first().copied().unwrap_or(5432);
    let mut last = None;
    let hosts = if spec.hosts.is_empty() {
        vec!["/var/run/postgresql".to_string()]
    } else {
        spec.hosts.clone()
    };
    for (i, host) in hosts.iter().enumerate() {
        let port = spec.ports.get(i).copied().unwrap_or(port);
        let r = if host.starts_with('/') {
            UnixStream::connect(format!("{host}/.s.PGSQL.{port}")).map(Socket::Unix)
        } else {
            use std::net::ToSocketAddrs;
            match (host.as_str(), port).to_socket_addrs() {
                Ok(addrs) => {
                    let mut r = Err(std::io::Error::other("no address"));
                    for a in addrs {
                        r = TcpStream::connect_timeout(&a, timeout);
                        if r.is_ok() {
                            break;
                        }
                    }
                    r.map(|s| {
                        let _ = s.set_nodelay(true);
                        Socket::Tcp(s)
                    })
                }
                Err(e) => Err(e),
            }
        };
        match r {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    let e = last.expect("at least one host");
    Err(
        Error::database(format!("cannot connect to `{shown}`: {e}")).with_hint(
            "check the host and port, and that the server is running and accepts connections",
        ),
    )
}

impl Replication {
    /// Open a physical replication connection and log in.
    pub fn connect(spec: &ConnSpec) -> Result<Replication> {
        let shown = spec.server();
        let timeout = spec
            .connect_timeout
            .filter(|t| !t.is_zero())
            .unwrap_or(super::super::url::DEFAULT_CONNECT_TIMEOUT);
        let mut sock = open_socket(spec, timeout)?;
        sock.set_read_timeout(Some(timeout));
        let mode = spec.sslmode.unwrap_or(SslMode::Prefer);
        if let Socket::Tcp(tcp) = &mut sock
            && mode != SslMode::Disable
        {
            let mut buf = BytesMut::new();
            frontend::ssl_request(&mut buf);
            tcp.write_all(&buf).map_err(|e| io_err(&shown, e))?;
            let mut answer = [0u8; 1];
            tcp.read_exact(&mut answer).map_err(|e| io_err(&shown, e))?;
            if answer[0] == b'S' {
                let config = std::sync::Arc::new(tls_client_config(spec, mode)?);
                let host = spec.hosts.first().cloned().unwrap_or_default();
                let name = rustls::pki_types::ServerName::try_from(host)
                    .map_err(|e| Error::usage(format!("bad TLS server name: {e}")))?;
                let conn = rustls::ClientConnection::new(config, name)
                    .map_err(|e| Error::database(format!("TLS set-up failed: {e}")))?;
                let Socket::Tcp(tcp) = sock else {
                    unreachable!()
                };
                sock = Socket::Tls(Box::new(rustls::StreamOwned::new(conn, tcp)));
            } else if mode != SslMode::Prefer {
                return Err(Error::database(format!(
                    "`{shown}` does not accept TLS, and sslmode={} asks for it",
                    mode.as_str()
                ))
                .with_hint("enable ssl on the server, or lower sslmode"));
            }
        }
        let mut r = Replication {
            stream: BufReader::with_capacity(256 * 1024, sock),
            shown,
            server_version: 0,
        };
        r.login(spec)?;
        r.stream.get_ref().set_read_timeout(None);
        Ok(r)
    }

    fn send(&mut self, build: impl FnOnce(&mut BytesMut) -> std::io::Result<()>) -> Result<()> {
        let mut buf = BytesMut::new();
        build(&mut buf).map_err(|e| Error::database(format!("bad protocol message: {e}")))?;
        let sock = self.stream.get_mut();
        sock.write_all(&buf)
            .and_then(|_| sock.flush())
            .map_err(|e| io_err(&self.shown, e))
    }

    /// The next message from the server; notices are skipped.
    pub fn message(&mut self) -> Result<Message> {
        loop {
            let mut head = [0u8; 5];
            self.stream
                .read_exact(&mut head)
                .map_err(|e| io_err(&self.shown, e))?;
            let len = u32::from_be_bytes(head[1..5].try_into().unwrap()) as usize;
            let mut body = vec![0u8; len.saturating_sub(4)];
            self.stream
                .read_exact(&mut body)
                .map_err(|e| io_err(&self.shown, e))?;
            match head[0] {
                b'N' => continue,
                b'S' => {
                    let mut parts = body.split(|&b| b == 0);
                    // `15.18 (Debian 15.18-0+deb12u1)` → 150018.
                    if parts.next() == Some(b"server_version") {
                        let v = parts
                            .next()
                            .and_then(|v| std::str::from_utf8(v).ok())
                            .unwrap_or("");
                        let mut nums = v
                            .split(|c: char| !c.is_ascii_digit())
                            .map(|n| n.parse::<u32>().unwrap_or(0));
                        let major = nums.next().unwrap_or(0);
                        let minor = nums.next().unwrap_or(0);
                        self.server_version = major * 10000 + minor;
                    }
                    continue;
                }
                tag => return Ok(Message { tag, body }),
            }
        }
    }

    fn login(&mut self, spec: &ConnSpec) -> Result<()> {
        let user = spec.user().to_string();
        self.send(|b| {
            frontend::startup_message(
                [
                    ("user", user.as_str()),
                    ("replication", "true"),
                    ("application_name", "sqlvault"),
                ],
                b,
            )
        })?;
        let password = || {
            spec.password.clone().ok_or_else(|| {
                Error::new(
                    Kind::Auth,
                    format!(
                        "the server at `{}` asks for a password and none was given",
                        spec.server()
                    ),
                )
                .with_hint("put it in the URL, PGPASSWORD or ~/.pgpass")
            })
        };
        let mut scram: Option<sasl::ScramSha256> = None;
        loop {
            let m = self.message()?;
            match m.tag {
                b'R' => {
                    let code = u32::from_be_bytes(m.body[0..4].try_into().unwrap());
                    let data = &m.body[4..];
                    match code {
                        0 => {}
                        3 => {
                            let pw = password()?;
                            self.send(|b| frontend::password_message(pw.expose().as_bytes(), b))?;
                        }
                        5 => {
                            let pw = password()?;
                            let salt: [u8; 4] = data[0..4].try_into().unwrap();
                            let hash = md5_hash(user.as_bytes(), pw.expose().as_bytes(), salt);
                            self.send(|b| frontend::password_message(hash.as_bytes(), b))?;
                        }
                        10 => {
                            let mechs: Vec<&[u8]> = data.split(|&b| b == 0).collect();
                            if !mechs.contains(&&b"SCRAM-SHA-256"[..]) {
                                return Err(Error::new(
                                    Kind::Auth,
                                    "the server asks for an authentication method sqlvault does not speak",
                                )
                                .with_hint("use scram-sha-256 or md5 in pg_hba.conf"));
                            }
                            let pw = password()?;
                            let s = sasl::ScramSha256::new(
                                pw.expose().as_bytes(),
                                sasl::ChannelBinding::unsupported(),
                            );
                            let first = s.message().to_vec();
                            self.send(|b| {
                                frontend::sasl_initial_response("SCRAM-SHA-256", &first, b)
                            })?;
                            scram = Some(s);
                        }
                        11 => {
                            let s = scram.as_mut().ok_or_else(|| {
                                Error::database("unexpected SCRAM message from the server")
                            })?;
                            s.update(data).map_err(|e| {
                                Error::new(Kind::Auth, format!("SCRAM exchange failed: {e}"))
                            })?;
                            let next = s.message().to_vec();
                            self.send(|b| frontend::sasl_response(&next, b))?;
                        }
                        12 => {
                            if let Some(s) = scram.as_mut() {
                                s.finish(data).map_err(|e| {
                                    Error::new(Kind::Auth, format!("SCRAM exchange failed: {e}"))
                                })?;
                            }
                        }
                        other => {
                            return Err(Error::new(
                                Kind::Auth,
                                format!("the server asks for authentication method {other}, which sqlvault does not speak"),
                            )
                            .with_hint("use scram-sha-256 or md5 in pg_hba.conf"));
                        }
                    }
                }
                b'K' => {}
                b'Z' => return Ok(()),
                b'E' => return Err(login_error(spec, ServerError::parse(&m.body))),
                _ => {}
            }
        }
    }

    /// Send a replication command; the caller reads the answer.
    pub fn command(&mut self, sql: &str) -> Result<()> {
        self.send(|b| frontend::query(sql, b))
    }

    /// Read one result set up to its CommandComplete: rows of text values.
    pub fn rows(&mut self, what: &str) -> Result<Vec<Vec<Option<String>>>> {
        let mut rows = Vec::new();
        loop {
            let m = self.message()?;
            match m.tag {
                b'T' => {}
                b'D' => rows.push(data_row(&m.body)),
                b'C' => return Ok(rows),
                b'E' => return Err(self.server_error(what, ServerError::parse(&m.body))),
                other => {
                    return Err(Error::database(format!(
                        "{what}: unexpected message `{}` from the server",
                        other as char
                    )));
                }
            }
        }
    }

    /// Read up to ReadyForQuery, failing on an error.
    pub fn finish(&mut self, what: &str) -> Result<()> {
        let mut failed = None;
        loop {
            let m = self.message()?;
            match m.tag {
                b'Z' => break,
                b'E' => failed = Some(ServerError::parse(&m.body)),
                _ => {}
            }
        }
        match failed {
            Some(e) => Err(self.server_error(what, e)),
            None => Ok(()),
        }
    }

    pub fn server_error(&self, what: &str, e: ServerError) -> Error {
        let mut msg = format!("{what} on `{}`: {}", self.shown, e.message);
        if let Some(d) = &e.detail {
            msg.push_str(&format!(" ({d})"));
        }
        let err = Error::database(msg);
        match e.hint {
            Some(h) => err.with_hint(h),
            None => err,
        }
    }

    pub fn shown(&self) -> &str {
        &self.shown
    }
}

fn data_row(body: &[u8]) -> Vec<Option<String>> {
    let n = u16::from_be_bytes([body[0], body[1]]) as usize;
    let mut at = 2;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let len = i32::from_be_bytes(body[at..at + 4].try_into().unwrap());
        at += 4;
        if len < 0 {
            out.push(None);
        } else {
            let l = len as usize;
            out.push(Some(
                String::from_utf8_lossy(&body[at..at + l]).into_owned(),
            ));
            at += l;
        }
    }
    out
}

fn login_error(spec: &ConnSpec, e: ServerError) -> Error {
    let at = spec.server();
    match e.code.as_str() {
        "28000" if e.message.contains("replication") => Error::new(
            Kind::Auth,
            format!("the server at `{at}` refused the replication connection: {}", e.message),
        )
        .with_hint(
            "add a `host replication <user> <address> scram-sha-256` line to pg_hba.conf and reload the server",
        ),
        "28P01" | "28000" => Error::new(
            Kind::Auth,
            format!("the server at `{at}` refused the login: {}", e.message),
        )
        .with_hint(
            "check the user and password (in the URL, PGPASSWORD or ~/.pgpass) and pg_hba.conf",
        ),
        "42501" => Error::new(
            Kind::Auth,
            format!("`{}` may not open replication connections on `{at}`: {}", spec.user(), e.message),
        )
        .with_hint(format!(
            "grant it with `ALTER ROLE {} WITH REPLICATION`, or back up as a superuser",
            spec.user()
        )),
        "53300" => Error::database(format!("`{at}` has no free replication slot: {}", e.message))
            .with_hint("raise max_wal_senders on the server, or retry when fewer replicas are connected"),
        _ => Error::database(format!("cannot connect to `{at}`: {}", e.message)),
    }
}
