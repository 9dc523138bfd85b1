//! Opening connections: TLS through rustls per `sslmode`, a deadline on
//! the whole start-up (a server that accepts TCP but never answers must
//! not hang a backup), and errors a DBA can act on.

use super::url::{ConnSpec, SslMode};
use crate::error::{Error, Kind, Result};
use postgres::{Client, NoTls};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// Open one connection to `spec`'s database.
pub fn connect(spec: &ConnSpec) -> Result<Client> {
    let cfg = postgres::Config::from(config(spec));
    with_deadline(spec, move |tls| match tls {
        Some(t) => cfg.connect(t),
        None => cfg.connect(NoTls),
    })
}

/// Run `open` on a thread, given the TLS connector `spec`'s `sslmode`
/// asks for (`None` for `disable`), and wait for it no longer than the
/// connection deadline; its failure becomes the error [`connect`] gives.
pub(super) fn with_deadline<T: Send + 'static>(
    spec: &ConnSpec,
    open: impl FnOnce(Option<MakeRustlsConnect>) -> std::result::Result<T, postgres::Error>
    + Send
    + 'static,
) -> Result<T> {
    let timeout = spec
        .connect_timeout
        .filter(|t| !t.is_zero())
        .unwrap_or(std::time::Duration::from_secs(3600));
    let mode = spec.sslmode.unwrap_or(SslMode::Prefer);
    let tls = if mode == SslMode::Disable {
        None
    } else {
        Some(tls_connector(spec, mode)?)
    };
    // The client library bounds only the TCP connect; the thread bounds the
    // TLS and authentication exchange too. A timed-out thread is left to
    // end with the process.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(open(tls));
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e)) => Err(connect_error(spec, &e)),
        Err(_) => Err(Error::database(format!(
            "timed out after {}s connecting to `{}`",
            timeout.as_secs(),
            spec.display()
        ))
        .with_hint(
            "check the host and port and that a firewall lets the connection through; \
             raise connect_timeout in the URL (or PGCONNECT_TIMEOUT) for a slow network",
        )),
    }
}

pub(super) fn config(spec: &ConnSpec) -> tokio_postgres::Config {
    let mut cfg = tokio_postgres::Config::new();
    for h in &spec.hosts {
        cfg.host(h);
    }
    for p in &spec.ports {
        cfg.port(*p);
    }
    cfg.user(spec.user());
    cfg.dbname(spec.dbname());
    if let Some(pw) = &spec.password {
        cfg.password(pw.expose());
    }
    if let Some(o) = &spec.options {
        cfg.options(o);
    }
    if let Some(t) = spec.connect_timeout.filter(|t| !t.is_zero()) {
        cfg.connect_timeout(t);
    }
    cfg.application_name("sqlvault");
    cfg.keepalives(true);
    cfg.ssl_mode(match spec.sslmode.unwrap_or(SslMode::Prefer) {
        SslMode::Disable => tokio_postgres::config::SslMode::Disable,
        SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
        _ => tokio_postgres::config::SslMode::Require,
    });
    cfg
}

fn tls_connector(spec: &ConnSpec, mode: SslMode) -> Result<MakeRustlsConnect> {
    Ok(MakeRustlsConnect::new(tls_client_config(spec, mode)?))
}

/// The TLS set-up `sslmode` asks for, also used by replication connections.
pub(crate) fn tls_client_config(spec: &ConnSpec, mode: SslMode) -> Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::usage(format!("TLS set-up failed: {e}")))?;
    let config = match mode {
        // libpq's `require` and `prefer` encrypt without checking who answers.
        SslMode::Prefer | SslMode::Require | SslMode::Disable => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
            .with_no_client_auth(),
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let roots = Arc::new(root_store(spec)?);
            let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
                roots,
                provider.clone(),
            )
            .build()
            .map_err(|e| Error::usage(format!("TLS set-up failed: {e}")))?;
            if mode == SslMode::VerifyCa {
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(AnyName(webpki)))
                    .with_no_client_auth()
            } else {
                builder.with_webpki_verifier(webpki).with_no_client_auth()
            }
        }
    };
    Ok(config)
}

/// `sslrootcert` (or `~/.postgresql/root.crt`), else the system's roots.
fn root_store(spec: &ConnSpec) -> Result<rustls::RootCertStore> {
    use rustls::pki_types::pem::PemObject;
    let mut store = rustls::RootCertStore::empty();
    let file = spec.sslrootcert.clone().or_else(|| {
        let p = dirs::home_dir()?.join(".postgresql/root.crt");
        p.is_file().then_some(p)
    });
    match file {
        Some(f) => {
            let certs = CertificateDer::pem_file_iter(&f)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    Error::usage(format!("cannot read sslrootcert `{}`: {e}", f.display()))
                })?;
            for c in certs {
                let _ = store.add(c);
            }
        }
        None => {
            for c in rustls_native_certs::load_native_certs().certs {
                let _ = store.add(c);
            }
        }
    }
    if store.is_empty() {
        return Err(
            Error::usage("no trusted root certificates for sslmode=verify-*")
                .with_hint("give sslrootcert=FILE in the URL or PGSSLROOTCERT"),
        );
    }
    Ok(store)
}

#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root, whatever the name.
#[derive(Debug)]
struct AnyName(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end: &CertificateDer<'_>,
        mid: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end, mid, name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// Map a failed connection to a message naming the server (no password).
pub fn connect_error(spec: &ConnSpec, e: &postgres::Error) -> Error {
    let at = format!("`{}`", spec.display());
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        return match code {
            "28P01" | "28000" => Error::new(
                Kind::Auth,
                format!("the server at {at} refused the login: {}", db.message()),
            )
            .with_hint(
                "check the user and password (in the URL, PGPASSWORD or ~/.pgpass) and pg_hba.conf",
            ),
            "3D000" => Error::database(format!(
                "database `{}` does not exist on `{}`",
                spec.dbname(),
                spec.server()
            ))
            .with_hint("check the name; `sqlvault discover` lists the server's databases"),
            "53300" => Error::database(format!("{at} has too many connections"))
                .with_hint("lower --jobs, or retry when fewer clients are connected"),
            _ => Error::database(format!("cannot connect to {at}: {}", db.message())),
        };
    }
    let text = e.to_string();
    let source = std::error::Error::source(e)
        .map(|s| s.to_string())
        .unwrap_or_default();
    if text.contains("password missing") || source.contains("password missing") {
        return Error::new(
            Kind::Auth,
            format!("the server at {at} asks for a password and none was given"),
        )
        .with_hint("put it in the URL, PGPASSWORD or ~/.pgpass");
    }
    let why = if source.is_empty() { text } else { source };
    let why = super::url::redact(&why);
    if why.contains("refused") {
        return Error::database(format!("cannot connect to {at}: connection refused")).with_hint(
            "check the host and port, and that the server is running and accepts TCP connections",
        );
    }
    if why.contains("timed out") {
        return Error::database(format!("timed out connecting to {at}"))
            .with_hint("check the host and port and that a firewall lets the connection through");
    }
    if why.contains("server does not support TLS") || why.contains("TLS") {
        return Error::database(format!("TLS failed connecting to {at}: {why}"))
            .with_hint("check sslmode, and sslrootcert for verify-ca/verify-full");
    }
    Error::database(format!("cannot connect to {at}: {why}"))
}

/// Map an error from a query on an open connection.
pub fn query_error(what: &str, e: &postgres::Error) -> Error {
    match e.as_db_error() {
        Some(db) => {
            let mut msg = format!("{what}: {}", db.message());
            if let Some(d) = db.detail() {
                msg.push_str(&format!(" ({d})"));
            }
            let err = Error::database(msg);
            match db.code().code() {
                "42501" => err.with_hint(
                    "the user lacks a privilege; back up as a superuser or the owner of every object",
                ),
                "40001" if db.message().contains("recovery") => err.with_hint(
                    "the standby cancelled the read to replay changes; set hot_standby_feedback = on (or raise max_standby_streaming_delay) on the standby",
                ),
                _ => err,
            }
        }
        None => Error::database(format!("{what}: {e}")),
    }
}

/// A connection to the server's maintenance database.
pub(crate) fn admin_connection(spec: &ConnSpec) -> Result<Client> {
    match connect(&spec.with_dbname("postgres")) {
        Ok(c) => Ok(c),
        Err(e) if e.message.contains("does not exist") => connect(&spec.with_dbname("template1")),
        Err(e) => Err(e),
    }
}
