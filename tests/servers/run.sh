#!/usr/bin/env bash
# tests/servers/run.sh: examples-c/deliver against real SMTP servers with small recipient
# limits, on loopback: Postfix, Exim (452 and 552/554 styles), OpenSMTPD, and a scripted
# Python server for what those do not do (tests/servers/scripted.py): 552 5.5.3, RFC 821 552,
# bare LF, replies split at odd places or sent a byte at a time, no EHLO, a 220-/521 greeting,
# 421 mid-transaction.
#
# For each server it sends one message to more recipients than the limit, with and without
# PIPELINING where offered, and checks that every recipient got exactly one copy and that
# the client's report says so. Then it runs `deliver --first-digit` (decisions from the
# reply code's first digit, like many agents) against the same server and checks that
# recipients are deferred or bounced: the library is what makes the difference.
#
# Runs as root (it installs Debian packages and runs the servers' daemons); everything it
# starts runs from a temporary directory and is stopped on exit, by pid.
#   KEEP=1 tests/servers/run.sh        keep the temporary directory (logs, mailboxes)
#   SERVERS="postfix scripted" ...     run only some: postfix exim opensmtpd scripted
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SERVERS=${SERVERS:-postfix exim opensmtpd scripted}
RCPTS=${RCPTS:-8}         # recipients per message (scripted server, first-digit runs)
COUNTS=${COUNTS:-3 10 100} # recipients per message of the planner's runs on the real servers
LIMIT=3                   # each server's recipient limit
DELIVER=${DELIVER:-$ROOT/examples-c/build/deliver}
WORK=$(mktemp -d /tmp/smtp-servers.XXXXXX)
chmod 755 "$WORK"
PIDFILES=()               # one per process started, stopped in reverse order
STOPS=()                  # commands that stop a server cleanly (postfix stop)
passed=() failed=()
started=$(date +%s)

alive() { # PID: running (not gone, not a zombie); /proc, as procps may not be installed
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) } # after "pid (name) ": the state letter first
    [ "${stat:0:1}" != Z ]
}

stop_pid() { # PIDFILE: stops the process it names, if still running, and forgets the file
    local pid i
    pid=$(tr -dc 0-9 2>/dev/null <"$1") && [ -n "$pid" ] || return 0
    rm -f "$1"
    alive "$pid" || return 0
    kill "$pid" 2>/dev/null
    for i in $(seq 50); do alive "$pid" || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
}

cleanup() {
    local i
    for ((i = ${#STOPS[@]} - 1; i >= 0; i--)); do eval "${STOPS[i]}" >/dev/null 2>&1; done
    for ((i = ${#PIDFILES[@]} - 1; i >= 0; i--)); do stop_pid "${PIDFILES[i]}"; done
    if [ -n "${KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s\n' "$*"; }
die() { log "FATAL: $*"; exit 1; }

# ---------------------------------------------------------------------------------------
# Setup: packages, the client.

apt_updated=
apt_install() {
    local missing p
    missing=$(for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
    [ -z "$missing" ] && return 0
    [ -n "$apt_updated" ] || { apt-get update -qq || return 1; apt_updated=1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
}

# Unpacks a package (and not its maintainer scripts) under $WORK/root; installs the shared
# libraries it depends on, which do not conflict with anything.
unpack() {
    local pkg=$1 deb libs
    mkdir -p "$WORK/debs" "$WORK/root"
    id _apt >/dev/null 2>&1 && chown _apt "$WORK/debs" # apt-get download runs as _apt
    [ -n "$apt_updated" ] || { apt-get update -qq || return 1; apt_updated=1; }
    (cd "$WORK/debs" && apt-get download -qq "$pkg" >/dev/null) || return 1
    deb=$(ls "$WORK"/debs/"${pkg}"_*.deb) || return 1
    dpkg -x "$deb" "$WORK/root" || return 1
    libs=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/ //g' |
        grep -E '^lib' || true)
    apt_install $libs
}

need_user() { # NAME [HOME]
    id "$1" >/dev/null 2>&1 ||
        useradd --system --no-create-home --home-dir "${2:-/nonexistent}" \
            --shell /usr/sbin/nologin "$1"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() { # PORT: until something listens (up to 20 s)
    local i
    for i in $(seq 100); do
        (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}

# ---------------------------------------------------------------------------------------
# Checks. A case sends one message with a unique marker to RCPTS recipients named
# <case>-<i>@test.example and counts the copies in MAILDIR/<case>-<i>/ (any file holding the
# marker, however the server lays out its mailboxes).

case_failed=
fail() { log "  FAIL: $*"; case_failed=1; }

copies() { # MAILDIR LOCALPART MARKER
    [ -d "$1/$2" ] || { echo 0; return; }
    grep -rl --fixed-strings -- "$3" "$1/$2" 2>/dev/null | wc -l
}

# The mailbox names of the cases: each all-delivered case at each of COUNTS, each other
# case at RCPTS recipients. FORMAT is printf's, given the local part twice.
mailboxes() { # FORMAT ALL-DELIVERED-CASES... -- OTHER-CASES...
    local format=$1 c n i others=
    shift
    for c in "$@"; do
        if [ "$c" = -- ]; then others=1; continue; fi
        if [ -n "$others" ]; then
            for i in $(seq "$RCPTS"); do printf "$format" "$c-$i" "$c-$i"; done
        else
            for n in $COUNTS; do
                for i in $(seq "$n"); do printf "$format" "$c-$n-$i" "$c-$n-$i"; done
            done
        fi
    done
}

# Each count of COUNTS: expect_all_delivered NAME-COUNT with that many recipients.
expect_all_delivered_counts() { # NAME MAILDIR PORT PIPELINED [deliver options]
    local name=$1 n
    shift
    for n in $COUNTS; do RCPTS=$n expect_all_delivered "$name-$n" "$@"; done
}

# run_case NAME MAILDIR PORT [deliver options]: runs the client, waits for the server to
# deliver what it accepted, and sets: rc, reported_{delivered,deferred,bounced}, received
# (recipients with exactly one copy), duplicates, mismatches (report vs mailbox).
run_case() {
    local name=$1 maildir=$2 port=$3 i addr n state want expect total deadline
    shift 3
    local marker="marker-$name-$RANDOM$RANDOM"
    local out="$WORK/$name.out" err="$WORK/$name.log"
    printf 'From: <sender@example.org>\nTo: undisclosed-recipients:;\nSubject: %s\nX-Marker: %s\n\n%s\n.leading dot, stuffed\nend\n' \
        "$name" "$marker" "$marker" >"$WORK/$name.eml"
    local rcpts=()
    for i in $(seq "$RCPTS"); do rcpts+=("$name-$i@test.example"); done
    local t0=$(date +%s%N)
    timeout 120 "$DELIVER" -v -m "$WORK/$name.eml" "$@" 127.0.0.1 "$port" "${rcpts[@]}" \
        >"$out" 2>"$err"
    rc=$?
    elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
    reported_delivered=$(grep -c '^delivered ' "$out")
    reported_unattempted=$(grep -c '^not-attempted ' "$out")
    reported_deferred=$(grep -c '^deferred ' "$out")
    reported_bounced=$(grep -c '^bounced ' "$out")
    # Servers may deliver after the reply: wait until the reported copies are there, then a
    # little more so that duplicates would show.
    deadline=$(($(date +%s) + 60))
    while :; do
        total=0
        for i in $(seq "$RCPTS"); do total=$((total + $(copies "$maildir" "$name-$i" "$marker"))); done
        [ "$total" -ge "$reported_delivered" ] || [ "$(date +%s)" -ge "$deadline" ] && break
        sleep 0.3
    done
    sleep 1
    received=0 duplicates=0 mismatches=0
    for i in $(seq "$RCPTS"); do
        addr="$name-$i@test.example"
        n=$(copies "$maildir" "$name-$i" "$marker")
        state=$(grep -F " $addr:" "$out" | cut -d' ' -f1)
        [ "$n" -eq 1 ] && received=$((received + 1))
        [ "$n" -gt 1 ] && duplicates=$((duplicates + 1))
        want=0; [ "$state" = delivered ] && want=1
        # RFC 1047: the connection was lost after the message, which may or may not be kept.
        grep -F " $addr:" "$out" | grep 'possibly delivered' >/dev/null && want=$n
        if [ "$n" -ne "$want" ]; then
            mismatches=$((mismatches + 1))
            log "    $addr: reported ${state:-nothing}, $n copies"
        fi
    done
    if grep -A1 '^C: MAIL' "$err" | grep '^C: RCPT' >/dev/null; then pipelined=yes; else pipelined=no; fi
    transactions=$(grep -c '^C: MAIL' "$err") rcpt_commands=$(grep -c '^C: RCPT' "$err")
    log "  $name: $RCPTS recipients: exit $rc, reported $reported_delivered delivered / $reported_deferred deferred / $reported_bounced bounced / $reported_unattempted not attempted; mailboxes: $received with one copy, $duplicates with more; pipelined: $pipelined; transactions: $transactions, RCPTs: $rcpt_commands, $elapsed_ms ms"
}

# The library run: every recipient delivered once, reported so, exit 0.
expect_all_delivered() { # NAME MAILDIR PORT PIPELINED(yes/no) [deliver options]
    local name=$1 maildir=$2 port=$3 want_pipelined=$4
    shift 4
    run_case "$name" "$maildir" "$port" "$@"
    [ "$rc" -eq 0 ] || fail "$name: exit status $rc"
    [ "$reported_delivered" -eq "$RCPTS" ] || fail "$name: reported $reported_delivered of $RCPTS delivered"
    [ "$received" -eq "$RCPTS" ] || fail "$name: $received of $RCPTS recipients have exactly one copy"
    [ "$duplicates" -eq 0 ] || fail "$name: $duplicates recipients got more than one copy"
    [ "$mismatches" -eq 0 ] || fail "$name: report and mailboxes disagree"
    [ "$pipelined" = "$want_pipelined" ] || fail "$name: pipelined $pipelined, expected $want_pipelined"
    grep -q '^C: MAIL' "$WORK/$name.log" || fail "$name: no transaction"
    if [ "$RCPTS" -gt "$LIMIT" ]; then
        [ "$transactions" -gt 1 ] || fail "$name: one transaction: the server's limit was never hit"
    else
        [ "$transactions" -eq 1 ] || fail "$name: $transactions transactions for $RCPTS recipients"
    fi
}

# The first-digit run: some recipients not delivered, the report matching the mailboxes.
expect_first_digit_loses() { # NAME MAILDIR PORT [deliver options]
    local name=$1
    run_case "$@" --first-digit
    [ "$rc" -ne 0 ] || fail "$name: --first-digit exited 0"
    [ "$reported_delivered" -lt "$RCPTS" ] || fail "$name: --first-digit delivered to all"
    [ "$received" -lt "$RCPTS" ] || fail "$name: --first-digit: every recipient got the message"
    [ "$duplicates" -eq 0 ] || fail "$name: $duplicates recipients got more than one copy"
    [ "$mismatches" -eq 0 ] || fail "$name: report and mailboxes disagree"
    first_digit_summary+=("$name: $reported_delivered/$RCPTS delivered, $reported_deferred deferred, $reported_bounced bounced")
}
first_digit_summary=()
figures=()

server_result() { # NAME
    if [ -n "$case_failed" ]; then failed+=("$1"); log "== $1: FAILED"
    else passed+=("$1"); log "== $1: passed"; fi
    case_failed=
}

# ---------------------------------------------------------------------------------------
# Postfix, a private instance: its own main.cf, master.cf, queue, virtual mailboxes (maildir)
# under $WORK/postfix. Over the limit it says "452 4.5.3 Error: too many recipients".

test_postfix() {
    log "== postfix"
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt_install postfix || { fail "cannot install postfix"; server_result postfix; return; }
    local d=$WORK/postfix port
    port=$(free_port)
    mkdir -p "$d/etc" "$d/spool" "$d/data" "$d/mail"
    chown postfix "$d/data"
    chown nobody:nogroup "$d/mail"
    cat >"$d/etc/main.cf" <<EOF
compatibility_level = 3.6
config_directory = $d/etc
queue_directory = $d/spool
data_directory = $d/data
maillog_file = $d/maillog
maillog_file_prefixes = $WORK
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.postfix.test
mydomain = postfix.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
disable_dns_lookups = yes
smtp_host_lookup = native
lmtp_host_lookup = native
smtpd_peername_lookup = no
virtual_mailbox_domains = test.example
virtual_mailbox_base = $d/mail
virtual_mailbox_maps = texthash:$d/etc/vmailbox
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(id -g nobody)
virtual_minimum_uid = 1
smtpd_recipient_limit = $LIMIT
smtpd_recipient_overshoot_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
alias_maps =
alias_database =
default_transport = error:no mail leaves this test
relay_transport = error:no mail leaves this test
EOF
    # The mailboxes (maildirs) of the recipients the cases use.
    local c i
    mailboxes '%s@test.example %s/\n' postfix-pipelining postfix-no-pipelining \
        postfix-learning postfix-no-learning postfix-told -- postfix-first-digit >"$d/etc/vmailbox"
    # master.cf: the Debian template, the smtp listener on our port, nothing chrooted.
    sed -e '/^#/d' -e "s/^smtp      inet /$port inet /" \
        -e 's/^\([^ ]\+ \+[^ ]\+ \+[^ ]\+ \+[^ ]\+ \+\)y /\1n /' \
        /usr/share/postfix/master.cf.dist >"$d/etc/master.cf"
    postfix -c "$d/etc" check >"$d/check.log" 2>&1 || { cat "$d/check.log" "$d/maillog"; fail "postfix check"; }
    STOPS+=("postfix -c '$d/etc' stop")
    if ! postfix -c "$d/etc" start >"$d/start.log" 2>&1 || ! wait_port "$port"; then
        cat "$d/start.log" "$d/maillog" 2>/dev/null | tail -20
        fail "postfix did not start"; server_result postfix; return
    fi
    PIDFILES+=("$d/spool/pid/master.pid")
    expect_all_delivered_counts postfix-pipelining "$d/mail" "$port" yes
    expect_all_delivered_counts postfix-no-pipelining "$d/mail" "$port" no --no-pipelining
    expect_first_digit_loses postfix-first-digit "$d/mail" "$port"
    # README's figures: the most recipients, learning the limit, not learning it, told it.
    local n=${COUNTS##* } how
    for how in learning no-learning told; do
        case $how in
            learning) set -- ;;
            no-learning) set -- --no-learning ;;
            told) set -- -n "$LIMIT" ;;
        esac
        RCPTS=$n expect_all_delivered "postfix-$how-$n" "$d/mail" "$port" yes "$@"
        figures+=("$n recipients, limit $LIMIT, Postfix, $how: $transactions transactions, $rcpt_commands RCPTs, $elapsed_ms ms")
    done
    grep -q '452 4.5.3 Error: too many recipients' "$WORK/postfix-pipelining-${COUNTS##* }.log" ||
        fail "postfix did not say 452 4.5.3"
    postfix -c "$d/etc" stop >/dev/null 2>&1
    unset 'STOPS[-1]'
    stop_pid "$d/spool/pid/master.pid"
    server_result postfix
}

# ---------------------------------------------------------------------------------------
# Exim, unpacked from Debian's packages (it conflicts with Postfix as a package) and run as a
# foreground daemon with its own configuration, spool and maildirs. recipients_max_reject
# false: "452 too many recipients" to the surplus RCPTs; true: "552 too many recipients" to
# them, then "554 Too many recipients" to DATA, refusing the whole message.

exim_instance() { # NAME REJECT(true/false)
    local name=$1 reject=$2 d=$WORK/$1 port exim=$WORK/root/usr/sbin/exim4 c i
    log "== $name (recipients_max $LIMIT, recipients_max_reject = $reject)"
    port=$(free_port)
    mkdir -p "$d/spool" "$d/log" "$d/mail"
    chown Debian-exim:Debian-exim "$d/spool" "$d/log" "$d/mail"
    mailboxes '%s: %s\n' "$name-pipelining" "$name-no-pipelining" -- "$name-first-digit" \
        >"$d/local_parts"
    cat >"$d/exim.conf" <<EOF
exim_user = Debian-exim
exim_group = Debian-exim
exim_path = $exim
spool_directory = $d/spool
log_file_path = $d/log/%slog
primary_hostname = mx.exim.test
qualify_domain = test.example
daemon_smtp_ports = $port
local_interfaces = 127.0.0.1
host_lookup =
rfc1413_hosts =
tls_advertise_hosts =
chunking_advertise_hosts =
prdr_enable = false
keep_environment =
deliver_drop_privilege = true
recipients_max = $LIMIT
recipients_max_reject = $reject
smtp_accept_queue_per_connection = 0
domainlist local_domains = test.example
acl_smtp_rcpt = acl_check_rcpt

begin acl
acl_check_rcpt:
  accept domains = +local_domains
  deny message = relay not permitted

begin routers
mailbox:
  driver = accept
  domains = +local_domains
  local_parts = lsearch;$d/local_parts
  transport = maildir

begin transports
maildir:
  driver = appendfile
  directory = $d/mail/\$local_part_data
  maildir_format
  create_directory
  mode = 0644

begin retry
* * F,1h,10m
EOF
    "$exim" -C "$d/exim.conf" -bV >"$d/check.log" 2>&1 || { cat "$d/check.log"; fail "exim -bV"; }
    "$exim" -C "$d/exim.conf" -bdf -oX "$port" >"$d/daemon.log" 2>&1 &
    echo $! >"$d/exim.pid"
    PIDFILES+=("$d/exim.pid")
    if ! wait_port "$port"; then
        tail -20 "$d/daemon.log" "$d"/log/*; fail "exim did not start"; server_result "$name"; return
    fi
    expect_all_delivered_counts "$name-pipelining" "$d/mail" "$port" yes
    expect_all_delivered_counts "$name-no-pipelining" "$d/mail" "$port" no --no-pipelining
    expect_first_digit_loses "$name-first-digit" "$d/mail" "$port"
    stop_pid "$d/exim.pid"
    server_result "$name"
}

test_exim() {
    unpack exim4-daemon-light || { fail "cannot unpack exim"; server_result exim; return; }
    need_user Debian-exim /var/spool/exim4
    exim_instance exim-452 false
    local log=pipelining-${COUNTS##* }.log
    grep -q '^S: 452 ' "$WORK/exim-452-$log" || fail "exim did not say 452"
    exim_instance exim-552 true
    grep -q '^S: 552 ' "$WORK/exim-552-$log" || fail "exim did not say 552"
    grep -q '^S: 554 ' "$WORK/exim-552-$log" || fail "exim did not say 554 to DATA"
}

# ---------------------------------------------------------------------------------------
# OpenSMTPD, unpacked from Debian's package. Its spool, chroot, control socket and helper
# programs are at compiled-in paths, so it runs in a mount namespace where those paths (and
# /etc/resolv.conf, which says 127.0.0.1: no DNS leaves the machine) are bind mounts of
# directories under $WORK. Over the limit it says "451 4.5.3 Too many recipients"; it does
# not offer PIPELINING.

test_opensmtpd() {
    local name=opensmtpd d=$WORK/opensmtpd port
    log "== $name (smtp limit max-rcpt $LIMIT)"
    unpack opensmtpd || { fail "cannot unpack opensmtpd"; server_result $name; return; }
    need_user opensmtpd /var/lib/opensmtpd/empty # Debian's names for _smtpd and _smtpq
    need_user opensmtpq /var/lib/opensmtpd/empty
    port=$(free_port)
    mkdir -p "$d/run" "$d/var-lib/opensmtpd/empty" "$d/var-spool/smtpd" "$d/mail"
    chmod 711 "$d/var-spool/smtpd"
    chown nobody "$d/mail"
    echo "nameserver 127.0.0.1" >"$d/resolv.conf"
    cat >"$d/smtpd.conf" <<EOF
smtp limit max-rcpt $LIMIT
listen on 127.0.0.1 port $port hostname mx.opensmtpd.test
table vusers { "@test.example" = "nobody" }
action "local" maildir "$d/mail/%{rcpt.user}" virtual <vusers>
match from any for domain "test.example" action "local"
EOF
    unshare -m --propagation private sh -c '
        mount --bind "$1/resolv.conf" /etc/resolv.conf &&
        mount --bind "$1/run" /run &&
        mount --bind "$1/var-lib" /var/lib &&
        mount --bind "$1/var-spool" /var/spool &&
        mount --bind "$2/usr/libexec" /usr/libexec &&
        exec "$2/usr/sbin/smtpd" -d -f "$1/smtpd.conf"' sh "$d" "$WORK/root" \
        >"$d/smtpd.log" 2>&1 &
    echo $! >"$d/smtpd.pid"
    PIDFILES+=("$d/smtpd.pid")
    if ! wait_port "$port"; then
        tail -20 "$d/smtpd.log"; fail "opensmtpd did not start"; server_result $name; return
    fi
    # No PIPELINING offered: the client must not pipeline, with or without --no-pipelining.
    expect_all_delivered_counts "$name" "$d/mail" "$port" no
    expect_first_digit_loses "$name-first-digit" "$d/mail" "$port"
    grep -q '^S: 451 4.5.3 ' "$WORK/$name-${COUNTS##* }.log" || fail "opensmtpd did not say 451 4.5.3"
    grep -q '^S: 250-PIPELINING' "$WORK/$name-${COUNTS##* }.log" && fail "opensmtpd offered PIPELINING"
    stop_pid "$d/smtpd.pid"
    server_result $name
}

# ---------------------------------------------------------------------------------------
# The scripted server (tests/servers/scripted.py), one process per scenario.

expect_counts() { # NAME DELIVERED DEFERRED BOUNCED NOT-ATTEMPTED EXIT: the report, mailboxes agreeing
    local got="$reported_delivered/$reported_deferred/$reported_bounced/$reported_unattempted"
    [ "$got" = "$2/$3/$4/$5" ] ||
        fail "$1: reported $got delivered/deferred/bounced/not attempted, expected $2/$3/$4/$5"
    [ "$rc" -eq "$6" ] || fail "$1: exit status $rc, expected $6"
    [ "$duplicates" -eq 0 ] || fail "$1: $duplicates recipients got more than one copy"
    [ "$mismatches" -eq 0 ] || fail "$1: report and mailboxes disagree"
}

start_scripted() { # SCENARIO: sets port and maildir
    local d=$WORK/scripted-$1
    mkdir -p "$d/mail"
    port=$(free_port) maildir=$d/mail
    python3 "$ROOT/tests/servers/scripted.py" "$port" "$d/mail" "$1" >"$d/server.log" 2>&1 &
    echo $! >"$d/server.pid"
    PIDFILES+=("$d/server.pid")
    wait_port "$port" || fail "scripted server $1 did not start"
}

stop_scripted() { stop_pid "$WORK/scripted-$1/server.pid"; }

test_scripted() {
    local sc port maildir pipelining
    # Recipient limits the real servers above do not show.
    for sc in limit552 legacy552 barelf split bytes helo; do
        log "== scripted-$sc"
        start_scripted $sc
        pipelining=yes; [ $sc = legacy552 ] || [ $sc = helo ] && pipelining=no
        expect_all_delivered "scripted-$sc" "$maildir" "$port" $pipelining
        [ $pipelining = yes ] &&
            expect_all_delivered "scripted-$sc-no-pipelining" "$maildir" "$port" no --no-pipelining
        expect_first_digit_loses "scripted-$sc-first-digit" "$maildir" "$port"
        stop_scripted $sc
        server_result "scripted-$sc"
    done
    grep -q '^S: 552 5.5.3 ' "$WORK/scripted-limit552.log" || fail "no 552 5.5.3"
    grep -q '^C: HELO ' "$WORK/scripted-helo.log" || fail "scripted-helo: no HELO after EHLO refused"

    # RFC 9422 LIMITS RCPTMAX=3 (read by smtp_parse_ehlo): transactions of 3, no RCPT refused.
    log "== scripted-limits"
    start_scripted limits
    expect_all_delivered scripted-limits "$maildir" "$port" yes
    expect_all_delivered scripted-limits-no-pipelining "$maildir" "$port" no --no-pipelining
    grep -q '^S: 452' "$WORK/scripted-limits.log" "$WORK/scripted-limits-no-pipelining.log" &&
        fail "scripted-limits: a RCPT was refused although LIMITS RCPTMAX was advertised"
    stop_scripted limits
    server_result scripted-limits

    # "220-" then "521": this host takes no mail, every recipient bounces.
    log "== scripted-greet521"
    start_scripted greet521
    run_case scripted-greet521 "$maildir" "$port"
    expect_counts scripted-greet521 0 0 "$RCPTS" 0 2
    stop_scripted greet521
    server_result scripted-greet521

    # 421 in each connection's second transaction: the first 3 delivered, the rest need
    # another connection; given 3 connections, all delivered.
    log "== scripted-421mid"
    start_scripted 421mid
    run_case scripted-421mid "$maildir" "$port"
    expect_counts scripted-421mid 3 0 0 $((RCPTS - 3)) 1
    grep -q '^C: QUIT' "$WORK/scripted-421mid.log" && fail "scripted-421mid: QUIT after 421"
    run_case scripted-421mid-reconnect "$maildir" "$port" -c 3
    expect_counts scripted-421mid-reconnect "$RCPTS" 0 0 0 0
    stop_scripted 421mid
    server_result scripted-421mid

    # LIMITS RCPTMAX=3 MAILMAX=2: two transactions of 3, the rest need another connection;
    # given 2 connections, all delivered. No RCPT and no MAIL refused.
    log "== scripted-mailmax"
    start_scripted mailmax
    run_case scripted-mailmax "$maildir" "$port"
    expect_counts scripted-mailmax 6 0 0 $((RCPTS - 6)) 1
    run_case scripted-mailmax-reconnect "$maildir" "$port" -c 2
    expect_counts scripted-mailmax-reconnect "$RCPTS" 0 0 0 0
    grep -q '^S: 4' "$WORK/scripted-mailmax.log" "$WORK/scripted-mailmax-reconnect.log" &&
        fail "scripted-mailmax: a command was refused although LIMITS was advertised"
    stop_scripted mailmax
    server_result scripted-mailmax

    # The connection cut after the final dot of the second transaction, the message kept:
    # its 3 recipients deferred as possibly delivered (RFC 1047), never reported delivered.
    log "== scripted-cutdot"
    start_scripted cutdot
    run_case scripted-cutdot "$maildir" "$port"
    expect_counts scripted-cutdot 3 3 0 $((RCPTS - 6)) 1
    [ "$(grep -c 'possibly delivered' "$WORK/scripted-cutdot.out")" -eq 3 ] ||
        fail "scripted-cutdot: not 3 recipients possibly delivered"
    stop_scripted cutdot
    server_result scripted-cutdot

    # 250 after 452 in one pipelined transaction (Exim bug 2693): each recipient once.
    log "== scripted-bug2693"
    start_scripted bug2693
    expect_all_delivered scripted-bug2693 "$maildir" "$port" yes
    grep -A1 '^S: 452' "$WORK/scripted-bug2693.log" | grep '^S: 250 2.1.5' >/dev/null ||
        fail "scripted-bug2693: no 250 after a 452"
    stop_scripted bug2693
    server_result scripted-bug2693
}

# ---------------------------------------------------------------------------------------

[ "$(id -u)" -eq 0 ] || die "run as root (installs packages, starts mail servers)"
apt_install build-essential python3 || die "cannot install build tools"
if [ ! -x "$DELIVER" ]; then make -C examples-c build/deliver >/dev/null || die "cannot build deliver"; fi

for server in $SERVERS; do "test_$server"; done

log ""
for s in "${first_digit_summary[@]}"; do log "first-digit contrast: $s"; done
for s in "${figures[@]}"; do log "figure: $s"; done
log "servers: ${#passed[@]} passed, ${#failed[@]} failed${failed:+ (${failed[*]})} in $(($(date +%s) - started)) s"
[ ${#failed[@]} -eq 0 ]
