//! What each engine's `[[source]]` needs and refuses.

use super::SourceSpec;

/// The keys each engine needs and refuses: `(key to point at, message)`.
pub(super) fn check_engine_keys(s: &SourceSpec) -> std::result::Result<(), (&'static str, String)> {
    let n = &s.name;
    let engine = s.engine.as_str();
    if engine != "azuresql" {
        for (key, set) in [
            ("staging-server", s.staging_server.is_some()),
            ("no-staging", s.no_staging),
            ("staging-container", s.staging_container.is_some()),
            ("sql-login", s.sql_login.is_some()),
            ("sql-password-env", s.sql_password_env.is_some()),
            ("sql-password-file", s.sql_password_file.is_some()),
            ("sql-managed-identity", s.sql_managed_identity.is_some()),
            ("operation-timeout", s.operation_timeout.is_some()),
        ] {
            if set {
                return Err((
                    key,
                    format!("`{key}` is for azuresql sources; source `{n}` is {engine}"),
                ));
            }
        }
    }
    match engine {
        "azuresql" => azuresql_keys(s)?,
        "postgres" | "mariadb" => {
            let Some(url) = &s.url else {
                return Err((
                    "source",
                    format!("{engine} source `{n}` needs `url = \"{engine}://user@host:port/\"`"),
                ));
            };
            let parse = |u: &str| {
                if engine == "mariadb" {
                    crate::engine::mariadb::ConnSpec::parse(u).map(|_| ())
                } else {
                    crate::engine::postgres::ConnSpec::parse(u).map(|_| ())
                }
            };
            parse(url).map_err(|e| ("url", e.message))?;
            if let Some(standby) = &s.standby {
                parse(standby).map_err(|e| ("standby", e.message))?;
            }
            if s.directory.is_some() {
                return Err((
                    "directory",
                    format!(
                        "`directory` is for sqlite sources; {engine} source `{n}` lists `databases` or sets `auto-protect = true`"
                    ),
                ));
            }
            if engine == "mariadb" && (s.physical || s.cluster.is_some()) {
                return Err((
                    if s.physical { "physical" } else { "cluster" },
                    format!(
                        "mariadb source `{n}` is backed up logically; remove `physical` and `cluster`"
                    ),
                ));
            }
            if s.physical {
                if !s.databases.is_empty() || s.auto_protect || !s.exclude.is_empty() {
                    return Err((
                        "physical",
                        format!(
                            "source `{n}` has `physical = true`: it backs up the whole cluster, so `databases`, `auto-protect` and `exclude` do not apply"
                        ),
                    ));
                }
                if let Some(c) = &s.cluster {
                    crate::repo::logs::check_cluster_name(c).map_err(|e| ("cluster", e.message))?;
                }
            } else if s.cluster.is_some() {
                return Err((
                    "cluster",
                    format!(
                        "`cluster` is for sources with `physical = true`; source `{n}` is logical"
                    ),
                ));
            } else if s.databases.is_empty() && !s.auto_protect {
                return Err((
                    "source",
                    format!(
                        "source `{n}` protects nothing: list `databases`, or set `auto-protect = true` for every database on the server"
                    ),
                ));
            }
            if s.password_env.is_some() && s.password_file.is_some() {
                return Err((
                    "password-env",
                    format!("source `{n}` names both password-env and password-file; give one"),
                ));
            }
            if s.jobs == Some(0) || s.jobs.is_some_and(|j| j > 64) {
                return Err(("jobs", "jobs must be between 1 and 64".into()));
            }
        }
        _ => {
            for (key, set) in [
                ("url", s.url.is_some()),
                ("password-env", s.password_env.is_some()),
                ("password-file", s.password_file.is_some()),
                ("jobs", s.jobs.is_some()),
                ("standby", s.standby.is_some()),
                ("physical", s.physical),
                ("cluster", s.cluster.is_some()),
            ] {
                if set {
                    return Err((
                        key,
                        format!(
                            "`{key}` is for server sources; sqlite source `{n}` names files in `databases` or a `directory`"
                        ),
                    ));
                }
            }
            if s.databases.is_empty() && s.directory.is_none() {
                return Err((
                    "source",
                    format!(
                        "source `{n}` protects nothing: list `databases`, or give `directory` with `auto-protect = true`"
                    ),
                ));
            }
            if s.auto_protect && s.directory.is_none() {
                return Err((
                    "auto-protect",
                    format!(
                        "sqlite source `{n}` auto-protects the files of a `directory`; give one"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// An azuresql source: a server URL, a staging container and server, and
/// the SQL login the export service uses.
fn azuresql_keys(s: &SourceSpec) -> std::result::Result<(), (&'static str, String)> {
    let n = &s.name;
    let Some(url) = &s.url else {
        return Err((
            "source",
            format!(
                "azuresql source `{n}` needs `url = \"azuresql://SERVER.database.windows.net/\"`"
            ),
        ));
    };
    crate::engine::azuresql::AzureSqlUrl::parse(url).map_err(|e| ("url", e.message))?;
    for (key, set) in [
        ("password-env", s.password_env.is_some()),
        ("password-file", s.password_file.is_some()),
        ("jobs", s.jobs.is_some()),
        ("standby", s.standby.is_some()),
        ("physical", s.physical),
        ("cluster", s.cluster.is_some()),
        ("directory", s.directory.is_some()),
    ] {
        if set {
            let instead = if key.starts_with("password") {
                "; the SQL login's password goes in sql-password-env or sql-password-file"
            } else {
                ""
            };
            return Err((
                key,
                format!("`{key}` does not apply to azuresql source `{n}`{instead}"),
            ));
        }
    }
    if s.staging_container.is_none() {
        return Err((
            "source",
            format!(
                "azuresql source `{n}` needs `staging-container = \"azure://ACCOUNT/CONTAINER\"`"
            ),
        ));
    }
    if s.staging_server.is_none() && !s.no_staging {
        return Err((
            "source",
            format!(
                "azuresql source `{n}` needs `staging-server` (or `no-staging = true`, consistent only if nothing writes during the export)"
            ),
        ));
    }
    if s.staging_server.is_some() && s.no_staging {
        return Err((
            "no-staging",
            format!("source `{n}` has both staging-server and no-staging; give one"),
        ));
    }
    let sql_login =
        s.sql_login.is_some() || s.sql_password_env.is_some() || s.sql_password_file.is_some();
    if s.sql_managed_identity.is_some() && sql_login {
        return Err((
            "sql-managed-identity",
            format!("source `{n}` names both a SQL login and sql-managed-identity; give one"),
        ));
    }
    if s.sql_managed_identity.is_none()
        && (s.sql_login.is_none()
            || (s.sql_password_env.is_none() == s.sql_password_file.is_none()))
    {
        return Err((
            "source",
            format!(
                "azuresql source `{n}` needs `sql-login` and one of `sql-password-env` or `sql-password-file` (or `sql-managed-identity`)"
            ),
        ));
    }
    if s.operation_timeout == Some(0) {
        return Err((
            "operation-timeout",
            "operation-timeout must be at least 1 second".into(),
        ));
    }
    if s.databases.is_empty() && !s.auto_protect {
        return Err((
            "source",
            format!(
                "source `{n}` protects nothing: list `databases`, or set `auto-protect = true` for every database on the server"
            ),
        ));
    }
    Ok(())
}
