//! Discovery: the databases of a MariaDB or MySQL server, with what a DBA
//! wants to know before protecting them: size, tables, the storage
//! engines they use, the character set, and which tables a backup cannot
//! read consistently without locking them.

use super::MariaDb;
use super::connect::{connect, query_error};
use crate::error::Result;
use mysql::prelude::Queryable;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The server's own schemas: not user data, never backed up as databases.
pub const SYSTEM_SCHEMAS: &[&str] = &["mysql", "information_schema", "performance_schema", "sys"];

/// A row of information_schema.TABLES: schema, type, engine, data and
/// index lengths.
type TableRow = (String, String, Option<String>, Option<u64>, Option<u64>);

#[derive(Debug, Clone, Serialize)]
pub struct DatabaseRow {
    pub name: String,
    /// Data and indexes of every table, as the server estimates them.
    pub size_bytes: u64,
    /// Base tables (system-versioned ones included; views and sequences not).
    pub tables: u64,
    /// The storage engines of those tables, sorted (`Aria`, `InnoDB`, ...).
    pub engines: Vec<String>,
    pub charset: String,
    pub collation: String,
    /// Has restore points in the repository (filled in by the caller).
    pub protected: bool,
    /// What restore points of this database would record as their source.
    pub source: String,
    pub warnings: Vec<String>,
}

/// Every database of the server the user can see, but the system schemas.
pub fn discover(server: &MariaDb) -> Result<Vec<DatabaseRow>> {
    // Any database the URL names is not needed to list them all.
    let mut c = connect(&server.spec.with_database(""))?;
    let transactional: BTreeSet<String> = c
        .query::<String, _>(
            "SELECT ENGINE FROM information_schema.ENGINES WHERE TRANSACTIONS = 'YES'",
        )
        .map_err(|e| query_error("listing storage engines", &e))?
        .into_iter()
        .collect();
    let schemas: Vec<(String, String, String)> = c
        .query(
            "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME \
             FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME",
        )
        .map_err(|e| query_error("listing databases", &e))?;
    // One row per table, summed here: information_schema compares names
    // without regard to case, so its GROUP BY would merge `App` and `app`.
    let rows: Vec<TableRow> = c
        .query(
            "SELECT TABLE_SCHEMA, TABLE_TYPE, ENGINE, DATA_LENGTH, INDEX_LENGTH \
             FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')",
        )
        .map_err(|e| query_error("listing tables", &e))?;
    let mut sizes: BTreeMap<String, u64> = BTreeMap::new();
    // Per database, the engine of each base table; `None` for a table the
    // server could not open.
    let mut tables: BTreeMap<String, Vec<Option<String>>> = BTreeMap::new();
    for (schema, kind, engine, data, index) in rows {
        *sizes.entry(schema.clone()).or_default() += data.unwrap_or(0) + index.unwrap_or(0);
        if kind == "BASE TABLE" || kind == "SYSTEM VERSIONED" {
            tables.entry(schema).or_default().push(engine);
        }
    }

    let mut out = Vec::new();
    for (name, charset, collation) in schemas {
        if SYSTEM_SCHEMAS.contains(&name.as_str()) {
            continue;
        }
        let mine = tables.remove(&name).unwrap_or_default();
        out.push(DatabaseRow {
            source: server.spec.with_database(&name).display(),
            size_bytes: sizes.get(&name).copied().unwrap_or(0),
            tables: mine.len() as u64,
            engines: mine
                .iter()
                .flatten()
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            warnings: engine_warnings(&mine, &transactional),
            name,
            charset,
            collation,
            protected: false,
        });
    }
    Ok(out)
}

/// What the engines of a database's tables (`None`: a table the server
/// could not open) mean for a backup.
pub fn engine_warnings(tables: &[Option<String>], transactional: &BTreeSet<String>) -> Vec<String> {
    let mut w = Vec::new();
    let mut engines = BTreeSet::new();
    let mut n = 0;
    let mut broken = 0;
    for engine in tables {
        match engine {
            Some(e) if !transactional.iter().any(|t| t.eq_ignore_ascii_case(e)) => {
                engines.insert(e.as_str());
                n += 1;
            }
            Some(_) => {}
            None => broken += 1,
        }
    }
    // Only a transactional engine gives a backup one instant of every
    // table without stopping writers.
    if n > 0 {
        let names: Vec<&str> = engines.into_iter().collect();
        w.push(format!(
            "{n} {} table{}: not consistent without a lock",
            names.join("/"),
            if n == 1 { "" } else { "s" }
        ));
    }
    if broken > 0 {
        w.push(format!(
            "{broken} table{} the server cannot open",
            if broken == 1 { "" } else { "s" }
        ));
    }
    w
}

#[cfg(test)]
mod tests {
    use super::engine_warnings;
    use std::collections::BTreeSet;

    fn engines(names: &[Option<&str>]) -> Vec<Option<String>> {
        names.iter().map(|e| e.map(str::to_string)).collect()
    }

    #[test]
    fn warns_about_tables_without_transactions() {
        let tx: BTreeSet<String> = ["InnoDB".to_string()].into();
        assert!(engine_warnings(&engines(&[Some("InnoDB"), Some("innodb")]), &tx).is_empty());
        assert_eq!(
            engine_warnings(
                &engines(&[Some("InnoDB"), Some("MyISAM"), Some("MyISAM"), Some("Aria")]),
                &tx
            ),
            ["3 Aria/MyISAM tables: not consistent without a lock"]
        );
        assert_eq!(
            engine_warnings(&engines(&[Some("MEMORY"), None]), &tx),
            [
                "1 MEMORY table: not consistent without a lock",
                "1 table the server cannot open"
            ]
        );
    }
}
