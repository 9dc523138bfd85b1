//! `azure://ACCOUNT/CONTAINER/optional/prefix?endpoint=URL&tier=cool`: the
//! one string that names an Azure repository, parsed without touching the
//! network. Secrets never go in it (they come from the environment).

use std::fmt;

/// The access tier new objects are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Hot,
    Cool,
    Cold,
    Archive,
}

impl Tier {
    pub fn parse(s: &str) -> Option<Tier> {
        match s.to_ascii_lowercase().as_str() {
            "hot" => Some(Tier::Hot),
            "cool" => Some(Tier::Cool),
            "cold" => Some(Tier::Cold),
            "archive" => Some(Tier::Archive),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Hot => "Hot",
            Tier::Cool => "Cool",
            Tier::Cold => "Cold",
            Tier::Archive => "Archive",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureUrl {
    pub account: String,
    pub container: String,
    /// Folder inside the container, without leading or trailing `/`.
    pub prefix: String,
    /// The account's blob endpoint, when it is not `https://ACCOUNT.blob.core.windows.net`.
    pub endpoint: Option<url::Url>,
    pub tier: Option<Tier>,
}

pub const SCHEME: &str = "azure://";

/// The `endpoint=` option of a URL `s`: an http(s) URL.
pub fn parse_endpoint(s: &str, v: &str) -> Result<url::Url, String> {
    url::Url::parse(v)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| format!("`{s}`: endpoint must be an http:// or https:// URL"))
}

pub fn is_azure(s: &str) -> bool {
    s.len() >= SCHEME.len() && s[..SCHEME.len()].eq_ignore_ascii_case(SCHEME)
}

impl AzureUrl {
    pub fn parse(s: &str) -> Result<AzureUrl, String> {
        if !is_azure(s) {
            return Err(format!("`{s}` is not an azure:// URL"));
        }
        let rest = &s[SCHEME.len()..];
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut parts = path.splitn(3, '/');
        let account = parts.next().unwrap_or_default().to_string();
        let container = parts.next().unwrap_or_default().to_string();
        let prefix = parts
            .next()
            .unwrap_or_default()
            .trim_matches('/')
            .to_string();
        if account.is_empty()
            || !account
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            return Err(format!(
                "`{s}`: the account name must be lowercase letters and digits (azure://ACCOUNT/CONTAINER[/prefix])"
            ));
        }
        let valid_container = (3..=63).contains(&container.len())
            && container
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !container.starts_with('-')
            && !container.ends_with('-')
            && !container.contains("--");
        if !valid_container {
            return Err(format!(
                "`{s}`: the container name must be 3-63 lowercase letters, digits and single hyphens (azure://ACCOUNT/CONTAINER[/prefix])"
            ));
        }
        if prefix.split('/').any(|p| p == "." || p == "..") {
            return Err(format!("`{s}`: the prefix may not contain `.` or `..`"));
        }
        let mut endpoint = None;
        let mut tier = None;
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "endpoint" => endpoint = Some(parse_endpoint(s, &v)?),
                "tier" => {
                    tier = Some(Tier::parse(&v).ok_or_else(|| {
                        format!("`{s}`: tier must be hot, cool, cold or archive")
                    })?);
                }
                other => {
                    return Err(format!(
                        "`{s}`: unknown option `{other}` (allowed: endpoint, tier); credentials go in the environment, not the URL"
                    ));
                }
            }
        }
        Ok(AzureUrl {
            account,
            container,
            prefix,
            endpoint,
            tier,
        })
    }

    /// The blob name of repository object `name`.
    pub fn blob_name(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.prefix)
        }
    }
}

/// Shown in messages: the endpoint without its query (where a SAS token
/// might sit) or user info.
impl fmt::Display for AzureUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}/{}", self.account, self.container)?;
        if !self.prefix.is_empty() {
            write!(f, "/{}", self.prefix)?;
        }
        let mut sep = '?';
        if let Some(e) = &self.endpoint {
            let mut e = e.clone();
            e.set_query(None);
            let _ = e.set_username("");
            let _ = e.set_password(None);
            write!(f, "{sep}endpoint={e}")?;
            sep = '&';
        }
        if let Some(t) = self.tier {
            write!(f, "{sep}tier={}", t.as_str().to_ascii_lowercase())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_account_container_prefix_and_options() {
        let u = AzureUrl::parse(
            "azure://acct/backups/prod/db?tier=Cool&endpoint=http://127.0.0.1:10000/devstoreaccount1",
        )
        .unwrap();
        assert_eq!(u.account, "acct");
        assert_eq!(u.container, "backups");
        assert_eq!(u.prefix, "prod/db");
        assert_eq!(u.tier, Some(Tier::Cool));
        assert_eq!(u.blob_name("config"), "prod/db/config");
        assert_eq!(
            u.to_string(),
            "azure://acct/backups/prod/db?endpoint=http://127.0.0.1:10000/devstoreaccount1&tier=cool"
        );
        let plain = AzureUrl::parse("azure://acct/backups/").unwrap();
        assert_eq!(plain.prefix, "");
        assert_eq!(plain.blob_name("config"), "config");
        assert_eq!(plain.to_string(), "azure://acct/backups");
    }

    #[test]
    fn rejects_bad_names_and_secrets_in_the_url() {
        for bad in [
            "azure://",
            "azure://acct",
            "azure://Acct/backups",
            "azure://acct/Backups",
            "azure://acct/ab",
            "azure://acct/a--b",
            "azure://acct/backups/../x",
            "azure://acct/backups?tier=frozen",
            "azure://acct/backups?sig=secret",
            "azure://acct/backups?endpoint=ftp://x",
        ] {
            assert!(AzureUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
