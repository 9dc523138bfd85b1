//! Discovery: the databases of a server, with what a DBA wants to know
//! before protecting them, and warnings about names that backup tools
//! commonly trip on.

use super::Postgres;
use super::connect::admin_connection;
use super::connect::{connect, query_error};
use crate::error::{Error, Result};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct DatabaseRow {
    pub name: String,
    pub size_bytes: i64,
    pub owner: String,
    pub encoding: String,
    /// Tables and partitioned tables outside the system schemas; `None`
    /// when the database could not be opened.
    pub tables: Option<i64>,
    pub template: bool,
    pub allows_connections: bool,
    /// Has restore points in the repository (filled in by the caller).
    pub protected: bool,
    /// What restore points of this database record as their source.
    pub source: String,
    pub warnings: Vec<String>,
}

/// Every database of `server`'s server (templates only when asked).
pub fn discover(server: &Postgres, include_templates: bool) -> Result<Vec<DatabaseRow>> {
    let mut admin = admin_connection(&server.spec)?;
    let rows = admin
        .query(
            "SELECT datname::text, pg_database_size(oid), pg_get_userbyid(datdba)::text, \
             pg_encoding_to_char(encoding)::text, datistemplate, datallowconn \
             FROM pg_database ORDER BY datname",
            &[],
        )
        .map_err(|e| query_error("listing databases", &e))?;
    let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    let mut out = Vec::new();
    for r in rows {
        let name: String = r.get(0);
        let template: bool = r.get(4);
        if template && !include_templates {
            continue;
        }
        let allows: bool = r.get(5);
        let db = server.with_database(&name);
        let mut warnings = name_warnings(&name, &names);
        let tables = if allows {
            match count_tables(&db) {
                Ok(n) => Some(n),
                Err(e) => {
                    warnings.push(format!("cannot be opened: {}", e.message));
                    None
                }
            }
        } else {
            warnings.push("does not accept connections, so it cannot be backed up".into());
            None
        };
        out.push(DatabaseRow {
            source: db.spec.display(),
            name,
            size_bytes: r.get(1),
            owner: r.get(2),
            encoding: r.get(3),
            tables,
            template,
            allows_connections: allows,
            protected: false,
            warnings,
        });
    }
    Ok(out)
}

fn count_tables(db: &Postgres) -> Result<i64> {
    let mut c = connect(&db.spec)?;
    Ok(c.query_one(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
         AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'",
        &[],
    )
    .map_err(|e| query_error("counting tables", &e))?
    .get(0))
}

/// What makes a name easy to get wrong in scripts and other tools.
pub fn name_warnings(name: &str, all: &[String]) -> Vec<String> {
    let mut w = Vec::new();
    if name.trim() != name {
        w.push("name has leading or trailing spaces".to_string());
    }
    for other in all {
        if other != name && other.to_lowercase() == name.to_lowercase() {
            w.push(format!("name differs only in case from `{other}`"));
        }
    }
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if !plain {
        w.push("name needs quoting in SQL and shells (capitals, spaces or symbols)".to_string());
    }
    if !name.is_ascii() {
        w.push("name has non-ASCII characters".to_string());
    }
    w
}

/// The databases a `--all` backup takes: every one that is not a template
/// and accepts connections.
pub fn all_databases(server: &Postgres) -> Result<Vec<String>> {
    let mut admin = admin_connection(&server.spec)?;
    let names: Vec<String> = admin
        .query(
            "SELECT datname::text FROM pg_database WHERE NOT datistemplate AND datallowconn \
             ORDER BY datname",
            &[],
        )
        .map_err(|e| query_error("listing databases", &e))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if names.is_empty() {
        return Err(Error::database(format!(
            "`{}` has no databases to back up",
            server.spec.server()
        )));
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::name_warnings;

    #[test]
    fn warns_about_tricky_names() {
        let all: Vec<String> = ["app", "App", " spaced", "ok_name", "café"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(name_warnings("ok_name", &all).is_empty());
        assert!(name_warnings("app", &all)[0].contains("only in case from `App`"));
        let w = name_warnings(" spaced", &all);
        assert!(w.iter().any(|w| w.contains("leading or trailing")));
        assert!(w.iter().any(|w| w.contains("quoting")));
        assert!(
            name_warnings("café", &all)
                .iter()
                .any(|w| w.contains("non-ASCII"))
        );
    }
}
