#!/usr/bin/env python3
"""Renders the figures recorded by scripts/bench-sqlite as a Markdown section.

    report_sqlite.py RESULTS_FILE > sqlite-results.md

RESULTS_FILE holds one KEY=VALUE a line. Figures missing from it show as "—".
"""
import sys

MIB = 1024 * 1024
RSS_LIMIT_MIB = 300
DASH = "—"


def load(path):
    r = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if "=" in line:
                k, v = line.split("=", 1)
                r[k] = v
    return r


class Figures:
    def __init__(self, r):
        self.r = r

    def num(self, key):
        v = self.r.get(key)
        if v in (None, ""):
            return None
        try:
            return float(v)
        except ValueError:
            return None

    def text(self, key, default=DASH):
        v = self.r.get(key)
        return default if v in (None, "") else v


def size(b):
    if b is None:
        return DASH
    if b >= 100 * MIB:
        return f"{b / MIB:.1f} MiB"
    if b >= MIB:
        return f"{b / MIB:.2f} MiB"
    return f"{b / 1024:.1f} KiB"


def secs(s):
    return DASH if s is None else f"{s:.2f} s"


def rss(kib):
    if kib is None:
        return DASH
    mib = kib / 1024
    return f"{mib:.1f} MiB" if mib < 10 else f"{mib:.0f} MiB"


def rate(b, s):
    return DASH if b is None or not s else f"{b / MIB / s:.0f} MiB/s"


def ratio(a, b, what):
    if a is None or not b:
        return DASH
    return f"{a / b:.2f}× {what}"


def met(ok):
    if ok is None:
        return DASH
    return "yes" if ok else "**no**"


def restic_stored(F, key):
    """restic's stored bytes for a backup: data_added_packed where restic
    reports it, else the repository growth; data_added (before compression)
    in brackets."""
    packed = F.num(f"{key}_added_packed")
    stored = packed if packed is not None else F.num(f"{key}_du")
    raw = F.num(f"{key}_added")
    if stored is None:
        return size(raw)
    return size(stored) + (f" ({size(raw)} before compression)" if raw is not None else "")


def sv_time(F, key):
    """sqlvault's wall time, with the duration its own report gives in brackets."""
    wall = F.num(f"{key}_secs")
    own = F.num(f"{key}_reported_secs")
    return secs(wall) + (f" (report: {secs(own)})" if wall is not None and own is not None else "")


def add(a, b):
    return None if a is None or b is None else a + b


def peak(*xs):
    xs = [x for x in xs if x is not None]
    return max(xs) if xs else None


def render(r):
    F = Figures(r)
    n, t = F.num, F.text
    rows = []

    def row(step, sv=DASH, base=DASH, restic=DASH, rat=DASH, target=DASH, ok=None):
        rows.append((step, sv, base, restic, rat, target, met(ok)))

    def rss_row(step, key_sv, base_kib=None, key_restic=None):
        kib = n(f"{key_sv}_rss_kib")
        row(
            step,
            rss(kib),
            rss(base_kib) if base_kib is not None else DASH,
            rss(n(f"{key_restic}_rss_kib")) if key_restic else DASH,
            DASH,
            f"< {RSS_LIMIT_MIB} MiB",
            None if kib is None else kib / 1024 < RSS_LIMIT_MIB,
        )

    db = n("db_bytes")
    base_secs = add(n("base_copy_secs"), n("base_zstd_secs"))
    base_rss = peak(n("base_copy_rss_kib"), n("base_zstd_rss_kib"))
    sv1 = n("sv_b1_secs")
    sv1_stored = n("sv_b1_stored")

    row("init: time", secs(n("sv_init_secs")), DASH, secs(n("restic_init_secs")))
    rss_row("init: peak RSS", "sv_init", None, "restic_init")

    # Backup 1: full.
    row(
        "backup 1 (full): time",
        sv_time(F, "sv_b1"),
        secs(base_secs) + (f" ({secs(n('base_copy_secs'))} + {secs(n('base_zstd_secs'))})" if base_secs else ""),
        secs(n("restic_b1_secs")),
        "; ".join(x for x in (ratio(sv1, base_secs, "baseline"), ratio(sv1, n("restic_b1_secs"), "restic")) if x != DASH) or DASH,
    )
    row("backup 1 (full): throughput", rate(db, sv1), rate(db, base_secs), rate(db, n("restic_b1_secs")))
    row(
        "backup 1 (full): stored",
        size(sv1_stored),
        size(n("base_bytes")),
        restic_stored(F, "restic_b1"),
        ratio(sv1_stored, n("base_bytes"), "baseline"),
    )
    row("backup 1 (full): repository growth (du)", size(n("sv_b1_du")), size(n("base_bytes")), size(n("restic_b1_du")))
    rss_row("backup 1 (full): peak RSS", "sv_b1", base_rss, "restic_b1")
    if "sv0_b1_secs" in r:
        s0 = n("sv0_b1_secs")
        row(
            f"backup 1 (full): time with fingerprints vs without (sqlvault {t('sv0_version')} before them)",
            sv_time(F, "sv_b1"),
            sv_time(F, "sv0_b1"),
            DASH,
            ratio(sv1, s0, "without"),
            "still ≤ 1× baseline",
            None if sv1 is None or not base_secs else sv1 <= base_secs,
        )

    for i, label in ((2, "backup 2 (change 1)"), (3, "backup 3 (change 2)")):
        s = n(f"sv_b{i}_secs")
        stored = n(f"sv_b{i}_stored")
        target = i == 2
        row(
            f"{label}: time",
            sv_time(F, f"sv_b{i}"),
            DASH,
            secs(n(f"restic_b{i}_secs")),
            ratio(s, sv1, "backup 1"),
            "≤ 0.5× backup 1" if target else DASH,
            (None if s is None or not sv1 else s / sv1 <= 0.5) if target else None,
        )
        pct = None if stored is None or not sv1_stored else 100.0 * stored / sv1_stored
        row(
            f"{label}: stored",
            size(stored),
            DASH,
            restic_stored(F, f"restic_b{i}"),
            DASH if pct is None else f"{pct:.1f} % of backup 1",
            "≤ 5 % of backup 1" if target else DASH,
            (None if pct is None else pct <= 5.0) if target else None,
        )
        row(f"{label}: repository growth (du)", size(n(f"sv_b{i}_du")), DASH, size(n(f"restic_b{i}_du")))
        rss_row(f"{label}: peak RSS", f"sv_b{i}", None, f"restic_b{i}")

    # Restore.
    sr, zr, rr = n("sv_restore_secs"), n("zstd_restore_secs"), n("restic_restore_secs")
    sn = n("sv_restore_none_secs")

    def against_others(label, shown, s, zstd_limit):
        """The pair of rows comparing restore time `s` with zstd -d and restic."""
        row(
            f"{label}: time vs zstd -d",
            shown,
            secs(zr),
            secs(rr),
            ratio(s, zr, "zstd -d"),
            f"≤ {zstd_limit}× zstd -d",
            None if s is None or not zr else s / zr <= zstd_limit,
        )
        row(
            f"{label}: time vs restic",
            shown,
            secs(zr),
            secs(rr),
            ratio(s, rr, "restic"),
            "< 1× restic",
            None if s is None or not rr else s < rr,
        )

    against_others("restore", sv_time(F, "sv_restore"), sr, 1.5)
    rss_row("restore: peak RSS", "sv_restore", n("zstd_restore_rss_kib"), "restic_restore")
    row(
        "restore: `--check full` (default) vs `--check none`",
        f"{secs(sr)} vs {secs(sn)}",
        secs(zr),
        DASH,
        ratio(sr, sn, "--check none"),
        DASH,
    )
    against_others("restore `--check none`", secs(sn), sn, 1.2)
    row("restore: check that ran", t("sv_restore_check"))
    if "sv0_restore_secs" in r:
        row(
            "restore of the full point: with fingerprint check vs the earlier sqlvault (integrity_check only)",
            secs(n("sv_restore_b1_secs")),
            secs(n("sv0_restore_secs")),
            DASH,
            ratio(n("sv_restore_b1_secs"), n("sv0_restore_secs"), "earlier"),
        )

    integrity = t("check_integrity", "")
    same = r.get("check_src") is not None and r.get("check_src") == r.get("check_restored")
    check_ok = integrity == "ok" and same
    row(
        "restored database check",
        f"integrity_check {integrity or 'missing'}; count, sum(amount) {'match' if same else 'differ'}",
        DASH,
        DASH,
        DASH,
        "ok and match",
        check_ok if "check_integrity" in r else None,
    )

    if "sv_half_b1_rss_kib" in r:
        half = n("sv_half_b1_rss_kib")
        full = n("sv_b1_rss_kib")
        row(
            f"backup 1 of a {t('half_mb')} MiB database: peak RSS",
            rss(half),
            DASH,
            DASH,
            ratio(full, half, f"at {t('size_mb')} MiB"),
            f"< {RSS_LIMIT_MIB} MiB",
            None if half is None else half / 1024 < RSS_LIMIT_MIB,
        )

    out = []
    out.append(f"### SQLite, {t('size_mb')} MiB database ({t('date')})")
    out.append("")
    cpu = t("cpu", "")
    mem = t("mem_gib", "")
    out.append(
        f"Machine: {t('nproc')} cores{', ' + cpu if cpu else ''}{', ' + mem + ' GiB RAM' if mem else ''}, "
        f"Linux {t('kernel')}; sqlite3 {t('sqlite_version')}, zstd {t('zstd_version')}, "
        f"restic {t('restic_version')}, sqlvault {t('sqlvault_version')} ({t('git_rev')})."
    )
    out.append("")
    rows_before = t("rows")
    gen = r.get(f"gen_{t('size_mb')}_secs")
    out.append(
        f"Database: table `orders`, {rows_before} rows, {size(db)} in WAL mode"
        f"{f' (generated in {float(gen):.0f} s)' if gen else ''}; zstd -3 makes it {size(n('base_bytes'))}. "
        f"Change 1: {t('change1_inserted')} rows inserted, {t('change1_updated')} of the newest 5% updated. "
        f"Change 2: {t('change2_updated')} rows updated all over the table ({t('rows_after')} rows after)."
    )
    out.append("")
    header = ("step", "sqlvault", "baseline (sqlite3+zstd)", "restic", "ratio", "target", "met?")
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "|".join("---" for _ in header) + "|")
    for rw in rows:
        out.append("| " + " | ".join(rw) + " |")
    out.append("")
    out.append(
        "Baseline: `sqlite3 src.db \".backup staging.db\"` then `zstd -3 -T0`; it has no incremental mode, "
        "so each of its backups costs backup 1 again. restic: `restic backup --json src.db` into a new "
        "repository (default compression); its stored figure is the summary's `data_added_packed` where restic reports it, else the "
        "repository growth, with `data_added` (before compression) in brackets. "
        "sqlvault's stored figure is the report's `bytes_stored`; its times are wall-clock for the whole "
        "command, including opening the repository (key derivation), with the duration its own report "
        "gives in brackets; its restore includes the default `PRAGMA integrity_check`. "
        "Times are wall-clock with a warm page cache; peak RSS is `/usr/bin/time -f %M`. "
        f"Each restore ran {t('restore_repeat', '1')} times, the four tools in turns; its time is the median "
        "and its peak RSS the highest."
    )
    out.append("")
    out.append(f"Command: `{t('command')}`")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: report_sqlite.py RESULTS_FILE")
    sys.stdout.write(render(load(sys.argv[1])))


if __name__ == "__main__":
    main()
