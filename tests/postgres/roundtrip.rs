//! PostgreSQL backup and restore of large tables, shared by several
//! connections in block ranges (backup) or row ranges (restore): the
//! restored database holds the same content. The round trip of a
//! database with one of everything (schema dump and every table, large
//! object and sequence equal; `show`, the fingerprint check, redacted
//! passwords, dedupe, `verify --restore`) is part of the engine contract
//! in tests/engine_conformance.rs.

use crate::common;
use crate::pg_common;

use common::{Scratch, Vault, point_of};
use pg_common::compare::{assert_same_contents, contents};
use pg_common::{PG_PASSWORD, cluster};
use std::process::Command;

/// The vault's command with the database password in the environment.
fn pg_cmd(v: &Vault) -> Command {
    let mut c = v.cmd();
    cluster().env(&mut c);
    c
}

fn run(c: &mut Command) -> common::Out {
    common::run_hiding(c, PG_PASSWORD)
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
    // The quick check counts each table once, whatever parts it was read in;
    // so does the full check with one connection.
    for (check, jobs, want) in [
        ("quick", "2", "quick: 3 row counts match"),
        ("full", "1", "full: 3 fingerprints match"),
    ] {
        pg.drop_db("big_checked");
        let out = run(pg_cmd(&v)
            .args([
                "--json", "restore", &point, "--jobs", jobs, "--check", check, "--to",
            ])
            .arg(pg.url("big_checked")));
        out.expect_code(0);
        assert_eq!(out.json()["databases"][0]["check"], want, "{}", out.stdout);
    }
    pg.drop_db("big_checked");

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
