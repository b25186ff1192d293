#!/usr/bin/env bash
# Installs the library with cargo-c into a temporary prefix and uses it as a C project would:
# the examples through pkg-config (shared, then static), CMake projects through
# pkg_check_modules and through the installed package config, a Meson project, the manual
# pages, and checks of the soname, exported and versioned symbols, header and versions.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
fail() { echo "install test FAILED: $*" >&2; exit 1; }

if ! cargo cinstall --version 2>/dev/null | grep '0\.10\.24' >/dev/null; then
    # The newest cargo-c that builds with rustc 1.95; about 10 minutes on 2 cores.
    cargo install cargo-c --version 0.10.24+cargo-0.98.0 --locked
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cargo cinstall --release --prefix "$prefix" --libdir "$prefix/lib" >"$work/cinstall.log" 2>&1 ||
    { cat "$work/cinstall.log"; fail "cargo cinstall"; }

# Versioned symbols (abi/smtp_verdict.map): cargo-c's shared library, linked again.
bash abi/link-shared.sh "$prefix/lib"

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
IFS=. read -r major minor patch <<<"$version"
# The soname: lib.so.MAJOR (Cargo.toml sets cargo-c's version_suffix_components to 1).
sover=$major

lib=$prefix/lib
for f in libsmtp_verdict.a "libsmtp_verdict.so.$version" "libsmtp_verdict.so.$sover" libsmtp_verdict.so \
    pkgconfig/smtp_verdict.pc; do
    [ -e "$lib/$f" ] || fail "missing $lib/$f"
done
[ -L "$lib/libsmtp_verdict.so" ] && [ -L "$lib/libsmtp_verdict.so.$sover" ] || fail "shared library symlinks"
soname=$(readelf -d "$lib/libsmtp_verdict.so.$version" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = "libsmtp_verdict.so.$sover" ] || fail "soname is '$soname'"
cmp "$prefix/include/smtp_verdict.h" include/smtp_verdict.h || fail "installed header differs from include/smtp_verdict.h"
grep -q '^Libs.private:.*-l' "$lib/pkgconfig/smtp_verdict.pc" || fail "no Libs.private in the .pc file"

# Only the smtp_ functions are exported.
others=$(nm -D --defined-only "$lib/libsmtp_verdict.so" | awk '$2 ~ /[TDBRW]/ {sub(/@.*/, "", $3); print $3}' | grep -v '^smtp_' || true)
[ -z "$others" ] || fail "exports other than smtp_*: $others"
exported=$(nm -D --defined-only "$lib/libsmtp_verdict.so" | awk '$2 == "T" {sub(/@.*/, "", $3); print $3}' | sort | tr '\n' ' ')
declared=$(grep -o '\bsmtp_[a-z_]*(' include/smtp_verdict.h | tr -d '(' | sort -u | tr '\n' ' ')
[ "$exported" = "$declared" ] || fail "exported [$exported] but the header declares [$declared]"
echo "exports: $exported"
# Every function carries a version node, and the map lists exactly the header's functions.
mapped=$(grep -o '^ *smtp_[a-z_]*;' abi/smtp_verdict.map | tr -d ' ;' | sort | tr '\n' ' ')
[ "$mapped" = "$declared" ] || fail "abi/smtp_verdict.map lists [$mapped], the header declares [$declared]"
unversioned=$(objdump -T "$lib/libsmtp_verdict.so" | awk '$NF ~ /^smtp_/ && $(NF-1) !~ /^SMTP_VERDICT_/' || true)
[ -z "$unversioned" ] || fail "symbols without a version: $unversioned"

export PKG_CONFIG_PATH=$lib/pkgconfig
cc=${CC:-cc}
# Shared, through pkg-config.
make -s -C examples-c PKG=1 BUILD="$work/shared" CC="$cc"
$cc -std=c99 -Wall -Wextra -Wpedantic -Werror $(pkg-config --cflags smtp_verdict) \
    -o "$work/shared/version" tests/install/version.c $(pkg-config --libs smtp_verdict)
LD_LIBRARY_PATH=$lib ldd "$work/shared/classify" | grep "libsmtp_verdict.so.$sover => $lib" >/dev/null || fail "classify is not linked to the installed shared library"
LD_LIBRARY_PATH=$lib "$work/shared/version" "$version"
LD_LIBRARY_PATH=$lib "$work/shared/classify" -c RCPT -a 3 '552 too many recipients' | grep '^batch-limit' >/dev/null ||
    fail "classify (shared)"
LD_LIBRARY_PATH=$lib "$work/shared/bench" 20000 1 | grep 'replies/s' >/dev/null || fail "bench (shared)"

# Static, through pkg-config --static.
make -s -C examples-c PKG=1 STATIC=1 BUILD="$work/static" CC="$cc"
if ldd "$work/static/classify" | grep libsmtp_verdict >/dev/null; then fail "static classify links the shared library"; fi
"$work/static/classify" -c RCPT -a 3 '452 4.5.3 Error: too many recipients' | grep '^batch-limit' >/dev/null ||
    fail "classify (static)"
"$work/static/bench" 20000 1 | grep 'replies/s' >/dev/null || fail "bench (static)"
# deliver, both builds, against the scripted server: 5 recipients, at most 3 per transaction.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 tests/servers/scripted.py "$port" "$work/mail" limit552 2>"$work/server.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
for mode in shared static; do
    LD_LIBRARY_PATH=$lib "$work/$mode/deliver" 127.0.0.1 "$port" a@t.example b@t.example \
        c@t.example d@t.example e@t.example >"$work/deliver-$mode.out" ||
        { cat "$work/deliver-$mode.out"; fail "deliver ($mode)"; }
    [ "$(grep -c '^delivered' "$work/deliver-$mode.out")" = 5 ] || fail "deliver ($mode) report"
done

# CMake, through pkg_check_modules.
cmake -S tests/install/cmake -B "$work/cmake" >/dev/null
cmake --build "$work/cmake" >/dev/null
LD_LIBRARY_PATH=$lib "$work/cmake/version" "$version"

# CMake, through the installed package config: find_package with the version, both targets.
cmake_version=$(sed -n 's/^set(PACKAGE_VERSION "\(.*\)")$/\1/p' cmake/smtp_verdictConfigVersion.cmake)
[ "$cmake_version" = "$version" ] || fail "cmake/smtp_verdictConfigVersion.cmake says $cmake_version, Cargo.toml $version"
cmake -S tests/install/cmake-config -B "$work/cmake-config" -DCMAKE_PREFIX_PATH="$prefix" \
    -DSMTP_VERDICT_WANT="$major.$minor" >"$work/cmake-config.log" || { cat "$work/cmake-config.log"; fail "find_package"; }
cmake --build "$work/cmake-config" >/dev/null
LD_LIBRARY_PATH=$lib "$work/cmake-config/version" "$version"
if ldd "$work/cmake-config/version_static" | grep libsmtp_verdict >/dev/null; then fail "smtp_verdict_static links the shared library"; fi
"$work/cmake-config/version_static" "$version"
# A version the package does not satisfy is refused (a newer minor).
if cmake -S tests/install/cmake-config -B "$work/cmake-newer" -DCMAKE_PREFIX_PATH="$prefix" \
    -DSMTP_VERDICT_WANT="$major.$((minor + 1))" >/dev/null 2>&1; then fail "find_package accepted $major.$((minor + 1))"; fi

# Meson, through pkg-config (shared and static).
meson setup "$work/meson" tests/install/meson -Dwant="$major.$minor" >"$work/meson.log" 2>&1 ||
    { cat "$work/meson.log"; fail "meson setup"; }
meson compile -C "$work/meson" >/dev/null || fail "meson compile"
LD_LIBRARY_PATH=$lib "$work/meson/version" "$version"
"$work/meson/version_static" "$version"

# The manual pages, installed where man finds them.
for page in man3/smtp_classify_reply.3 man3/smtp_plan_next.3 man3/smtp_result.3 man7/smtp_verdict.7; do
    [ -f "$prefix/share/man/$page" ] || fail "missing $prefix/share/man/$page"
done
[ "$(ls "$prefix/share/man/man3" | wc -l)" = "$(ls man/man3 | wc -l)" ] || fail "not every man page installed"

# The build tree, uninstalled: smtp_verdict-uninstalled.pc at the root, found by pkg-config
# before any installed file, names the static archive cargo builds.
cargo build --release --quiet
pc_version=$(sed -n 's/^Version: //p' smtp_verdict-uninstalled.pc)
[ "$pc_version" = "$version" ] || fail "smtp_verdict-uninstalled.pc says $pc_version, Cargo.toml $version"
[ "$(PKG_CONFIG_PATH=$root:$lib/pkgconfig pkg-config --variable=includedir smtp_verdict)" = "$root/include" ] ||
    fail "pkg-config does not pick smtp_verdict-uninstalled.pc first"
mkdir "$work/uninstalled"
for prog in examples-c/classify.c tests/install/version.c; do
    $cc -std=c99 -Wall -Wextra -Wpedantic -Werror -D_POSIX_C_SOURCE=200809L \
        $(PKG_CONFIG_PATH=$root pkg-config --cflags smtp_verdict) -o "$work/uninstalled/$(basename "$prog" .c)" \
        "$prog" $(PKG_CONFIG_PATH=$root pkg-config --libs smtp_verdict)
done
if ldd "$work/uninstalled/classify" | grep libsmtp_verdict >/dev/null; then fail "uninstalled classify links a shared library"; fi
"$work/uninstalled/version" "$version"
"$work/uninstalled/classify" -c RCPT -a 3 '552 too many recipients' | grep '^batch-limit' >/dev/null ||
    fail "classify (uninstalled)"

echo "install: 1 passed, 0 failed"
