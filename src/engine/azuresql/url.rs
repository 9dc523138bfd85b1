//! `azuresql://SERVER.database.windows.net/DATABASE`: a logical server and
//! one of its databases (none, for `discover`), with where Resource Manager
//! finds the server: `?subscription=ID&resource-group=NAME`, and
//! `management=URL` for another Resource Manager endpoint (a sovereign
//! cloud). Passwords never go in it.

use crate::error::{Error, Result};
use std::fmt;

pub const SCHEME: &str = "azuresql://";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureSqlUrl {
    /// The server's host name, `contoso.database.windows.net`.
    pub host: String,
    /// The server's resource name: the host's first label.
    pub server: String,
    /// Empty when the URL names the server only.
    pub database: String,
    pub subscription: Option<String>,
    pub resource_group: Option<String>,
    /// Resource Manager's endpoint, when it is not the public cloud's.
    pub management: Option<url::Url>,
}

pub fn is_azuresql_url(s: &str) -> bool {
    s.len() >= SCHEME.len() && s[..SCHEME.len()].eq_ignore_ascii_case(SCHEME)
}

fn bad(s: &str, why: impl fmt::Display) -> Error {
    Error::usage(format!("bad Azure SQL URL `{s}`: {why}"))
        .with_hint("write it as azuresql://SERVER.database.windows.net/DATABASE")
}

impl AzureSqlUrl {
    pub fn parse(s: &str) -> Result<AzureSqlUrl> {
        if !is_azuresql_url(s) {
            return Err(bad(s, "it does not start with azuresql://"));
        }
        let rest = &s[SCHEME.len()..];
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (host, database) = path.split_once('/').unwrap_or((path, ""));
        if host.contains('@') {
            return Err(Error::usage(format!(
                "`{}`: a login does not go in an Azure SQL URL",
                shown_without_login(s)
            ))
            .with_hint(
                "give the SQL login's password with --sql-password-env or --sql-password-file (or use a managed identity)",
            ));
        }
        let host = host.to_ascii_lowercase();
        let server = host.split('.').next().unwrap_or_default().to_string();
        let valid = (1..=63).contains(&server.len())
            && server
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !server.starts_with('-')
            && !server.ends_with('-');
        if !valid {
            return Err(bad(
                s,
                "the server name must be 1-63 lowercase letters, digits and hyphens",
            ));
        }
        let database = percent_encoding::percent_decode_str(database.trim_end_matches('/'))
            .decode_utf8()
            .map_err(|_| bad(s, "the database name is not UTF-8"))?
            .into_owned();
        if database.contains('/') {
            return Err(bad(s, "a database name is one path segment"));
        }
        let mut u = AzureSqlUrl {
            host,
            server,
            database,
            subscription: None,
            resource_group: None,
            management: None,
        };
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "subscription" => u.subscription = Some(v.into_owned()),
                "resource-group" => u.resource_group = Some(v.into_owned()),
                "management" => {
                    u.management = Some(
                        url::Url::parse(&v)
                            .ok()
                            .filter(|m| matches!(m.scheme(), "http" | "https"))
                            .ok_or_else(|| bad(s, "management must be an http(s) URL"))?,
                    )
                }
                other => {
                    return Err(bad(
                        s,
                        format!(
                            "unknown option `{other}` (allowed: subscription, resource-group, management)"
                        ),
                    ));
                }
            }
        }
        Ok(u)
    }

    /// The same server with another database.
    pub fn with_database(&self, database: &str) -> AzureSqlUrl {
        AzureSqlUrl {
            database: database.to_string(),
            ..self.clone()
        }
    }

    /// The server's Resource Manager id, once its subscription and
    /// resource group are known.
    pub fn server_id(&self, subscription: &str, resource_group: &str) -> String {
        format!(
            "/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.Sql/servers/{}",
            self.server
        )
    }
}

/// The URL with anything before an `@` in its authority left out.
fn shown_without_login(s: &str) -> String {
    let rest = &s[SCHEME.len().min(s.len())..];
    match rest.split_once('@') {
        Some((_, after)) => format!("{SCHEME}{after}"),
        None => s.to_string(),
    }
}

/// As restore points and reports name a database: no options.
impl fmt::Display for AzureSqlUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let db: String = percent_encoding::utf8_percent_encode(
            &self.database,
            percent_encoding::NON_ALPHANUMERIC,
        )
        .to_string();
        write!(f, "{SCHEME}{}/{db}", self.host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_database_and_options_are_read() {
        let u = AzureSqlUrl::parse(
            "azuresql://Contoso.database.windows.net/shop%20eu?subscription=00000000-1111-2222-3333-444444444444&resource-group=rg-db",
        )
        .unwrap();
        assert_eq!(u.host, "contoso.database.windows.net");
        assert_eq!(u.server, "contoso");
        assert_eq!(u.database, "shop eu");
        assert_eq!(u.resource_group.as_deref(), Some("rg-db"));
        assert_eq!(
            u.server_id("sub", "rg"),
            "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Sql/servers/contoso"
        );
        assert_eq!(
            u.to_string(),
            "azuresql://contoso.database.windows.net/shop%20eu"
        );
        let server = AzureSqlUrl::parse("azuresql://contoso.database.windows.net/").unwrap();
        assert_eq!(server.database, "");
    }

    #[test]
    fn logins_unknown_options_and_bad_names_are_refused() {
        let e = AzureSqlUrl::parse("azuresql://admin:S3cret@contoso.database.windows.net/shop")
            .unwrap_err();
        assert!(!e.message.contains("S3cret"), "{}", e.message);
        assert!(e.message.contains("login"), "{}", e.message);
        for bad in [
            "azuresql://contoso.database.windows.net/shop?password=x",
            "azuresql://-bad.database.windows.net/shop",
            "azuresql://contoso.database.windows.net/a/b",
            "azuresql://contoso.database.windows.net/shop?management=ftp://x",
        ] {
            assert!(AzureSqlUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
