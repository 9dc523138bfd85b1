//! Comparing two databases by content: every table's and populated
//! materialized view's rows (ordered, hashed), large objects, sequences.

use std::collections::BTreeMap;

/// name → (row count, md5 of the rows' text forms in order).
pub type Contents = BTreeMap<String, (i64, String)>;

pub fn contents(c: &mut postgres::Client) -> Contents {
    let rels: Vec<(String, String, String)> = c
        .query(
            "SELECT n.nspname::text, c.relname::text, c.relkind::text FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p', 'm') AND c.relispopulated \
               AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
               AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1, 2",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let mut out = Contents::new();
    for (schema, name, kind) in rels {
        let q = format!(
            "{}.{}",
            super::quote_ident(&schema),
            super::quote_ident(&name)
        );
        let r = c
            .query_one(
                &format!(
                    "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) \
                     FROM ONLY {q} t"
                ),
                &[],
            )
            .unwrap();
        out.insert(format!("{kind} {schema}.{name}"), (r.get(0), r.get(1)));
    }
    for r in c
        .query(
            "SELECT oid::text, md5(lo_get(oid)), length(lo_get(oid))::bigint \
             FROM pg_largeobject_metadata ORDER BY oid",
            &[],
        )
        .unwrap()
    {
        out.insert(
            format!("large object {}", r.get::<_, String>(0)),
            (r.get(2), r.get(1)),
        );
    }
    let seqs: Vec<(String, String)> = c
        .query(
            "SELECT schemaname::text, sequencename::text FROM pg_sequences ORDER BY 1, 2",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    for (schema, name) in seqs {
        let q = format!(
            "{}.{}",
            super::quote_ident(&schema),
            super::quote_ident(&name)
        );
        let r = c
            .query_one(&format!("SELECT last_value, is_called::text FROM {q}"), &[])
            .unwrap();
        out.insert(format!("sequence {schema}.{name}"), (r.get(0), r.get(1)));
    }
    out
}

/// Assert that two databases hold the same rows, naming what differs.
#[track_caller]
pub fn assert_same_contents(expected: &Contents, got: &Contents) {
    let mut diffs = Vec::new();
    for (k, v) in expected {
        match got.get(k) {
            None => diffs.push(format!("missing: {k}")),
            Some(g) if g != v => diffs.push(format!("differs: {k}: {v:?} vs {g:?}")),
            _ => {}
        }
    }
    for k in got.keys() {
        if !expected.contains_key(k) {
            diffs.push(format!("unexpected: {k}"));
        }
    }
    assert!(
        diffs.is_empty(),
        "restored contents differ:\n{}",
        diffs.join("\n")
    );
}

/// Assert two schema dumps are identical, showing the first differing lines.
#[track_caller]
pub fn assert_same_schema(expected: &str, got: &str) {
    if expected == got {
        return;
    }
    let (e, g): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), got.lines().collect());
    let first = e
        .iter()
        .zip(&g)
        .position(|(a, b)| a != b)
        .unwrap_or(e.len().min(g.len()));
    let lo = first.saturating_sub(3);
    panic!(
        "schema dumps differ at line {}:\nexpected:\n{}\ngot:\n{}",
        first + 1,
        e[lo..(first + 5).min(e.len())].join("\n"),
        g[lo..(first + 5).min(g.len())].join("\n")
    );
}
