//! The one public error type of the core.
//!
//! Every layer has its own small error enum; they all convert into [`Error`],
//! which carries a [`Kind`] (mapped to a documented exit code), a one-line
//! message written for the user and an optional hint that says what to do.

use std::fmt;

/// What went wrong, coarsely: decides the exit code and whether retrying helps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Bad flags, bad path, bad URL, missing input: the user must change the command.
    Usage,
    /// Wrong password or key file.
    Auth,
    /// The repository is missing, corrupt, or of an unsupported version.
    Repository,
    /// The storage could not be read or written (permissions, disk full, I/O).
    Storage,
    /// The source database could not be read or the target written.
    Database,
    /// The run was interrupted by a signal.
    Interrupted,
}

impl Kind {
    /// Documented in the README; scripts rely on these numbers.
    pub fn exit_code(self) -> i32 {
        match self {
            Kind::Database => 1,
            Kind::Usage => 2,
            Kind::Auth => 3,
            Kind::Repository => 4,
            Kind::Storage => 5,
            Kind::Interrupted => 130,
        }
    }

    /// Whether running the same thing again may succeed without a change.
    pub fn retryable(self) -> bool {
        matches!(self, Kind::Storage | Kind::Interrupted)
    }
}

#[derive(Debug)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub hint: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }

    pub fn repository(message: impl Into<String>) -> Self {
        Self::new(Kind::Repository, message)
    }

    pub fn database(message: impl Into<String>) -> Self {
        Self::new(Kind::Database, message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Prefix the message with where it happened, keeping kind and hint.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// An I/O error on a local file that sqlvault writes outside the repository
/// (a restore target, a staging copy, a temporary file), `what` saying what
/// it was doing (`writing`, `creating a temporary file in`). A full disk or
/// a refused write is a storage error (exit code 5) with what to do about
/// it; anything else fails that database.
pub fn local_io_error(what: &str, path: &std::path::Path, e: std::io::Error) -> Error {
    use std::io::ErrorKind as E;
    let p = show_path(path);
    match e.kind() {
        E::StorageFull | E::QuotaExceeded => Error::new(
            Kind::Storage,
            format!("no space left on the disk while {what} {p}"),
        )
        .with_hint("free space on that disk, or choose another place, and run the command again"),
        E::PermissionDenied | E::ReadOnlyFilesystem => Error::new(
            Kind::Storage,
            format!(
                "{} while {what} {p}",
                if e.kind() == E::ReadOnlyFilesystem {
                    "read-only file system"
                } else {
                    "permission denied"
                }
            ),
        )
        .with_hint("check that the user running sqlvault may write there, or choose another place"),
        _ => Error::database(format!("error while {what} {p}: {e}")),
    }
}

/// Quote a path the way every message shows one.
pub fn show_path(p: &std::path::Path) -> String {
    format!("`{}`", p.display())
}
