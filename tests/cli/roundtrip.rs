//! Backup → restore gives back the same database: schema, every row, and a
//! sound file, for WAL and rollback-journal databases, encrypted and
//! unencrypted repositories, by id, prefix and `latest`, and through the
//! default repository.

use crate::common;

use common::*;
use std::path::Path;

fn journal_mode(path: &Path) -> String {
    let c = open(path);
    c.query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap()
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

/// The shortest prefix (at least 4 digits) that names only `id` among `all`.
fn unique_prefix(id: &str, all: &[String]) -> String {
    (4..=id.len())
        .map(|n| &id[..n])
        .find(|p| all.iter().filter(|o| o.starts_with(p)).count() == 1)
        .unwrap()
        .to_string()
}

/// Entries of `dir` whose name starts with `.` (restore temporaries).
fn hidden_entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[test]
fn wal_and_rollback_journal_databases_restore_identically() {
    let s = Scratch::new();
    let vault = Vault::init(&s, s.join("repo"));
    let wal = s.join("wal_fixture.db");
    let journal = s.join("journal_fixture.db");
    make_fixture(&wal, "wal", 1);
    make_fixture(&journal, "delete", 2);

    // Keep committed changes in the -wal file only: the backup must see them.
    let mut live = open(&wal);
    live.execute_batch("PRAGMA wal_autocheckpoint = 0").unwrap();
    add_fixture_rows(&mut live, 1, 300, 360);
    live.execute("UPDATE customers SET note = NULL WHERE id < 20", [])
        .unwrap();
    let wal_file = s.join("wal_fixture.db-wal");
    assert!(
        file_len(&wal_file) > 0,
        "fixture should have uncheckpointed frames"
    );
    let expected_wal = fingerprint(&wal);
    let expected_journal = fingerprint(&journal);
    assert_eq!(expected_wal.tables["customers"].0, 360);

    let report = vault.backup(&[&wal, &journal]);
    drop(live);
    assert_eq!(
        report["repository"].as_str().unwrap(),
        vault.repo.to_str().unwrap()
    );
    assert!(report["started_at"].as_str().unwrap().starts_with("20"));
    assert!(report["duration_secs"].as_f64().unwrap() >= 0.0);
    let items = report["databases"].as_array().unwrap();
    assert_eq!(items[0]["database"], "wal_fixture");
    assert_eq!(items[1]["database"], "journal_fixture");
    for item in items {
        assert_eq!(item["status"], "ok");
        assert!(item["error"].is_null());
        assert!(item["bytes_stored"].as_u64().unwrap() > 0);
        assert!(item["duration_secs"].as_f64().unwrap() >= 0.0);
        assert!(item["throughput_mib_s"].as_f64().unwrap() >= 0.0);
        let ratio = item["dedupe_ratio"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&ratio));
    }
    // A quiescent rollback-journal database is read whole: its file size.
    assert_eq!(items[1]["bytes_read"].as_u64().unwrap(), file_len(&journal));
    assert!(items[0]["bytes_read"].as_u64().unwrap() > 0);

    let out = s.join("out");
    std::fs::create_dir(&out).unwrap();
    for (item, expected, mode) in [
        (&items[0], &expected_wal, "wal"),
        (&items[1], &expected_journal, "delete"),
    ] {
        let point = point_of(item);
        let target = out.join(format!("{mode}.db"));
        let r = vault.restore(&point, &target);
        let restored = &r["databases"][0];
        assert_eq!(restored["status"], "ok");
        assert_eq!(restored["restore_point"].as_str().unwrap(), point);
        assert_eq!(
            restored["target"].as_str().unwrap(),
            target.to_str().unwrap()
        );
        assert_eq!(restored["bytes_read"], item["bytes_read"]);
        assert_eq!(file_len(&target), item["bytes_read"].as_u64().unwrap());
        assert_same_db(&target, expected);
        assert_eq!(journal_mode(&target), mode);
    }
    assert_eq!(
        hidden_entries(&out),
        Vec::<String>::new(),
        "restore left temporaries"
    );
}

fn pragma(path: &Path, name: &str) -> i64 {
    open(path)
        .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn page_sizes_free_pages_and_auto_vacuum_survive_the_round_trip() {
    let s = Scratch::new();
    let vault = Vault::init(&s, s.join("repo"));
    for (page_size, vacuum, journal) in [(512, 0, "delete"), (65536, 1, "wal"), (8192, 2, "delete")]
    {
        let db = s.join(&format!("p{page_size}.db"));
        {
            let c = open(&db);
            c.execute_batch(&format!(
                "PRAGMA page_size = {page_size}; PRAGMA auto_vacuum = {vacuum};
                 CREATE TABLE t(x); DROP TABLE t;"
            ))
            .unwrap();
        }
        make_fixture(&db, journal, page_size as u64);
        // Free pages inside the file.
        open(&db)
            .execute_batch(
                "DELETE FROM documents WHERE id % 20 = 0; DELETE FROM orders WHERE id % 3 = 0;",
            )
            .unwrap();
        assert_eq!(pragma(&db, "page_size"), page_size);
        if vacuum == 0 {
            assert!(pragma(&db, "freelist_count") > 0);
        }
        let expected = fingerprint(&db);
        let freelist = pragma(&db, "freelist_count");
        let point = vault.backup_one(&db);
        let t = s.join(&format!("restored-{page_size}.db"));
        vault.restore(&point, &t);
        assert_same_db(&t, &expected);
        assert_eq!(pragma(&t, "page_size"), page_size);
        assert_eq!(pragma(&t, "auto_vacuum"), vacuum);
        assert_eq!(pragma(&t, "freelist_count"), freelist);
        assert_eq!(journal_mode(&t), journal);
    }
}

#[test]
fn second_backup_dedupes_and_older_point_keeps_old_content() {
    let s = Scratch::new();
    let vault = Vault::init(&s, s.join("repo"));
    let db = s.join("shop.db");
    make_fixture(&db, "delete", 3);
    {
        let mut c = open(&db);
        c.execute_batch("CREATE TABLE blobs(id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
            .unwrap();
        fill_blobs(&mut c, 8 << 20, 33);
    }
    let before = fingerprint(&db);
    let r1 = vault.backup(&[&db]);
    let first = &r1["databases"][0];
    let p1 = point_of(first);
    let read1 = first["bytes_read"].as_u64().unwrap();
    assert_eq!(read1, file_len(&db));
    assert!(first["bytes_new"].as_u64().unwrap() > read1 / 2);

    // A few changes here and there.
    {
        let mut c = open(&db);
        c.execute(
            "UPDATE customers SET note = 'changed ' || id WHERE id IN (1, 150, 299)",
            [],
        )
        .unwrap();
        c.execute("DELETE FROM orders WHERE id IN (5, 400)", [])
            .unwrap();
        add_fixture_rows(&mut c, 3, 300, 305);
    }
    let after = fingerprint(&db);
    assert_ne!(before, after);

    let r2 = vault.backup(&[&db]);
    let second = &r2["databases"][0];
    let p2 = point_of(second);
    assert_ne!(p1, p2);
    let read2 = second["bytes_read"].as_u64().unwrap();
    let new2 = second["bytes_new"].as_u64().unwrap();
    assert_eq!(read2, file_len(&db));
    assert!(
        new2 * 4 < read2,
        "second backup stored {new2} new bytes of {read2}: no dedupe"
    );
    assert!(second["dedupe_ratio"].as_f64().unwrap() > 0.75);
    assert!(
        second["bytes_stored"].as_u64().unwrap() * 3 < first["bytes_stored"].as_u64().unwrap(),
        "second backup stored nearly as much as the first"
    );

    // Nothing changed since: nothing new at all.
    let r3 = vault.backup(&[&db]);
    assert_eq!(r3["databases"][0]["bytes_new"].as_u64().unwrap(), 0);
    assert_eq!(r3["databases"][0]["dedupe_ratio"].as_f64().unwrap(), 1.0);

    let old = s.join("old.db");
    vault.restore(&p1, &old);
    assert_same_db(&old, &before);
    let new = s.join("new.db");
    vault.restore(&p2, &new);
    assert_same_db(&new, &after);
}

#[test]
fn unencrypted_repository_round_trips() {
    let s = Scratch::new();
    let vault = Vault::init_unencrypted(&s, s.join("plain-repo"));
    let db = s.join("plain.db");
    make_blob_db(&db, "delete", 1 << 20, 4);
    plant_marker(&db, 44);
    let expected = fingerprint(&db);
    // No password anywhere: not needed for an unencrypted repository.
    let point = vault.backup_one(&db);
    assert_eq!(vault.points().len(), 1);
    let target = s.join("restored.db");
    vault.restore(&point, &target);
    assert_same_db(&target, &expected);
    // Control for the encryption test: without encryption the planted
    // marker is readable in the repository files.
    assert!(
        !files_containing(&vault.repo, MARKER.as_bytes()).is_empty(),
        "an unencrypted repository should hold the incompressible marker as is"
    );
}

#[test]
fn encrypted_repository_holds_no_plaintext() {
    let s = Scratch::new();
    let vault = Vault::init(&s, s.join("repo"));
    let text_db = s.join("text.db");
    make_fixture(&text_db, "delete", 5);
    let blob_db = s.join("blob.db");
    make_blob_db(&blob_db, "wal", 1 << 20, 6);
    plant_marker(&blob_db, 66);
    for db in [&text_db, &blob_db] {
        assert!(!files_containing(db.parent().unwrap(), MARKER.as_bytes()).is_empty());
    }
    let expected = fingerprint(&blob_db);
    let report = vault.backup(&[&text_db, &blob_db]);
    let leaks = files_containing(&vault.repo, MARKER.as_bytes());
    assert!(leaks.is_empty(), "plaintext marker found in {leaks:?}");
    let leaks = files_containing(&vault.repo, PASSWORD.as_bytes());
    assert!(leaks.is_empty(), "password found in {leaks:?}");
    let leaks = files_containing(&vault.repo, b"SQLite format 3\0");
    assert!(leaks.is_empty(), "SQLite header found in {leaks:?}");
    let target = s.join("back.db");
    vault.restore(&point_of(&report["databases"][1]), &target);
    assert_same_db(&target, &expected);
}

#[test]
fn points_lists_and_restore_by_prefix_and_latest() {
    let s = Scratch::new();
    let vault = Vault::init(&s, s.join("repo"));
    let a = s.join("alpha.db");
    let b = s.join("beta.db");
    make_fixture(&a, "delete", 7);
    make_fixture(&b, "wal", 8);
    let size_a1 = file_len(&a);
    let a1 = fingerprint(&a);
    let pa1 = vault.backup_one(&a);
    {
        let mut c = open(&a);
        add_fixture_rows(&mut c, 7, 1000, 1100);
    }
    let size_a2 = file_len(&a);
    let a2 = fingerprint(&a);
    let pa2 = vault.backup_one(&a);
    let b1 = fingerprint(&b);
    let pb = vault.backup_one(&b);

    let points = vault.points();
    let ids: Vec<String> = points
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids,
        vec![pa1.clone(), pa2.clone(), pb.clone()],
        "oldest first"
    );
    let canon_a = std::fs::canonicalize(&a).unwrap();
    for (p, db, size) in [
        (&points[0], "alpha", Some(size_a1)),
        (&points[1], "alpha", Some(size_a2)),
        (&points[2], "beta", None),
    ] {
        assert_eq!(p["database"], db);
        assert_eq!(p["engine"], "sqlite");
        assert!(!p["hostname"].as_str().unwrap().is_empty());
        assert!(p["created_at"].as_str().unwrap().starts_with("20"));
        assert!(p["bytes_stored"].as_u64().unwrap() > 0);
        if let Some(size) = size {
            assert_eq!(p["size"].as_u64().unwrap(), size);
            assert_eq!(p["source"].as_str().unwrap(), canon_a.to_str().unwrap());
        }
    }
    assert!(points[0]["created_at"].as_str() <= points[1]["created_at"].as_str());

    let only_a = vault.run(&["--json", "points", "--database", "alpha"]);
    only_a.expect_code(0);
    let only_a = only_a.json();
    let only_a: Vec<&str> = only_a
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(only_a, vec![pa1.as_str(), pa2.as_str()]);

    // A unique prefix (any case) names the point.
    let prefix = unique_prefix(&pa1, &ids).to_ascii_uppercase();
    let t = s.join("by-prefix.db");
    let r = vault.restore(&prefix, &t);
    assert_eq!(r["databases"][0]["restore_point"].as_str().unwrap(), pa1);
    assert_same_db(&t, &a1);

    let t = s.join("by-full-id.db");
    vault.restore(&pa2, &t);
    assert_same_db(&t, &a2);

    let t = s.join("latest-alpha.db");
    let out = vault.restore_with("latest", &t, &["--database", "alpha"]);
    out.expect_code(0);
    assert_eq!(
        out.json()["databases"][0]["restore_point"]
            .as_str()
            .unwrap(),
        pa2
    );
    assert_same_db(&t, &a2);

    let t = s.join("latest.db");
    let r = vault.restore("latest", &t);
    assert_eq!(r["databases"][0]["restore_point"].as_str().unwrap(), pb);
    assert_same_db(&t, &b1);

    let t = s.join("none.db");
    let out = vault.restore_with("latest", &t, &["--database", "gamma"]);
    out.expect_code(2);
    assert!(!t.exists());
}

#[test]
fn default_repository_is_created_on_first_backup_and_reused() {
    let s = Scratch::new();
    let home = s.home();
    let repo = home.join(".local/share/sqlvault/repository");
    let key = home.join(".config/sqlvault/default.key");
    let db = s.join("app.db");
    make_fixture(&db, "wal", 9);
    let expected = fingerprint(&db);

    // Before any backup there is nothing to list, and nothing is created.
    let out = run(s.command().args(["--no-progress", "points"]));
    out.expect_code(2);
    assert!(!repo.exists() && !key.exists());

    let out = run(s
        .command()
        .args(["--no-progress", "--json", "backup"])
        .arg(&db));
    out.expect_code(0);
    assert_eq!(out.json()["status"], "ok");
    assert!(
        out.stderr.contains("created the default repository"),
        "no note on stderr: {}",
        out.stderr
    );
    assert!(out.stderr.contains(key.to_str().unwrap()));
    assert!(repo.join("config").is_file());
    let meta = std::fs::metadata(&key).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o600, "key file mode");
    let key_text = std::fs::read_to_string(&key).unwrap();
    let key_hex = key_text.trim();
    assert!(key_hex.len() >= 32 && key_hex.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(!out.stdout.contains(key_hex) && !out.stderr.contains(key_hex));

    {
        let mut c = open(&db);
        add_fixture_rows(&mut c, 9, 500, 520);
    }
    let expected2 = fingerprint(&db);
    let out = run(s
        .command()
        .args(["--no-progress", "--json", "backup"])
        .arg(&db));
    out.expect_code(0);
    assert!(
        !out.stderr.contains("created"),
        "second backup created again: {}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&key).unwrap(), key_text);

    let out = run(s.command().args(["--json", "points"]));
    out.expect_code(0);
    let points = out.json();
    let points = points.as_array().unwrap();
    assert_eq!(points.len(), 2);

    let t = s.join("first.db");
    let first = points[0]["id"].as_str().unwrap();
    run(s
        .command()
        .args(["--no-progress", "restore", first, "--to"])
        .arg(&t))
    .expect_code(0);
    assert_same_db(&t, &expected);
    let t = s.join("latest.db");
    run(s
        .command()
        .args(["--no-progress", "restore", "latest", "--to"])
        .arg(&t))
    .expect_code(0);
    assert_same_db(&t, &expected2);

    // The default repository is encrypted too.
    let leaks = files_containing(&repo, MARKER.as_bytes());
    assert!(leaks.is_empty(), "plaintext marker found in {leaks:?}");
}
