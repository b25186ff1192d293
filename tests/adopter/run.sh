#!/bin/sh
# tests/adopter/run.sh: build the library and tests/adopter/adopter.c (a client written from
# include/smtp_verdict.h alone), run it against tests/servers/scripted.py and check its report
# against the maildir the server writes.
#
#   sh tests/adopter/run.sh          (from any directory; exits non-zero on any failed check)
#
# Environment: CC (default cc), CARGO (default cargo), PYTHON (default python3).
set -eu

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
CC=${CC:-cc}
CARGO=${CARGO:-cargo}
PYTHON=${PYTHON:-python3}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/adopter.XXXXXX")
PIDFILE=$WORK/server.pid

stop_server() {
    if [ -s "$PIDFILE" ]; then
        pid=$(cat "$PIDFILE")
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        rm -f "$PIDFILE"
    fi
}
cleanup() {
    stop_server
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- build -----------------------------------------------------------------------------------
"$CARGO" build --release --lib --quiet
LIBA=${CARGO_TARGET_DIR:-$ROOT/target}/release/libsmtp_verdict.a
if command -v pkg-config >/dev/null 2>&1 && [ -z "${CARGO_TARGET_DIR:-}" ] &&
    PKG_CONFIG_PATH=$ROOT pkg-config --exists smtp_verdict-uninstalled; then
    LIB_CFLAGS=$(PKG_CONFIG_PATH=$ROOT pkg-config --cflags smtp_verdict-uninstalled)
    LIB_LIBS=$(PKG_CONFIG_PATH=$ROOT pkg-config --libs --static smtp_verdict-uninstalled)
else
    LIB_CFLAGS="-I$ROOT/include"
    LIB_LIBS="$LIBA -lpthread -ldl -lm -lc -lgcc_s"
fi
# shellcheck disable=SC2086 # word splitting of the flags is wanted
"$CC" -std=c99 -Wall -Wextra -Wpedantic -Werror -O2 $LIB_CFLAGS \
    -o "$WORK/adopter" tests/adopter/adopter.c $LIB_LIBS

# --- helpers ---------------------------------------------------------------------------------
FAILED=0
pass() { echo "PASS $1: $2"; }
fail() { echo "FAIL $1: $2"; FAILED=1; }

free_port() {
    "$PYTHON" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_server SCENARIO: a fresh maildir in $MAILDIR, the server on $PORT, its pid in $PIDFILE.
start_server() {
    MAILDIR=$WORK/maildir-$1
    rm -rf "$MAILDIR"
    mkdir -p "$MAILDIR"
    PORT=$(free_port)
    "$PYTHON" tests/servers/scripted.py "$PORT" "$MAILDIR" "$1" >"$WORK/server-$1.log" 2>&1 &
    echo $! >"$PIDFILE"
    # Wait until it listens (a probe connection is served and ends at once).
    "$PYTHON" - "$PORT" <<'EOF'
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF
}

RCPTS="r1@example.net r2@example.net r3@example.net r4@example.net r5@example.net r6@example.net r7@example.net r8@example.net"

# run_adopter SCENARIO: runs the adopter on the 8 recipients; report in $REPORT, exit in $RC.
run_adopter() {
    start_server "$1" || { stop_server; return 1; }
    REPORT=$WORK/report-$1.txt
    RC=0
    # shellcheck disable=SC2086
    if command -v timeout >/dev/null 2>&1; then
        timeout 30 "$WORK/adopter" 127.0.0.1 "$PORT" $RCPTS >"$REPORT" 2>"$WORK/stderr-$1.txt" || RC=$?
    else
        "$WORK/adopter" 127.0.0.1 "$PORT" $RCPTS >"$REPORT" 2>"$WORK/stderr-$1.txt" || RC=$?
    fi
    stop_server
}

field() { # field NAME: the value of NAME= in the summary line (the last line)
    tail -n 1 "$REPORT" | tr ' ' '\n' | sed -n "s/^$1=\([0-9]*\)$/\1/p"
}
copies() { # copies ADDRESS: messages stored for it
    box=$MAILDIR/${1%%@*}
    if [ -d "$box" ]; then find "$box" -name '*.eml' | wc -l | tr -d ' '; else echo 0; fi
}
state_of() { # state_of ADDRESS
    sed -n "s/^rcpt=$1 state=\([a-z-]*\) .*/\1/p" "$REPORT"
}

# consistent: every recipient reported delivered has one copy, every other none. Sets $WHY.
consistent() {
    WHY=""
    for r in $RCPTS; do
        s=$(state_of "$r")
        n=$(copies "$r")
        if [ "$s" = delivered ] && [ "$n" != 1 ]; then WHY="$WHY $r:$s/$n-copies"; fi
        if [ "$s" != delivered ] && [ "$n" != 0 ]; then WHY="$WHY $r:$s/$n-copies"; fi
        if [ -z "$s" ]; then WHY="$WHY $r:no-report-line"; fi
    done
    [ -z "$WHY" ]
}

summary() { tail -n 1 "$REPORT"; }

# --- (a) a recipient limit of 3 over 8 recipients: all delivered, in several transactions -----
for sc in limit552 split; do
    if ! run_adopter "$sc"; then fail "a/$sc" "the server did not start"; continue; fi
    d=$(field delivered); t=$(field transactions)
    if [ "$RC" = 0 ] && [ "$d" = 8 ] && [ "${t:-0}" -gt 1 ] && consistent; then
        pass "a/$sc" "$(summary), one copy each, exit 0"
    else
        fail "a/$sc" "exit $RC, $(summary)${WHY:+, maildir:$WHY}"
    fi
done

# --- (b) 421 in the second transaction: the first delivered, the later ones not --------------
sc=421mid
if ! run_adopter "$sc"; then
    fail "b/$sc" "the server did not start"
else
    d=$(field delivered)
    # delivered recipients must be a prefix: none delivered after the first one not delivered
    order_ok=1 seen_other=0 others_ok=1
    for r in $RCPTS; do
        s=$(state_of "$r")
        case $s in
        delivered) [ "$seen_other" = 0 ] || order_ok=0 ;;
        not-attempted | deferred) seen_other=1 ;;
        *) seen_other=1; others_ok=0 ;;
        esac
    done
    if [ "$RC" = 1 ] && [ "${d:-0}" -ge 1 ] && [ "${d:-0}" -lt 8 ] && [ "$order_ok" = 1 ] &&
        [ "$others_ok" = 1 ] && consistent; then
        pass "b/$sc" "$(summary), report agrees with the maildir, exit 1"
    else
        fail "b/$sc" "exit $RC, order_ok=$order_ok others_ok=$others_ok, $(summary)${WHY:+, maildir:$WHY}"
    fi
fi

# --- (c) LIMITS RCPTMAX=3 MAILMAX=2: 6 delivered, 2 for another connection -------------------
sc=mailmax
if grep -q "\"$sc\"" tests/servers/scripted.py; then
    if ! run_adopter "$sc"; then
        fail "c/$sc" "the server did not start"
    else
        d=$(field delivered); u=$(field not_attempted); t=$(field transactions)
        if [ "$RC" = 1 ] && [ "$d" = 6 ] && [ "$u" = 2 ] && [ "$t" = 2 ] &&
            grep -q '^reconnect: 2 recipient' "$REPORT" && consistent; then
            pass "c/$sc" "$(summary), $(grep '^reconnect:' "$REPORT")"
        else
            fail "c/$sc" "exit $RC, $(summary)${WHY:+, maildir:$WHY}"
        fi
    fi
else
    echo "SKIP c/$sc: no such scenario in tests/servers/scripted.py"
fi

if [ "$FAILED" != 0 ]; then
    echo "adopter: some checks failed; the reports and the adopter's messages:"
    for f in "$WORK"/report-*.txt; do echo "--- $f"; cat "$f"; done
    for f in "$WORK"/stderr-*.txt; do echo "--- $f"; cat "$f"; done
fi
exit "$FAILED"
