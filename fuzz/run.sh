#!/usr/bin/env bash
# Builds every fuzz target and runs each for the given number of seconds (default 60), one
# after the other, from a seed corpus written from the test vectors. Exits non-zero if any
# target finds a crash (the input is kept in fuzz/artifacts/<target>/).
#
#   fuzz/run.sh [seconds]
#
# Environment: FUZZ_TARGETS (default: all five), FUZZ_TOOLCHAIN (default: stable, with RUSTC_BOOTSTRAP=1 for cargo-fuzz's -Z flags),
# FUZZ_ARGS (extra libFuzzer flags, such as -jobs=1).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
toolchain=${FUZZ_TOOLCHAIN:-stable}
export RUSTC_BOOTSTRAP=${RUSTC_BOOTSTRAP:-1}
targets=${FUZZ_TARGETS:-rust_api c_abi invariants differential plan_c}

# Seeds: every test vector and pipelined pairs of them, in each target's corpus folder.
cargo run --quiet --example export_seeds -- fuzz/corpus || exit 1
cargo "+$toolchain" fuzz build --fuzz-dir fuzz || exit 1

failed=()
for target in $targets; do
    printf '\n===== fuzz %s for %ss\n' "$target" "$seconds"
    mkdir -p "fuzz/corpus/$target" # plan_c has no seeds from the vectors
    # -max_len: a whole reply of MAX_REPLY_LEN (65536) bytes plus the 8-byte header and room.
    # shellcheck disable=SC2086
    if ! cargo "+$toolchain" fuzz run --fuzz-dir fuzz "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -max_len=70000 -timeout=20 -rss_limit_mb=2048 \
        -print_final_stats=1 ${FUZZ_ARGS:-}; then
        failed+=("$target")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz: no crash in: $targets"
