#!/usr/bin/env bash
# The README "Performance" table: benches/parsers.rs run RUNS times (default 3), each cell the
# lowest median of the runs (benches/table.py). Extra arguments go to criterion.
#
#   bash benches/run.sh            # about 4 minutes a run on 2 cores
set -euo pipefail
cd "$(dirname "$0")/.."
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
