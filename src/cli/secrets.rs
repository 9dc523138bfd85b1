//! Where the repository password comes from, in order: --key-file,
//! --password-file, SQLVAULT_PASSWORD, a prompt on a terminal.

use super::Global;
use sqlvault::repo::Secret;
use sqlvault::{Error, Kind, Result};
use std::io::IsTerminal;
use std::path::Path;

fn read_file(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        Error::usage(format!(
            "cannot read {what} `{}`: {}",
            path.display(),
            e.kind()
        ))
        .with_hint("check the path given to --key-file or --password-file")
    })
}

/// The password for an existing repository.
pub fn password(g: &Global) -> Result<Secret> {
    obtain(g, false)
}

/// The password for a new repository (asked twice on a terminal).
pub fn new_password(g: &Global) -> Result<Secret> {
    obtain(g, true)
}

pub use sqlvault::repo::keys::MIN_KEY_FILE_BYTES;

fn obtain(g: &Global, confirm: bool) -> Result<Secret> {
    let mut from_key_file = false;
    let bytes = if let Some(p) = &g.key_file {
        from_key_file = true;
        let mut b = read_file(p, "key file")?;
        // Counted as the file is (trailing white space included), so that
        // 32 random bytes always pass; only a new repository is refused,
        // existing ones stay open with the key they were made with.
        if confirm && b.len() < MIN_KEY_FILE_BYTES {
            return Err(Error::usage(format!(
                "key file `{}` holds {} bytes; a key file must hold at least {MIN_KEY_FILE_BYTES}",
                p.display(),
                b.len()
            ))
            .with_hint(format!(
                "make one with `head -c {MIN_KEY_FILE_BYTES} /dev/urandom > key` (and keep a copy: without it the backups cannot be read), or use --password-file"
            )));
        }
        while b.last().is_some_and(|c| c.is_ascii_whitespace()) {
            b.pop();
        }
        b
    } else if let Some(p) = &g.password_file {
        let b = read_file(p, "password file")?;
        sqlvault::util::first_line(&b).to_vec()
    } else if let Some(v) = std::env::var_os("SQLVAULT_PASSWORD") {
        v.into_encoded_bytes()
    } else if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        let first = prompt("Repository password: ")?;
        if confirm && prompt("Repeat the password: ")? != first {
            return Err(Error::usage("the two passwords differ").with_hint("run the command again"));
        }
        first.into_bytes()
    } else {
        return Err(Error::new(
            Kind::Auth,
            "the repository needs a password and none was given",
        )
        .with_hint(
            "use --password-file, --key-file or SQLVAULT_PASSWORD (no terminal to ask on)",
        ));
    };
    if bytes.is_empty() {
        return Err(Error::new(Kind::Auth, "the password is empty")
            .with_hint("an empty password protects nothing; use --no-encryption at init to store data unencrypted"));
    }
    Ok(if from_key_file {
        Secret::from_key_file(bytes)
    } else {
        Secret::new(bytes)
    })
}

fn prompt(text: &str) -> Result<String> {
    rpassword::prompt_password(text)
        .map_err(|e| Error::usage(format!("cannot read the password: {e}")))
}
