#!/usr/bin/env python3
"""Build a large BACPAC for the benchmark from the shared Northwind package.

Its Orders and Order Details tables are replaced by generated rows in SQL
Server's native format (text, money, datetimes, NULLs: the shape of real
order data), about SIZE_MIB MiB of table data in parts of at most PART_MIB
MiB, deflated as DacFx deflates them; Origin.xml counts the new rows.

    make_bacpac.py NORTHWIND OUT SIZE_MIB [--part-mib N] [--seed S] [--change-part K]

--change-part K writes the same package (same seed) except that Orders part
K holds different rows: the next day's export with one table part changed.
"""
import argparse
import random
import re
import struct
import zipfile
import zlib

p = argparse.ArgumentParser()
p.add_argument("src")
p.add_argument("out")
p.add_argument("size_mib", type=int)
p.add_argument("--part-mib", type=int, default=64)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--change-part", type=int, default=-1)
a = p.parse_args()

CITIES = ["Reims", "Münster", "Rio de Janeiro", "Lyon", "Charleroi", "Bern", "Genève",
          "Resende", "San Cristóbal", "Graz", "México D.F.", "Köln", "Albuquerque",
          "Bräcke", "Strasbourg", "Madrid", "Torino", "Luleå", "Sevilla", "Montréal"]
COUNTRIES = ["France", "Germany", "Brazil", "Belgium", "Switzerland", "Venezuela",
             "Austria", "Mexico", "USA", "Sweden", "Spain", "Italy", "Canada"]
WORDS = ("vins alimentos delikatessen handel markt supermercado comércio "
         "export bottom dollar hungry owl gourmet lanchonetes wartian herkku "
         "folies gourmandes princesa isabel lonesome pine ernst richter").split()


def text(s):
    b = s.encode("utf-16-le")
    return struct.pack("<H", len(b)) + b


def maybe(rng, share, f):
    return f() if rng.random() >= share else None


def order_row(rng):
    """An order without its id."""
    day = 36000 + rng.randrange(10000)
    out = []
    cust = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(5))
    out.append(text(cust))
    out.append(b"\x04" + struct.pack("<i", rng.randrange(1, 10)))
    for offset in (0, 28):
        out.append(b"\x08" + struct.pack("<iI", day + offset, rng.randrange(25920000)))
    shipped = maybe(rng, 0.05, lambda: day + rng.randrange(1, 30))
    out.append(b"\xff" if shipped is None else b"\x08" + struct.pack("<iI", shipped, 0))
    out.append(b"\x04" + struct.pack("<i", rng.randrange(1, 4)))
    out.append(b"\x08" + struct.pack("<iI", 0, rng.randrange(100, 10_000_000)))
    head = b"".join(out)
    out = []
    name = " ".join(rng.choice(WORDS).capitalize() for _ in range(rng.randrange(2, 5)))
    out.append(text(name[:40]))
    out.append(text(f"{rng.randrange(1, 999)} {rng.choice(WORDS).capitalize()} St."))
    out.append(text(rng.choice(CITIES)))
    region = maybe(rng, 0.6, lambda: rng.choice(["RJ", "SP", "BC", "WA", "NM", "Isle of Wight"]))
    out.append(b"\xff\xff" if region is None else text(region))
    out.append(text(f"{rng.randrange(10000, 99999)}"))
    out.append(text(rng.choice(COUNTRIES)))
    return head, b"".join(out)


def detail_row(rng):
    return (struct.pack("<iiI", rng.randrange(1, 78), 0, rng.randrange(20000, 2_000_000)),
            struct.pack("<hf", rng.randrange(1, 120), rng.choice([0.0, 0.05, 0.1, 0.15, 0.2, 0.25])))


part_bytes = a.part_mib << 20
orders_share = 0.8
parts = {"Orders": [], "Order%20Details": []}
rows = {"Orders": 0, "Order%20Details": 0}
rng_main = random.Random(a.seed)
for table, share, make in (("Orders", orders_share, order_row),
                           ("Order%20Details", 1 - orders_share, detail_row)):
    want = int((a.size_mib << 20) * share)
    done = 0
    while done < want:
        k = len(parts[table])
        # A changed part draws from another generator; the rest stay as they were.
        seed = (a.seed, table, k, "changed" if (table == "Orders" and k == a.change_part) else "")
        rng = random.Random(str(seed))
        # Rows joined from two pools of varied halves, each with its own id:
        # quick to make in Python, and rows seldom repeat.
        pool = [make(rng) for _ in range(20000)]
        heads = [h for h, _ in pool]
        tails = [t for _, t in pool]
        pick = rng.randrange
        chunks = []
        size = 0
        limit = min(part_bytes, want - done)
        pack = struct.Struct("<i").pack
        # Each part numbers its own rows, so a changed part moves no other.
        order_id = (1 + k) * 10_000_000 + (0 if table == "Orders" else 1_000_000_000)
        while size < limit:
            row = pack(order_id) + heads[pick(20000)] + tails[pick(20000)]
            chunks.append(row)
            size += len(row)
            order_id += 1
        rows[table] += len(chunks)
        buf = b"".join(chunks)
        parts[table].append(bytes(buf))
        done += len(buf)

src = zipfile.ZipFile(a.src)
with zipfile.ZipFile(a.out, "w") as out:
    for info in src.infolist():
        name = info.filename
        if name.startswith("Data/dbo.Orders/") or name.startswith("Data/dbo.Order%20Details/"):
            continue
        data = src.read(name)
        if name == "Origin.xml":
            total = int(re.search(rb"<TableRowCountTotalTag>(\d+)<", data).group(1))
            total += rows["Orders"] + rows["Order%20Details"] - 830 - 2155
            data = re.sub(rb"<TableRowCountTotalTag>\d+<", b"<TableRowCountTotalTag>%d<" % total, data)
        zi = zipfile.ZipInfo(name, date_time=info.date_time)
        zi.compress_type = info.compress_type
        out.writestr(zi, data)
    for table, ps in parts.items():
        for k, data in enumerate(ps):
            zi = zipfile.ZipInfo(f"Data/dbo.{table}/TableData-{k:03d}-00000.BCP",
                                 date_time=(2026, 12, 1, 2, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(zi, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
print(rows["Orders"] + rows["Order%20Details"])
