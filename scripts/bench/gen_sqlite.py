#!/usr/bin/env python3
"""Generates the SQLite database that scripts/bench-sqlite backs up.

One table, `orders`, of realistic rows: increasing ids and timestamps,
customers that place many orders, prices, a status word, a name and an email
per customer, and a description of 40-300 characters drawn from a vocabulary
of a few thousand pseudo-random words with a Zipf-like frequency, so the file
compresses like real text (roughly 2-4x with zstd -3), not like repeated bytes.

Deterministic for a given seed and size. Writes PATH.tmp and renames it into
place when done, so an interrupted run never leaves a half-written database
under the final name.

    gen_sqlite.py --out orders.db --size-mb 1024 [--seed 20240601]

Prints one JSON line on stdout: rows, bytes, seconds.
"""
import argparse
import calendar
import itertools
import json
import os
import random
import sqlite3
import sys
import time

VOCAB_SEED = 7331
VOCAB_SIZE = 4000
EPOCH_START = 1546300800  # 2019-01-01T00:00:00Z
STATUSES = ["new"] * 4 + ["paid"] * 10 + ["shipped"] * 14 + ["delivered"] * 60 + ["cancelled"] * 5 + ["refunded"] * 3
DOMAINS = ["example.com", "mail.example.org", "shop.example.net", "post.example", "inbox.example.com", "corp.example"]

SCHEMA = """
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    amount REAL NOT NULL,
    status TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL
);
CREATE INDEX orders_created_at ON orders(created_at);
"""

INSERT = "INSERT INTO orders (id, customer_id, created_at, amount, status, email, name, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"

# Letters weighted roughly like English text.
_LETTERS = "etaoinshrdlcumwfgypbvkjxqz"
_LETTER_WEIGHTS = [127, 91, 82, 75, 70, 67, 63, 61, 60, 43, 40, 28, 28, 24, 24, 22, 20, 20, 19, 15, 10, 8, 2, 2, 1, 1]


def _pseudo_word(rng, length):
    return "".join(rng.choices(_LETTERS, weights=_LETTER_WEIGHTS, k=length))


class Vocabulary:
    """Pseudo-random words and a sampling pool with a Zipf-like distribution.

    Frequent words are short, as in natural language. `pool` repeats each word
    in proportion to 1/rank, so random.choices(pool) samples with those
    frequencies at the speed of unweighted sampling.
    """

    def __init__(self, size=VOCAB_SIZE, seed=VOCAB_SEED):
        rng = random.Random(seed)
        words = set()
        while len(words) < size:
            length = min(16, max(2, int(rng.gammavariate(4.0, 1.8)) + 1))
            words.add(_pseudo_word(rng, length))
        # Shorter words get the better ranks, with some noise.
        ranked = sorted(sorted(words), key=lambda w: (len(w) + rng.random() * 8, w))
        self.words = ranked
        pool = []
        for rank, word in enumerate(ranked, start=1):
            pool.extend([word] * max(1, round(12000 / rank)))
        self.pool = pool
        self.mean_len = sum(len(w) + 1 for w in pool) / len(pool)
        first = sorted({_pseudo_word(rng, rng.randint(3, 8)).capitalize() for _ in range(700)})
        last = sorted({_pseudo_word(rng, rng.randint(4, 10)).capitalize() for _ in range(1500)})
        self.first_names = first
        self.last_names = last

    def descriptions(self, rng, n, min_chars=40, max_chars=300):
        """n descriptions of about min_chars..max_chars characters."""
        counts = [max(3, round(rng.randint(min_chars, max_chars) / self.mean_len)) for _ in range(n)]
        words = rng.choices(self.pool, k=sum(counts))
        out = []
        pos = 0
        join = " ".join
        for c in counts:
            out.append(join(words[pos:pos + c]))
            pos += c
        return out

    def customer(self, rng, customer_id):
        first = rng.choice(self.first_names)
        last = rng.choice(self.last_names)
        email = f"{first.lower()}.{last.lower()}{customer_id % 1000}@{rng.choice(DOMAINS)}"
        return f"{first} {last}", email


class Timestamps:
    """ISO 8601 text for epoch seconds, without the cost of strftime per row."""

    def __init__(self):
        self._tod = [f"T{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
        self._days = {}

    def iso(self, t):
        day, sec = divmod(t, 86400)
        d = self._days.get(day)
        if d is None:
            d = time.strftime("%Y-%m-%d", time.gmtime(day * 86400))
            self._days[day] = d
        return d + self._tod[sec]

    @staticmethod
    def parse(text):
        return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%S"))


def amounts(rng, n):
    r = rng.random
    return [round(1.0 + r() * r() * 900.0 + r() * 20.0, 2) for _ in range(n)]


def rows(rng, vocab, stamps, first_id, first_t, n, customers):
    """n new rows with ids from first_id and timestamps after first_t.

    customers: list of (customer_id, name, email) to draw the buyer from.
    Returns (rows, last_t).
    """
    gaps = rng.choices(range(1, 61), k=n)
    ts = list(itertools.accumulate(gaps, initial=first_t))[1:]
    buyers = rng.choices(customers, k=n)
    status = rng.choices(STATUSES, k=n)
    amt = amounts(rng, n)
    desc = vocab.descriptions(rng, n)
    iso = stamps.iso
    out = [
        (first_id + i, b[0], iso(ts[i]), amt[i], status[i], b[2], b[1], desc[i])
        for i, b in enumerate(buyers)
    ]
    return out, ts[-1]


def generate(path, size_mb, seed, quiet=False):
    started = time.monotonic()
    target = size_mb * 1024 * 1024
    tmp = path + ".tmp"
    for p in (tmp, tmp + "-wal", tmp + "-shm"):
        if os.path.exists(p):
            os.remove(p)
    rng = random.Random(seed)
    vocab = Vocabulary()
    stamps = Timestamps()

    # About 300 bytes a row on disk, table and index together; a customer
    # places about 20 orders.
    n_customers = max(100, target // 300 // 20)
    customers = []
    for cid in range(1, n_customers + 1):
        name, email = vocab.customer(rng, cid)
        customers.append((cid, name, email))

    db = sqlite3.connect(tmp, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-65536")
    db.executescript(SCHEMA)
    page_size = db.execute("PRAGMA page_size").fetchone()[0]

    next_id, t = 1, EPOCH_START
    batch = 2000
    per_row = 300.0
    last_report = started
    while True:
        size = db.execute("PRAGMA page_count").fetchone()[0] * page_size
        if size >= target:
            break
        remaining = int((target - size) / per_row) + 1
        n = max(200, min(batch, remaining))
        chunk, t = rows(rng, vocab, stamps, next_id, t, n, customers)
        db.execute("BEGIN")
        db.executemany(INSERT, chunk)
        db.execute("COMMIT")
        next_id += n
        new_size = db.execute("PRAGMA page_count").fetchone()[0] * page_size
        if next_id > 1 and new_size > 0:
            per_row = max(50.0, new_size / (next_id - 1))
        batch = 100_000
        now = time.monotonic()
        if not quiet and now - last_report >= 10:
            print(f"gen_sqlite: {new_size / 2**20:.0f}/{size_mb} MiB, {next_id - 1} rows, {now - started:.0f}s",
                  file=sys.stderr)
            last_report = now

    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    os.replace(tmp, path)
    for p in (tmp + "-wal", tmp + "-shm"):
        if os.path.exists(p):
            os.remove(p)
    return {"rows": next_id - 1, "bytes": os.path.getsize(path), "seconds": round(time.monotonic() - started, 2)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="database file to create (replaced if it exists)")
    ap.add_argument("--size-mb", type=int, required=True, help="target size in MiB")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    if args.size_mb < 1:
        ap.error("--size-mb must be at least 1")
    print(json.dumps(generate(args.out, args.size_mb, args.seed, args.quiet)))


if __name__ == "__main__":
    main()
