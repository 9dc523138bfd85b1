//! What a backup reads from the server's catalogue: the database's
//! character set, and its tables with the columns whose values are stored
//! (generated columns are computed again on restore).

use super::connect::query_error;
use crate::error::{Error, Result};
use mysql::Conn;
use mysql::prelude::Queryable;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// `name` quoted as an identifier: backquotes, doubled inside.
pub fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `'text'` as a string literal, with what the server treats specially escaped.
pub fn quote_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableInfo {
    /// The stream holding its rows (the first part's, when split).
    pub stream: String,
    pub name: String,
    /// Storage engine (`InnoDB`, `Aria`, ...).
    pub engine: String,
    /// Columns in the order their values are stored; generated columns
    /// are left out, invisible ones are named like the others.
    pub columns: Vec<String>,
    /// Data length when backed up, to load the largest first.
    pub bytes: u64,
    pub rows_estimate: u64,
    /// A large table is read in this many primary-key ranges, each its own
    /// stream, so that several connections share it.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub parts: u32,
    /// The integer primary key column ranges split on (not stored).
    #[serde(skip)]
    pub split_key: Option<String>,
    /// A system-versioned table whose history is kept: its rows are read
    /// `FOR SYSTEM_TIME ALL`, and the last two columns are its row start
    /// and row end (restored with `system_versioning_insert_history`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub history: bool,
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

impl TableInfo {
    pub fn quoted(&self, database: &str) -> String {
        format!("{}.{}", quote_ident(database), quote_ident(&self.name))
    }

    /// `` `a`, `b` ``: the stored columns, as a select list.
    pub fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|c| quote_ident(c))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `db`.`t`, and for a table with history `FOR SYSTEM_TIME ALL`: what
    /// a select of its rows reads from.
    pub fn read_from(&self, database: &str) -> String {
        if self.history {
            format!("{} FOR SYSTEM_TIME ALL", self.quoted(database))
        } else {
            self.quoted(database)
        }
    }

    /// The stream of part `part`.
    pub fn part_stream(&self, part: u32) -> String {
        if part == 0 {
            self.stream.clone()
        } else {
            format!("{}#{part}", self.stream)
        }
    }
}

/// The stream holding a table's rows.
pub fn table_stream(name: &str) -> String {
    format!("data/{name}")
}

/// Character set and collation new tables of the database default to.
pub fn database_charset(c: &mut Conn, database: &str) -> Result<Option<(String, String)>> {
    c.exec_first(
        "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME \
         FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
        (database,),
    )
    .map_err(|e| query_error("looking up the database", &e))
}

/// The storage engines that have transactions, so a snapshot covers them.
pub fn transactional_engines(c: &mut Conn) -> Result<BTreeSet<String>> {
    Ok(c.query::<String, _>(
        "SELECT UPPER(ENGINE) FROM information_schema.ENGINES WHERE TRANSACTIONS = 'YES'",
    )
    .map_err(|e| query_error("listing storage engines", &e))?
    .into_iter()
    .collect())
}

type TableRow = (String, Option<String>, Option<u64>, Option<u64>, String);

/// The base tables of `database` (system-versioned ones included; views
/// and sequences live in the schema), each with its stored columns.
pub fn tables(c: &mut Conn, database: &str) -> Result<Vec<TableInfo>> {
    let rows: Vec<TableRow> = c
        .exec(
            "SELECT TABLE_NAME, ENGINE, DATA_LENGTH, TABLE_ROWS, TABLE_TYPE FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = ? AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') \
             ORDER BY TABLE_NAME",
            (database,),
        )
        .map_err(|e| query_error("listing tables", &e))?;
    let columns: Vec<(String, String, String, Option<String>)> = c
        .exec(
            "SELECT TABLE_NAME, COLUMN_NAME, EXTRA, GENERATION_EXPRESSION FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION",
            (database,),
        )
        .map_err(|e| query_error("listing columns", &e))?;
    let keys: Vec<(String, String, String)> = c
        .exec(
            "SELECT k.TABLE_NAME, k.COLUMN_NAME, c.DATA_TYPE \
             FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.COLUMNS c \
               ON c.TABLE_SCHEMA = k.TABLE_SCHEMA AND c.TABLE_NAME = k.TABLE_NAME \
              AND c.COLUMN_NAME = k.COLUMN_NAME \
             WHERE k.TABLE_SCHEMA = ? AND k.CONSTRAINT_NAME = 'PRIMARY' \
             ORDER BY k.TABLE_NAME, k.ORDINAL_POSITION",
            (database,),
        )
        .map_err(|e| query_error("listing primary keys", &e))?;
    let mut out = Vec::with_capacity(rows.len());
    for (name, engine, bytes, rows_estimate, table_type) in rows {
        let Some(engine) = engine else {
            return Err(Error::database(format!(
                "the server cannot open table `{database}`.`{name}`"
            ))
            .with_hint(
                "repair or drop the table (CHECK TABLE names the problem), then back up again",
            ));
        };
        let mut cols: Vec<String> = columns
            .iter()
            .filter(|(t, _, extra, _)| {
                t == &name && !extra.to_ascii_uppercase().contains("GENERATED")
            })
            .map(|(_, c, _, _)| c.clone())
            .collect();
        let history = table_type == "SYSTEM VERSIONED";
        if history {
            // Named columns when the table declares them, else the
            // invisible ones the server adds.
            let period = |which: &str, implicit: &str| {
                columns
                    .iter()
                    .find(|(t, _, _, g)| t == &name && g.as_deref() == Some(which))
                    .map(|(_, c, _, _)| c.clone())
                    .unwrap_or_else(|| implicit.to_string())
            };
            cols.push(period("ROW START", "row_start"));
            cols.push(period("ROW END", "row_end"));
        }
        let pk: Vec<&(String, String, String)> =
            keys.iter().filter(|(t, _, _)| t == &name).collect();
        let split_key = match pk.as_slice() {
            [(_, col, ty)] if is_integer(ty) && cols.contains(col) => Some(col.clone()),
            _ => None,
        };
        out.push(TableInfo {
            stream: table_stream(&name),
            name,
            engine,
            columns: cols,
            bytes: bytes.unwrap_or(0),
            rows_estimate: rows_estimate.unwrap_or(0),
            parts: 1,
            split_key,
            history,
        });
    }
    Ok(out)
}

fn is_integer(data_type: &str) -> bool {
    matches!(
        data_type.to_ascii_lowercase().as_str(),
        "tinyint" | "smallint" | "mediumint" | "int" | "bigint"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_literals_are_quoted() {
        assert_eq!(quote_ident("a`b c"), "`a``b c`");
        assert_eq!(quote_literal("it's a \\ \0"), "'it''s a \\\\ \\0'");
    }
}
