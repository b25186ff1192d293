#!/usr/bin/env bash
# The README "Performance" table: benches/parsers.rs with the parsers taking turns (31 rounds,
# ratios as medians of the rounds' ratios; about 35 s once built).
#
#   bash benches/run.sh                 # the interleaved table
#   bash benches/run.sh --criterion     # criterion runs (RUNS, default 3; about 4 minutes each),
#                                       # each cell the lowest median (benches/table.py)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" != --criterion ]; then
    SMTP_BENCH_INTERLEAVED=1 cargo bench --bench parsers 2>/dev/null
    exit
fi
shift
runs=${RUNS:-3}
criterion=${CARGO_TARGET_DIR:-target}/criterion
keep=$(mktemp -d)
trap 'rm -rf "$keep"' EXIT
for i in $(seq "$runs"); do
    cargo bench --bench parsers -- --warm-up-time 1 --measurement-time 3 --noplot "$@" >"$keep/log" 2>&1 ||
        { cat "$keep/log"; exit 1; }
    cp -r "$criterion" "$keep/run$i"
done
python3 benches/table.py "$keep"/run*
