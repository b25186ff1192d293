#!/usr/bin/env bash
# Builds the Debian packages from debian/ (libsmtp-verdict0, libsmtp-verdict-dev), runs lintian
# on them (any error or warning fails; informational tags are listed), installs them, builds
# and runs examples-c/classify and tests/install/version.c with the -dev package through
# pkg-config, then removes them. Runs as root (dpkg -i); about a minute.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
fail() { echo "debian test FAILED: $*" >&2; exit 1; }
export PATH=$HOME/.cargo/bin:$PATH
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
[ "$(dpkg-parsechangelog -S Version)" = "$version" ] || fail "debian/changelog is not at $version"

out=$(mktemp -d)
trap 'dpkg -r libsmtp-verdict-dev libsmtp-verdict0 >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
# dpkg-buildpackage writes the packages next to the source directory: build from a copy of
# the tree so that they land in $out.
mkdir "$out/src" && git ls-files -z | tar --null -T - -cf - | tar -x -C "$out/src"
(cd "$out/src" && dpkg-buildpackage -b -d -us -uc >"$out/build.log" 2>&1) || { tail -30 "$out/build.log"; fail "dpkg-buildpackage"; }
debs=("$out"/libsmtp-verdict0_"$version"_*.deb "$out"/libsmtp-verdict-dev_"$version"_*.deb)
for deb in "${debs[@]}"; do [ -f "$deb" ] || fail "no $deb"; done

lintian --fail-on error,warning --info "${debs[@]}" >"$out/lintian.log" 2>&1 || { cat "$out/lintian.log"; fail "lintian"; }
echo "lintian: $(grep -c '^[EW]:' "$out/lintian.log" || true) errors or warnings; informational: $(grep '^[IP]:' "$out/lintian.log" | cut -d' ' -f3 | sort -u | tr '\n' ' ')"

dpkg -i "${debs[@]}" >/dev/null
lib=$(dpkg -L libsmtp-verdict0 | grep 'libsmtp_verdict\.so\.[0-9.]*$' | head -1)
# Outputs are captured before grep: under pipefail, `cmd | grep -q` fails whenever grep exits
# on its first match before cmd has written everything (cmd dies of SIGPIPE), a race that
# failed CI once.
symbols=$(objdump -T "$lib")
grep -q 'SMTP_VERDICT_0.1 *smtp_classify_reply$' <<<"$symbols" || fail "$lib: smtp_classify_reply has no version"
make -s -C examples-c PKG=1 BUILD="$out/examples" >/dev/null
linked=$(ldd "$out/examples/classify")
grep -qF "$lib" <<<"$linked" || grep -q 'libsmtp_verdict\.so' <<<"$linked" ||
    fail "classify is not linked to the packaged library $lib: $linked"
"$out/examples/classify" -c RCPT -a 3 '552 too many recipients' | grep '^batch-limit' >/dev/null || fail "classify (package)"
cc -std=c99 -Wall -Wextra -Wpedantic -Werror $(pkg-config --cflags smtp_verdict) -o "$out/version" \
    tests/install/version.c $(pkg-config --libs smtp_verdict)
"$out/version" "$version"
man -w smtp_plan_init >/dev/null 2>&1 || [ -f /usr/share/man/man3/smtp_plan_init.3.gz ] || fail "no smtp_plan_init(3)"
echo "debian: packages $(basename -a "${debs[@]}" | tr '\n' ' ')built, lintian clean, installed, classify built with the -dev package: passed"
