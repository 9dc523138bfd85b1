//! A long history stays cheap: 30 successive backups, each after the same
//! share of rows was updated at random, each store about what the 2nd
//! stored, and the 30th restores with about the work of the 2nd.
//!
//! Restore work is measured as the pack bytes and requests the restore
//! reports (deterministic on any machine); `scripts/bench-chains` times
//! the same history on a larger database.

use crate::common;

use common::*;
use std::path::Path;

const ROWS: i64 = 400_000;
const BACKUPS: usize = 30;
/// Rows updated before each backup, per mille (0.2%).
const SHARE_PER_MILLE: u64 = 2;

fn make_accounts(path: &Path) {
    let mut c = open(path);
    c.execute_batch(
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT NOT NULL,
           balance INTEGER NOT NULL, note TEXT, updated_at REAL NOT NULL);",
    )
    .unwrap();
    let mut rng = Rng::new(11);
    let tx = c.transaction().unwrap();
    {
        let mut st = tx
            .prepare("INSERT INTO accounts VALUES (?1, ?2, ?3, ?4, ?5)")
            .unwrap();
        for id in 0..ROWS {
            st.execute(rusqlite::params![
                id,
                rng.words(3),
                rng.below(1_000_000) as i64,
                rng.words(6),
                rng.below(1 << 40) as f64 / 1e3,
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
}

/// Update the same share of rows, chosen at random, as a busy day would.
fn update_some(path: &Path, seed: u64) {
    let mut c = open(path);
    let mut rng = Rng::new(seed);
    let tx = c.transaction().unwrap();
    for _ in 0..ROWS as u64 * SHARE_PER_MILLE / 1000 {
        tx.execute(
            "UPDATE accounts SET balance = ?1, updated_at = ?2 WHERE id = ?3",
            rusqlite::params![
                rng.below(1_000_000) as i64,
                rng.below(1 << 40) as f64 / 1e3,
                rng.below(ROWS as u64) as i64,
            ],
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

#[test]
fn thirty_backups_each_cost_their_changes_and_the_last_restores_like_the_second() {
    let s = Scratch::new();
    let v = Vault::init(&s, s.join("repo"));
    let db = s.join("accounts.db");
    make_accounts(&db);
    let mut stored = Vec::new();
    let mut points = Vec::new();
    for k in 0..BACKUPS {
        if k > 0 {
            update_some(&db, 100 + k as u64);
        }
        let report = v.backup(&[&db]);
        let item = &report["databases"][0];
        stored.push(item["bytes_stored"].as_u64().unwrap());
        points.push(point_of(item));
    }
    eprintln!("stored by each backup: {stored:?}");
    let second = stored[1];
    let full = stored[0];
    assert!(second * 20 < full, "a change costs its changes: {stored:?}");
    for (k, b) in stored.iter().enumerate().skip(1) {
        assert!(
            *b * 2 <= second * 3,
            "backup {} stored {b} bytes, more than 1.5x the 2nd ({second}): {stored:?}",
            k + 1
        );
    }

    // Restore the 2nd and the 30th: both identical to what was backed up
    // (the default full check), the 30th with about the same work.
    let work = |point: &str, name: &str| {
        let to = s.join(name);
        let r = v.restore(point, &to);
        let item = &r["databases"][0];
        assert!(
            item["check"].as_str().unwrap().starts_with("full:"),
            "{item}"
        );
        (
            item["bytes_fetched"].as_u64().unwrap(),
            item["fetches"].as_u64().unwrap(),
        )
    };
    let (bytes2, reads2) = work(&points[1], "second.db");
    let (bytes30, reads30) = work(&points[BACKUPS - 1], "thirtieth.db");
    eprintln!(
        "restore of the 2nd: {bytes2} bytes in {reads2} reads; the 30th: {bytes30} in {reads30}"
    );
    assert_eq!(fingerprint(&s.join("thirtieth.db")), fingerprint(&db));
    assert!(
        bytes30 * 5 <= bytes2 * 6,
        "the 30th read {bytes30} pack bytes, more than 1.2x the 2nd ({bytes2})"
    );
    // Each backup's patches of neighbouring chunks lie side by side: one
    // read per backup in the chain for each few MiB restored, not one per chunk.
    let chunks = (std::fs::metadata(&db).unwrap().len() >> 18) + 1;
    assert!(
        reads30 < chunks * 10,
        "{reads30} reads for {chunks} chunks (the 2nd: {reads2})"
    );

    // Every link of every chain checks out.
    let out = v.verify(false);
    out.expect_code(0);
}
