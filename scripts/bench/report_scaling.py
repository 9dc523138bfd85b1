"""Markdown for scripts/bench-scaling: one row per engine and size, then
the spread of each step's time per GiB and of peak RSS against the targets.

stdin: lines of `engine MiB bytes backup_s restore_s none_s backup_kib
restore_kib none_kib`; argv: cores, version, repetitions, command.

Beside the spread of time per GiB (the target), a least-squares line
`time = fixed + slope x GiB` separates what a run costs at any size
(opening the repository, the schema, connections) from what each GiB
costs, and gives the largest distance of a size from that line.
"""

import datetime
import sys

RSS_LIMIT_MIB = {"sqlite": 300, "postgres": 500}
STEPS = [("backup", 3, 6), ("restore (default check)", 4, 7), ("restore `--check none`", 5, 8)]


def fit(xs, ys):
    """Least squares `y = a + b x`; also the largest |y - line| / y."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
    a = my - b * mx
    worst = max(abs(y - (a + b * x)) / y for x, y in zip(xs, ys))
    return a, b, worst


def main():
    cores, version, repeat, command = sys.argv[1:5]
    rows = [line.split() for line in sys.stdin if line.strip()]
    out = [f"### Linear scaling ({datetime.date.today()})", ""]
    out.append(
        f"Machine: {cores} cores; {version}. Each step ran {repeat} times: the median wall-clock time "
        "and the highest peak RSS (`/usr/bin/time -f %M`) are shown."
    )
    out.append("")
    out.append("| engine | set | size | backup | restore | restore `--check none` | peak RSS (backup / restore / none) |")
    out.append("|---|---|---|---|---|---|---|")
    for r in rows:
        e, mib, size = r[0], int(r[1]), int(r[2])
        gib = size / 2**30
        cells = [f"{float(r[i]):.2f} s ({float(r[i]) / gib:.2f} s/GiB)" for _, i, _ in STEPS]
        rss = " / ".join(f"{int(r[k]) / 1024:.0f}" for _, _, k in STEPS)
        out.append(f"| {e} | {mib} MiB | {size / 2**20:.0f} MiB | {' | '.join(cells)} | {rss} MiB |")
    out.append("")
    out.append("| engine | measure | lowest .. highest | spread | target | met? |")
    out.append("|---|---|---|---|---|---|")
    for e in dict.fromkeys(r[0] for r in rows):
        mine = [r for r in rows if r[0] == e]
        for name, i, _ in STEPS:
            per = [float(r[i]) / (int(r[2]) / 2**30) for r in mine]
            spread = max(per) / min(per) - 1
            out.append(
                f"| {e} | {name}: s/GiB | {min(per):.2f} .. {max(per):.2f} | {100 * spread:.0f}% | ≤ 15% | {'yes' if spread <= 0.15 else '**no**'} |"
            )
            fixed, slope, worst = fit([int(r[2]) / 2**30 for r in mine], [float(r[i]) for r in mine])
            out.append(
                f"| {e} | {name}: fitted line | {fixed:.2f} s + {slope:.2f} s/GiB | {100 * worst:.0f}% off the line at most | — | — |"
            )
        rss = [int(r[k]) / 1024 for r in mine for _, _, k in STEPS]
        by_step = [[int(r[k]) / 1024 for r in mine] for _, _, k in STEPS]
        spread = max(max(s) / min(s) - 1 for s in by_step)
        limit = RSS_LIMIT_MIB[e]
        ok = spread <= 0.10 and max(rss) < limit
        out.append(
            f"| {e} | peak RSS of each step across sizes | {min(rss):.0f} .. {max(rss):.0f} MiB | {100 * spread:.0f}% (largest step) | ≤ 10%, < {limit} MiB | {'yes' if ok else '**no**'} |"
        )
    out.append("")
    out.append(f"Command: `{command}`")
    print("\n".join(out))


main()
