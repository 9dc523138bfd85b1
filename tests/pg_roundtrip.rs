//! PostgreSQL backup and restore of a database with one of everything:
//! the restored database's schema dump equals the source's, and every
//! table, large object and sequence holds the same content.

mod common;
mod pg_common;

use common::{Scratch, Vault, point_of};
use pg_common::compare::{assert_same_contents, assert_same_schema, contents};
use pg_common::{PG_PASSWORD, cluster};
use std::process::Command;

const FIXTURE: &str = include_str!("pg_common/fixture.sql");

/// The vault's command with the database password in the environment.
fn pg_cmd(v: &Vault) -> Command {
    let mut c = v.cmd();
    cluster().env(&mut c);
    c
}

fn run(c: &mut Command) -> common::Out {
    let out = common::run(c);
    for text in [&out.stdout, &out.stderr] {
        assert!(
            !text.contains(PG_PASSWORD),
            "the database password leaked:\n{text}"
        );
    }
    out
}

#[test]
fn fixture_round_trips_with_identical_schema_and_rows() {
    let pg = cluster();
    let src = "Fixture Src ü";
    let dst = "restored copy";
    pg.create_db(src);
    pg.drop_db(dst);
    pg.client(src).batch_execute(FIXTURE).unwrap();

    let s = Scratch::new();
    let v = Vault::init(&s, s.join("repo"));
    // The password in the URL must be redacted everywhere it is shown.
    let out = run(pg_cmd(&v)
        .args(["--json", "backup", "--jobs", "3"])
        .arg(pg.url_with_password(src)));
    out.expect_code(0);
    let report = out.json();
    assert_eq!(report["status"], "ok", "{report:#}");
    let point = point_of(&report["databases"][0]);
    assert_eq!(report["databases"][0]["database"], src);

    let points = v.points();
    assert_eq!(points[0]["engine"], "postgres");
    let source = points[0]["source"].as_str().unwrap();
    assert!(
        !source.contains(PG_PASSWORD) && !source.contains(":***"),
        "{source}"
    );
    assert_eq!(
        source,
        format!(
            "postgres://postgres@127.0.0.1:{}/Fixture%20Src%20ü",
            pg.port
        )
    );

    // `show` lists every table, partitions included, with the rows the
    // source holds, every sequence, and the large objects.
    let out = run(pg_cmd(&v).args(["--json", "show", &point]));
    out.expect_code(0);
    let shown = out.json();
    assert_eq!(shown["engine"], "postgres");
    assert!(shown["versions"]["server"].is_string(), "{shown:#}");
    assert!(shown["versions"]["pg_dump"].is_string(), "{shown:#}");
    let entries = shown["fingerprints"]["tables"].as_array().unwrap();
    let mut c = pg.client(src);
    let tables = c
        .query(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
             AND n.nspname NOT LIKE 'pg\\_%'",
            &[],
        )
        .unwrap();
    assert!(tables.len() > 5);
    for t in &tables {
        let (schema, name): (String, String) = (t.get(0), t.get(1));
        let count: i64 = c
            .query_one(
                &format!(
                    "SELECT count(*) FROM ONLY \"{}\".\"{}\"",
                    schema.replace('"', "\"\""),
                    name.replace('"', "\"\"")
                ),
                &[],
            )
            .unwrap()
            .get(0);
        let e = entries
            .iter()
            .find(|e| e["kind"] == "table" && e["name"] == format!("{schema}.{name}"))
            .unwrap_or_else(|| panic!("show lacks {schema}.{name}: {shown:#}"));
        assert_eq!(e["rows"], count, "{schema}.{name}");
        assert_eq!(e["digest"].as_str().unwrap().len(), 32);
    }
    assert!(entries.iter().any(|e| e["kind"] == "sequence"));
    assert!(entries.iter().any(|e| e["kind"] == "large-objects"));

    let out = run(pg_cmd(&v)
        .args(["--json", "restore", &point, "--to"])
        .arg(pg.url_with_password(dst)));
    out.expect_code(0);
    let r = out.json();
    assert_eq!(r["status"], "ok", "{r:#}");
    assert!(!r.to_string().contains(PG_PASSWORD));
    let check = r["databases"][0]["check"].as_str().unwrap();
    assert_eq!(
        check,
        format!("full: {} fingerprints match", entries.len()),
        "{r:#}"
    );

    assert_same_schema(&pg.schema_dump(src), &pg.schema_dump(dst));
    let expected = contents(&mut pg.client(src));
    assert!(expected.keys().any(|k| k.starts_with("large object")));
    assert!(expected.contains_key("r public.measurements_2025_other"));
    assert_same_contents(&expected, &contents(&mut pg.client(dst)));
    assert!(
        pg.databases_like("sqlvault_restore_").is_empty(),
        "a temporary database was left behind"
    );

    // The sessions kept in the repository hold no password either.
    let out = run(pg_cmd(&v).args(["--json", "sessions"]));
    out.expect_code(0);
    assert!(!out.stdout.contains(PG_PASSWORD));

    // A second backup of the unchanged database stores almost nothing new.
    let out = run(pg_cmd(&v).args(["--json", "backup"]).arg(pg.url(src)));
    out.expect_code(0);
    let second = out.json();
    let read = second["databases"][0]["bytes_read"].as_u64().unwrap();
    let new = second["databases"][0]["bytes_new"].as_u64().unwrap();
    assert!(
        new * 10 < read,
        "second backup stored {new} of {read} bytes"
    );

    // verify --restore proves both points restorable in scratch databases
    // on the server it is given, and leaves none behind.
    let out = run(pg_cmd(&v).args(["--json", "verify", "--restore"]));
    out.expect_code(0);
    let r = out.json();
    assert!(
        r["warnings"].to_string().contains("not test-restored"),
        "{r:#}"
    );
    let out = run(pg_cmd(&v)
        .args(["--json", "verify", "--restore", "--pg-server"])
        .arg(pg.url("postgres")));
    out.expect_code(0);
    let r = out.json();
    assert_eq!(r["status"], "ok", "{r:#}");
    assert_eq!(r["databases"].as_array().unwrap().len(), 2);
    assert!(!r["warnings"].to_string().contains("not test-restored"));
    assert!(pg.databases_like("sqlvault_verify_").is_empty());
    assert!(pg.databases_like("sqlvault_restore_").is_empty());
}

/// The streams of the only restore point of an unencrypted repository.
fn stream_names(repo: &std::path::Path) -> Vec<String> {
    let dir = repo.join("points");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let bytes = std::fs::read(file).unwrap();
    let body = &bytes[8..bytes.len() - 32];
    let json: serde_json::Value = serde_json::from_slice(&zstd::decode_all(body).unwrap()).unwrap();
    json["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn large_tables_are_shared_by_several_connections() {
    let pg = cluster();
    pg.create_db("big_src");
    pg.client("big_src")
        .batch_execute(
            "CREATE TYPE mood AS ENUM ('sad', 'happy');
             CREATE TABLE big_bin (id bigint PRIMARY KEY, v text);
             CREATE TABLE big_text (id bigint, m mood[], v text);
             INSERT INTO big_bin SELECT i, md5(i::text) || md5((i * 7)::text) FROM generate_series(1, 800000) i;
             INSERT INTO big_text SELECT i, ARRAY['happy', 'sad']::mood[], md5(i::text) || 'x' FROM generate_series(1, 800000) i;
             CREATE TABLE small (id int); INSERT INTO small VALUES (1), (2);",
        )
        .unwrap();
    let expected = contents(&mut pg.client("big_src"));

    // Backed up in parts (one per connection), restored part by part.
    let s = Scratch::new();
    let v = Vault::init_unencrypted(&s, s.join("repo"));
    let out = run(pg_cmd(&v)
        .args(["--json", "backup", "--jobs", "2"])
        .arg(pg.url("big_src")));
    out.expect_code(0);
    let point = point_of(&out.json()["databases"][0]);
    let names = stream_names(&v.repo);
    for n in [
        "data/\"public\".\"big_bin\"#1",
        "data/\"public\".\"big_text\"#1",
    ] {
        assert!(names.iter().any(|s| s == n), "no {n} in {names:?}");
    }
    assert!(
        !names
            .iter()
            .any(|s| s.starts_with("data/\"public\".\"small\"#"))
    );
    pg.drop_db("big_parts");
    run(pg_cmd(&v)
        .args(["restore", &point, "--jobs", "2", "--to"])
        .arg(pg.url("big_parts")))
    .expect_code(0);
    assert_same_contents(&expected, &contents(&mut pg.client("big_parts")));

    // Backed up whole (--jobs 1), then split by rows across connections on restore.
    let s2 = Scratch::new();
    let v2 = Vault::init(&s2, s2.join("repo"));
    let out = run(pg_cmd(&v2)
        .args(["--json", "backup", "--jobs", "1"])
        .arg(pg.url("big_src")));
    out.expect_code(0);
    let point = point_of(&out.json()["databases"][0]);
    pg.drop_db("big_rows");
    run(pg_cmd(&v2)
        .args(["restore", &point, "--jobs", "3", "--to"])
        .arg(pg.url("big_rows")))
    .expect_code(0);
    assert_same_contents(&expected, &contents(&mut pg.client("big_rows")));
}
