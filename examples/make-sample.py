#!/usr/bin/env python3
"""Builds examples/shop.db, the small sample database the README backs up.

Deterministic: the same file content on every run (apart from SQLite's own
header counters), so it can be rebuilt at will.
"""
import os
import random
import sqlite3
import sys

path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "shop.db")
if os.path.exists(path):
    os.remove(path)
rng = random.Random(2026)
words = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 9))) for _ in range(800)]
db = sqlite3.connect(path)
db.executescript(
    """
    PRAGMA journal_mode = DELETE;
    CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE, joined_at TEXT);
    CREATE TABLE products (id INTEGER PRIMARY KEY, title TEXT NOT NULL, price_cents INTEGER CHECK (price_cents >= 0));
    CREATE TABLE orders (
        id INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        product_id INTEGER NOT NULL REFERENCES products(id),
        quantity INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        note TEXT
    );
    CREATE INDEX orders_created_at ON orders(created_at);
    CREATE VIEW revenue_by_customer AS
        SELECT c.name, SUM(o.quantity * p.price_cents) AS cents
        FROM orders o JOIN customers c ON c.id = o.customer_id JOIN products p ON p.id = o.product_id
        GROUP BY c.id;
    """
)
db.executemany(
    "INSERT INTO customers (name, email, joined_at) VALUES (?, ?, ?)",
    [
        (f"{rng.choice(words).title()} {rng.choice(words).title()}", f"c{i}@{rng.choice(words)}.example", f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}")
        for i in range(2000)
    ],
)
db.executemany(
    "INSERT INTO products (title, price_cents) VALUES (?, ?)",
    [(" ".join(rng.choices(words, k=3)), rng.randint(99, 99999)) for _ in range(300)],
)
db.executemany(
    "INSERT INTO orders (customer_id, product_id, quantity, created_at, note) VALUES (?, ?, ?, ?, ?)",
    [
        (rng.randint(1, 2000), rng.randint(1, 300), rng.randint(1, 5), f"2026-{1 + i // 2000:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z", " ".join(rng.choices(words, k=rng.randint(0, 12))))
        for i in range(20000)
    ],
)
db.commit()
db.execute("VACUUM")
db.close()
print(f"wrote {path} ({os.path.getsize(path)} bytes)")
