#!/usr/bin/env python3
"""Applies one of the benchmark's changes to a database made by gen_sqlite.py.

    change_sqlite.py --db src.db --mode recent [--seed N]
        inserts 1% new rows (ids and timestamps continue from the newest row)
        and updates 0.5% of the row count among the most recent 5% of rows
        (status and amount; description too for half of them)

    change_sqlite.py --db src.db --mode scatter [--seed N]
        updates 1% of the rows, scattered over the whole table (status, amount)

Fractions are of the row count before the change. Runs in one transaction and
ends with PRAGMA wal_checkpoint(TRUNCATE), so the main file holds every change.
Prints one JSON line on stdout: rows before and after, inserted, updated, seconds.
"""
import argparse
import json
import os
import random
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_sqlite as gen  # noqa: E402


def change(path, mode, seed, insert_frac=0.01, update_frac=None, recent_frac=0.05):
    started = time.monotonic()
    rng = random.Random(seed)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=NORMAL")
    rows_before, max_id = db.execute("SELECT count(*), max(id) FROM orders").fetchone()
    if not rows_before:
        raise SystemExit(f"change_sqlite: {path}: table orders is empty")
    min_id = db.execute("SELECT min(id) FROM orders").fetchone()[0]
    inserted = updated = 0

    db.execute("BEGIN")
    if mode == "recent":
        if update_frac is None:
            update_frac = 0.005
        vocab = gen.Vocabulary()
        stamps = gen.Timestamps()
        last_t = gen.Timestamps.parse(db.execute("SELECT created_at FROM orders WHERE id = ?", (max_id,)).fetchone()[0])

        n_insert = max(1, round(rows_before * insert_frac))
        sample_ids = [rng.randint(min_id, max_id) for _ in range(min(n_insert, 20000))]
        customers = []
        for i in range(0, len(sample_ids), 500):
            part = sample_ids[i:i + 500]
            customers.extend(db.execute(
                f"SELECT customer_id, name, email FROM orders WHERE id IN ({','.join('?' * len(part))})", part
            ).fetchall())
        new_rows, _ = gen.rows(rng, vocab, stamps, max_id + 1, last_t, n_insert, customers)
        db.executemany(gen.INSERT, new_rows)
        inserted = n_insert

        n_update = max(1, round(rows_before * update_frac))
        window = max(n_update, round(rows_before * recent_frac))
        lo = max(min_id, max_id - window + 1)
        ids = rng.sample(range(lo, max_id + 1), min(n_update, max_id - lo + 1))
        statuses = rng.choices(gen.STATUSES, k=len(ids))
        amounts = gen.amounts(rng, len(ids))
        half = len(ids) // 2
        descs = vocab.descriptions(rng, half)
        db.executemany(
            "UPDATE orders SET status = ?, amount = ?, description = ? WHERE id = ?",
            [(statuses[i], amounts[i], descs[i], ids[i]) for i in range(half)],
        )
        db.executemany(
            "UPDATE orders SET status = ?, amount = ? WHERE id = ?",
            [(statuses[i], amounts[i], ids[i]) for i in range(half, len(ids))],
        )
        updated = len(ids)
    elif mode == "scatter":
        if update_frac is None:
            update_frac = 0.01
        n_update = max(1, round(rows_before * update_frac))
        ids = rng.sample(range(min_id, max_id + 1), min(n_update, max_id - min_id + 1))
        statuses = rng.choices(gen.STATUSES, k=len(ids))
        amounts = gen.amounts(rng, len(ids))
        db.executemany(
            "UPDATE orders SET status = ?, amount = ? WHERE id = ?",
            [(statuses[i], amounts[i], ids[i]) for i in range(len(ids))],
        )
        updated = len(ids)
    else:
        raise SystemExit(f"change_sqlite: unknown mode {mode!r}")
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    rows_after = db.execute("SELECT count(*) FROM orders").fetchone()[0]
    db.close()
    return {
        "mode": mode,
        "rows_before": rows_before,
        "rows_after": rows_after,
        "inserted": inserted,
        "updated": updated,
        "bytes": os.path.getsize(path),
        "seconds": round(time.monotonic() - started, 2),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--mode", required=True, choices=["recent", "scatter"])
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if not os.path.exists(args.db):
        ap.error(f"{args.db}: no such file")
    print(json.dumps(change(args.db, args.mode, args.seed)))


if __name__ == "__main__":
    main()
