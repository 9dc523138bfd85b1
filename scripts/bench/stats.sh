# Sourced by the benchmark scripts: summaries of repeated measurements,
# one number per line on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
highest() { sort -g | tail -1; }
