//! What a backup reads from the system catalogues, inside the snapshot:
//! the database's settings, the tables whose rows to copy (with the format
//! each can travel in), sequence values and large objects.

use super::connect::query_error;
use super::{CopyFormat, SequenceValue, TableInfo};
use crate::error::{Error, Result};
use postgres::Client;
use std::collections::HashMap;

/// The first OID a user object can have; lower ones are built in and the
/// same in every database of a major version.
const FIRST_NORMAL_OID: u32 = 16384;

#[derive(Debug, Clone)]
pub struct DatabaseInfo {
    pub server_version: String,
    pub server_version_num: i32,
    pub encoding: String,
    pub collate: String,
    pub ctype: String,
    /// `c` (libc) or `i` (ICU), PostgreSQL 15 and later.
    pub locale_provider: Option<String>,
    pub icu_locale: Option<String>,
    pub in_recovery: bool,
}

impl DatabaseInfo {
    pub fn major(&self) -> u32 {
        (self.server_version_num / 10000) as u32
    }
}

pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

pub fn database_info(c: &mut Client) -> Result<DatabaseInfo> {
    let err = |e| query_error("reading the server version", &e);
    let num: i32 = c
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .map_err(err)?
        .get(0);
    let locale_cols = if num >= 150000 {
        "datlocprovider::text, daticulocale"
    } else {
        "NULL::text, NULL::text"
    };
    let r = c
        .query_one(
            &format!(
                "SELECT current_setting('server_version'), pg_encoding_to_char(encoding)::text, \
                 datcollate::text, datctype::text, {locale_cols}, pg_is_in_recovery() \
                 FROM pg_database WHERE datname = current_database()"
            ),
            &[],
        )
        .map_err(err)?;
    Ok(DatabaseInfo {
        server_version: r.get(0),
        server_version_num: num,
        encoding: r.get(1),
        collate: r.get(2),
        ctype: r.get(3),
        locale_provider: r.get(4),
        icu_locale: r.get(5),
        in_recovery: r.get(6),
    })
}

const USER_SCHEMAS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

/// Tables whose rows are copied: ordinary tables and leaf partitions
/// (partitioned parents hold no rows), unlogged ones too, and extension
/// configuration tables with their filter; largest first.
pub fn tables(c: &mut Client) -> Result<Vec<TableInfo>> {
    let err = |e| query_error("listing tables", &e);
    let sql = format!(
        "SELECT c.oid, n.nspname::text, c.relname::text, \
            (pg_relation_size(c.oid) + COALESCE(pg_relation_size(NULLIF(c.reltoastrelid, 0)), 0))::bigint, \
            GREATEST(c.reltuples, 0)::bigint, \
            (pg_relation_size(c.oid) / current_setting('block_size')::bigint), \
            (SELECT x.cond FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(rel, cond) \
              WHERE x.rel = c.oid LIMIT 1), \
            EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
              AND d.objid = c.oid AND d.deptype = 'e') \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind = 'r' AND c.relpersistence <> 't' AND {USER_SCHEMAS} \
         ORDER BY 4 DESC, 2, 3"
    );
    let rows = c.query(&sql, &[]).map_err(err)?;
    let mut out = Vec::new();
    let mut types = TypeCatalog::default();
    for r in rows {
        let oid: u32 = r.get(0);
        let blocks: i64 = r.get(5);
        let filter: Option<String> = r.get(6);
        let member: bool = r.get(7);
        // Extension members are recreated by CREATE EXTENSION; only their
        // configuration tables hold user rows.
        if member && filter.is_none() {
            continue;
        }
        let cols = c
            .query(
                "SELECT attname::text, atttypid FROM pg_attribute WHERE attrelid = $1 \
                 AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
                &[&oid],
            )
            .map_err(err)?;
        let mut columns = Vec::new();
        let mut binary = true;
        for col in cols {
            columns.push(col.get::<_, String>(0));
            binary &= types.binary_safe(c, col.get(1), 0)?;
        }
        let indexes = c
            .query(
                "SELECT i.relname::text FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
                 WHERE x.indrelid = $1 ORDER BY 1",
                &[&oid],
            )
            .map_err(err)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let owned_sequences = c
            .query(
                "SELECT s.relname::text FROM pg_depend d JOIN pg_class s ON s.oid = d.objid \
                 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass \
                 AND d.refobjid = $1 AND s.relkind = 'S' AND d.deptype IN ('a', 'i') ORDER BY 1",
                &[&oid],
            )
            .map_err(err)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let (schema, name): (String, String) = (r.get(1), r.get(2));
        out.push(TableInfo {
            stream: super::table_stream(&schema, &name),
            schema,
            name,
            columns,
            format: if binary {
                CopyFormat::Binary
            } else {
                CopyFormat::Text
            },
            bytes: r.get::<_, i64>(3) as u64,
            rows_estimate: r.get(4),
            filter: filter.filter(|f| !f.is_empty()),
            indexes,
            owned_sequences,
            parts: 1,
            blocks: blocks.max(0) as u64,
        });
    }
    Ok(out)
}

#[derive(Clone, Copy)]
struct TypeRow {
    typtype: i8,
    category: i8,
    elem: u32,
    base: u32,
    relid: u32,
    has_binary_io: bool,
}

/// Decides whether values of a type survive binary COPY into another
/// database: arrays and composites carry their element types' OIDs, which
/// differ there for user-defined types, so those tables travel as text.
#[derive(Default)]
struct TypeCatalog {
    rows: HashMap<u32, TypeRow>,
    verdicts: HashMap<u32, bool>,
}

impl TypeCatalog {
    fn row(&mut self, c: &mut Client, oid: u32) -> Result<TypeRow> {
        if let Some(r) = self.rows.get(&oid) {
            return Ok(*r);
        }
        let r = c
            .query_one(
                "SELECT typtype::\"char\", typcategory::\"char\", typelem, typbasetype, typrelid, \
                 typsend <> 0 AND typreceive <> 0 FROM pg_type WHERE oid = $1",
                &[&oid],
            )
            .map_err(|e| query_error("reading column types", &e))?;
        let row = TypeRow {
            typtype: r.get(0),
            category: r.get(1),
            elem: r.get(2),
            base: r.get(3),
            relid: r.get(4),
            has_binary_io: r.get(5),
        };
        self.rows.insert(oid, row);
        Ok(row)
    }

    fn binary_safe(&mut self, c: &mut Client, oid: u32, depth: u32) -> Result<bool> {
        if let Some(v) = self.verdicts.get(&oid) {
            return Ok(*v);
        }
        if depth > 20 {
            return Ok(false);
        }
        let t = self.row(c, oid)?;
        let v = if !t.has_binary_io {
            false
        } else if t.typtype == b'd' as i8 {
            self.binary_safe(c, t.base, depth + 1)?
        } else if t.category == b'A' as i8 && t.elem != 0 {
            t.elem < FIRST_NORMAL_OID && self.binary_safe(c, t.elem, depth + 1)?
        } else if t.typtype == b'c' as i8 {
            let attrs: Vec<u32> = c
                .query(
                    "SELECT atttypid FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 \
                     AND NOT attisdropped ORDER BY attnum",
                    &[&t.relid],
                )
                .map_err(|e| query_error("reading composite types", &e))?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let mut ok = true;
            for a in attrs {
                ok &= a < FIRST_NORMAL_OID && self.binary_safe(c, a, depth + 1)?;
            }
            ok
        } else if t.typtype == b'r' as i8 || t.typtype == b'm' as i8 {
            oid < FIRST_NORMAL_OID
        } else {
            true
        };
        self.verdicts.insert(oid, v);
        Ok(v)
    }
}

/// Every sequence's current value (sequences are not transactional: like
/// pg_dump, this reads the newest value, which is never below what any
/// row in the snapshot used).
pub fn sequences(c: &mut Client) -> Result<Vec<SequenceValue>> {
    let err = |e| query_error("reading sequences", &e);
    let sql = format!(
        "SELECT n.nspname::text, c.relname::text FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind = 'S' AND {USER_SCHEMAS} \
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
              AND d.objid = c.oid AND d.deptype = 'e') \
         ORDER BY 1, 2"
    );
    let names: Vec<(String, String)> = c
        .query(&sql, &[])
        .map_err(err)?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut out = Vec::with_capacity(names.len());
    for (schema, name) in names {
        let r = c
            .query_one(
                &format!(
                    "SELECT last_value, is_called FROM {}",
                    qualified(&schema, &name)
                ),
                &[],
            )
            .map_err(err)?;
        out.push(SequenceValue {
            schema,
            name,
            last_value: r.get(0),
            is_called: r.get(1),
        });
    }
    Ok(out)
}

/// OIDs of every large object in the snapshot.
pub fn large_objects(c: &mut Client) -> Result<Vec<u32>> {
    Ok(
        c.query("SELECT oid FROM pg_largeobject_metadata ORDER BY oid", &[])
            .map_err(|e| query_error("listing large objects", &e))?
            .iter()
            .map(|r| r.get(0))
            .collect(),
    )
}

/// The check a server must pass before sqlvault works with it.
pub fn check_supported(info: &DatabaseInfo, server: &str) -> Result<()> {
    if info.server_version_num < 120000 {
        return Err(Error::database(format!(
            "`{server}` runs PostgreSQL {}, older than 12, which sqlvault does not support",
            info.server_version
        ))
        .with_hint("use pg_dump for this server"));
    }
    Ok(())
}
