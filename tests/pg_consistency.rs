//! Every table of a PostgreSQL backup comes from the same instant: while
//! the backup runs, transactions move money between accounts kept in two
//! tables and log each move in a third; the restored database adds up
//! exactly.

mod common;
mod pg_common;

use common::{Scratch, Vault, point_of};
use pg_common::cluster;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

const ACCOUNTS: i64 = 500;
const START_BALANCE: i64 = 1_000;

fn totals(c: &mut postgres::Client) -> (i64, i64, i64, i64) {
    let r = c
        .query_one(
            "SELECT (SELECT sum(balance) FROM accounts_a)::bigint, \
                    (SELECT sum(balance) FROM accounts_b)::bigint, \
                    (SELECT coalesce(sum(CASE WHEN from_a THEN amount ELSE -amount END), 0) FROM transfers)::bigint, \
                    (SELECT count(*) FROM transfers)",
            &[],
        )
        .unwrap();
    (r.get(0), r.get(1), r.get(2), r.get(3))
}

#[test]
fn restored_totals_are_exact_while_money_moves_during_the_backup() {
    let pg = cluster();
    let db = "bank";
    pg.create_db(db);
    pg.drop_db("bank_restored");
    pg.client(db)
        .batch_execute(&format!(
            "CREATE TABLE accounts_a (id int PRIMARY KEY, balance bigint NOT NULL);
             CREATE TABLE accounts_b (id int PRIMARY KEY, balance bigint NOT NULL);
             CREATE TABLE transfers (id bigserial PRIMARY KEY, from_a bool NOT NULL, amount bigint NOT NULL);
             -- Large enough that the copy takes a while, copied first (largest first).
             CREATE TABLE filler (id int PRIMARY KEY, body text);
             INSERT INTO accounts_a SELECT i, {START_BALANCE} FROM generate_series(1, {ACCOUNTS}) i;
             INSERT INTO accounts_b SELECT i, {START_BALANCE} FROM generate_series(1, {ACCOUNTS}) i;
             INSERT INTO filler SELECT i, repeat(md5(i::text), 6) FROM generate_series(1, 250000) i;"
        ))
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let moved = Arc::new(AtomicU64::new(0));
    let movers: Vec<_> = (0..3u64)
        .map(|t| {
            let (stop, moved) = (stop.clone(), moved.clone());
            std::thread::spawn(move || {
                let mut c = cluster().client(db);
                let mut rng = common::Rng::new(t + 1);
                while !stop.load(Ordering::Relaxed) {
                    let id = 1 + rng.below(ACCOUNTS as u64) as i32;
                    let amount = 1 + rng.below(50) as i64;
                    let from_a = rng.below(2) == 0;
                    let (from, to) = if from_a {
                        ("accounts_a", "accounts_b")
                    } else {
                        ("accounts_b", "accounts_a")
                    };
                    let r = (|| -> Result<(), postgres::Error> {
                        let mut tx = c.transaction()?;
                        tx.execute(
                            &format!("UPDATE {from} SET balance = balance - $1 WHERE id = $2"),
                            &[&amount, &id],
                        )?;
                        tx.execute(
                            &format!("UPDATE {to} SET balance = balance + $1 WHERE id = $2"),
                            &[&amount, &id],
                        )?;
                        tx.execute(
                            "INSERT INTO transfers (from_a, amount) VALUES ($1, $2)",
                            &[&from_a, &amount],
                        )?;
                        tx.commit()
                    })();
                    match r {
                        Ok(()) => {
                            moved.fetch_add(1, Ordering::Relaxed);
                        }
                        // Two movers on one row may deadlock; the loser retries.
                        Err(e) if e.code().is_some() => {}
                        Err(e) => panic!("transfer failed: {e}"),
                    }
                }
            })
        })
        .collect();
    while moved.load(Ordering::Relaxed) < 100 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let before = moved.load(Ordering::Relaxed);

    let s = Scratch::new();
    let v = Vault::init(&s, s.join("repo"));
    let mut cmd = v.cmd();
    pg.env(&mut cmd);
    let out = common::run(
        cmd.args(["--json", "backup", "--jobs", "4"])
            .arg(pg.url(db)),
    );
    let after = moved.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    for m in movers {
        m.join().unwrap();
    }
    out.expect_code(0);
    let point = point_of(&out.json()["databases"][0]);
    assert!(
        after > before + 20,
        "too few transfers ran during the backup ({before} before, {after} after)"
    );

    let mut cmd = v.cmd();
    pg.env(&mut cmd);
    common::run(
        cmd.args(["--json", "restore", &point, "--to"])
            .arg(pg.url("bank_restored")),
    )
    .expect_code(0);

    let (a, b, net_from_a, count) = totals(&mut pg.client("bank_restored"));
    assert_eq!(
        a + b,
        2 * ACCOUNTS * START_BALANCE,
        "money appeared or vanished"
    );
    // The accounts and the log come from the same instant.
    assert_eq!(
        a,
        ACCOUNTS * START_BALANCE - net_from_a,
        "accounts_a disagrees with the log"
    );
    assert_eq!(
        b,
        ACCOUNTS * START_BALANCE + net_from_a,
        "accounts_b disagrees with the log"
    );
    assert!(
        count as u64 >= before && (count as u64) <= after,
        "restored {count} transfers, outside {before}..={after}"
    );
    let (sa, sb, ..) = totals(&mut pg.client(db));
    assert_eq!(sa + sb, 2 * ACCOUNTS * START_BALANCE);
}
