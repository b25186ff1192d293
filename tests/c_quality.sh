#!/usr/bin/env bash
# tests/c_quality.sh: the C code under strict warnings, sanitizers and valgrind.
#
# Builds examples-c (classify, deliver, bench) and the C tests of tests/c with gcc and clang,
# -std=c99 -Wall -Wextra -Wpedantic -Werror, then runs them:
#   - built with -fsanitize=address,undefined -fno-sanitize-recover=all (gcc and clang),
#   - built plainly and run under valgrind --error-exitcode=1 --leak-check=full.
# What runs: the demo (classify), classify on a pipelined stream from standard input,
# tests/c/api_test and tests/c/vectors_test (every test vector), bench briefly, and deliver
# against the scripted server of tests/servers (recipient limits, bare LF, replies split
# across TCP segments, a 521 greeting, a 421 mid-transaction), with and without pipelining
# and with --first-digit, each with the exit status it must have.
#
# Needs gcc, clang, valgrind, python3 and cargo; run from anywhere. Honours CARGO_TARGET_DIR.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET_DIR in /*) ;; *) TARGET_DIR=$ROOT/$TARGET_DIR ;; esac
WORK=$(mktemp -d /tmp/c-quality.XXXXXX)
SERVER_PIDS=()
cleanup() {
    local pid
    for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

WARN="-std=c99 -Wall -Wextra -Wpedantic -Werror -D_POSIX_C_SOURCE=200809L"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
TOOL_ERROR=99 # the exit status of a sanitizer or valgrind finding: no program here uses it
export ASAN_OPTIONS="exitcode=$TOOL_ERROR:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="exitcode=$TOOL_ERROR:halt_on_error=1:print_stacktrace=1"
VALGRIND="valgrind -q --error-exitcode=$TOOL_ERROR --leak-check=full --errors-for-leak-kinds=definite,indirect,possible"
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "  FAIL: $*"; }

# --- the library, and the vectors file tests/c/vectors_test reads (written by cargo test).
cargo build --release --lib -q || exit 1
LIB="$TARGET_DIR/release/libsmtp_verdict.a -pthread -ldl -lm"
vectors=$TARGET_DIR/tmp/c_api/vectors.txt
[ -f "$vectors" ] || cargo test -q --test c_api c_vectors_test >/dev/null || exit 1

# build NAME CC CFLAGS: examples-c into examples-c/build/NAME, tests/c into the same place.
build() {
    local name=$1 cc=$2 cflags=$3 out=$ROOT/examples-c/build/$1 t
    echo "== build $name: $cc $cflags"
    if ! make -s -C examples-c CC="$cc" CFLAGS="$cflags" BUILD="build/$name" \
        TARGET_DIR="$TARGET_DIR" >"$WORK/build-$name.log" 2>&1; then
        cat "$WORK/build-$name.log"; bad "$name: examples-c build"; return 1
    fi
    for t in api_test vectors_test libesmtp_test; do
        $cc $cflags $WARN -Iinclude -Itests/c -o "$out/$t" "tests/c/$t.c" $LIB ||
            { bad "$name: tests/c/$t.c"; return 1; }
    done
    $cc $WARN -fsyntax-only -Iinclude tests/install/version.c || { bad "$name: version.c"; return 1; }
    ok
}

# expect NAME STATUS COMMAND...: runs it, checks the exit status (and no tool finding).
expect() {
    local name=$1 want=$2 rc
    shift 2
    "$@" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    if [ "$rc" -eq "$TOOL_ERROR" ] || grep -qE 'runtime error|AddressSanitizer|LeakSanitizer|==[0-9]+== [A-Z]' "$WORK/err"; then
        bad "$name: the tool found an error"; tail -40 "$WORK/err"
    elif [ "$rc" -ne "$want" ]; then
        bad "$name: exit status $rc, expected $want"; tail -20 "$WORK/out" "$WORK/err"
    else
        ok
    fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

declare -A PORT
start_servers() {
    local sc port i
    for sc in limit552 legacy552 barelf split bytes helo greet521 421mid; do
        port=$(free_port)
        python3 tests/servers/scripted.py "$port" "$WORK/mail-$sc" "$sc" 2>"$WORK/server-$sc.log" &
        SERVER_PIDS+=($!)
        PORT[$sc]=$port
        for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
    done
}

# run_all NAME PREFIX...: every program of build NAME, run through PREFIX (empty or valgrind).
run_all() {
    local name=$1 b=$ROOT/examples-c/build/$1 wrapper=$WORK/classify-$1 sc
    shift
    echo "== run $name${1:+ under $*}"
    printf '#!/bin/sh\nexec %s %s "$@"\n' "$*" "$b/classify" >"$wrapper"
    chmod +x "$wrapper"
    expect "$name demo" 0 sh examples-c/demo.sh "$wrapper"
    printf '220-mx ESMTP\r\n220 ok\r\n250 2.1.0 Ok\r\n452 4.5.3 Error: too many recipients\n354 go\r\n' >"$WORK/stream"
    expect "$name classify stream" 0 sh -c '"$1" -c GREETING,MAIL,RCPT,DATA <"$2"' sh "$wrapper" "$WORK/stream"
    expect "$name api_test" 0 "$@" "$b/api_test"
    expect "$name libesmtp_test" 0 "$@" "$b/libesmtp_test"
    expect "$name vectors_test" 0 "$@" "$b/vectors_test" "$vectors"
    expect "$name bench" 0 "$@" "$b/bench" 20000 1
    expect "$name bench --vectors" 0 "$@" "$b/bench" --vectors "$ROOT/tests/vectors" 1
    local r="a@test.example b@test.example c@test.example d@test.example e@test.example f@test.example g@test.example"
    for sc in limit552 legacy552 barelf split bytes helo; do
        expect "$name deliver $sc" 0 "$@" "$b/deliver" 127.0.0.1 "${PORT[$sc]}" $r
        expect "$name deliver --no-pipelining $sc" 0 "$@" "$b/deliver" --no-pipelining 127.0.0.1 "${PORT[$sc]}" $r
    done
    expect "$name deliver --first-digit limit552" 2 "$@" "$b/deliver" --first-digit 127.0.0.1 "${PORT[limit552]}" $r
    expect "$name deliver --first-digit split" 1 "$@" "$b/deliver" --first-digit 127.0.0.1 "${PORT[split]}" $r
    expect "$name deliver greet521" 2 "$@" "$b/deliver" 127.0.0.1 "${PORT[greet521]}" $r
    expect "$name deliver 421mid" 1 "$@" "$b/deliver" -v 127.0.0.1 "${PORT[421mid]}" $r
    expect "$name deliver with a message file" 0 "$@" "$b/deliver" -m README.md 127.0.0.1 "${PORT[split]}" $r
    expect "$name deliver, nothing listening" 1 "$@" "$b/deliver" 127.0.0.1 1 $r
    expect "$name deliver usage" 3 "$@" "$b/deliver" 127.0.0.1
}

start_servers
for cc in gcc clang; do
    build "$cc" "$cc" "-O2 -g" && run_all "$cc"
    build "$cc-asan" "$cc" "-O1 -g $SAN" && run_all "$cc-asan"
done
run_all gcc $VALGRIND

echo
echo "c quality: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
