#!/usr/bin/env bash
# The shared library's ABI against the dump of the last release with the same soname
# (abi/smtp_verdict-VERSION.abi, written by abidw from that release's build). Additions
# (functions, fields at the end of a struct) pass; any other change fails, unless the soname
# changed (README "ABI policy"), which is reported and allowed.
#   bash abi/check.sh            the check, then the same check on a copy of the crate with a
#                                field inserted into smtp_result, which must fail
#   bash abi/check.sh --dump     write abi/smtp_verdict-VERSION.abi (at a release)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
command -v abidiff >/dev/null || { apt-get update -qq && apt-get install -y -qq abigail-tools >/dev/null; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

version_of() { sed -n 's/^version = "\(.*\)"/\1/p' "$1/Cargo.toml" | head -1; }
# The soname's suffix: the major version (Cargo.toml: version_suffix_components = 1). 0.1.0
# was installed as .so.0.1, but 0.2.0 is held to its ABI, as every 0.x release after it.
soname_of() { echo "${1%%.*}"; }
# The dump of the crate in $1, with debug info (what abidw reads), built in its own target
# directory so that the normal release build is left as it is.
dump() {
    (cd "$1" && CARGO_TARGET_DIR=$root/target/abi CARGO_PROFILE_RELEASE_DEBUG=true \
        cargo build -q --release --lib)
    abidw --out-file "$2" "$root/target/abi/release/libsmtp_verdict.so"
}

version=$(version_of "$root")
if [ "${1:-}" = --dump ]; then
    dump "$root" "abi/smtp_verdict-$version.abi"
    echo "wrote abi/smtp_verdict-$version.abi"
    exit 0
fi
# check DIR: 0 when the crate in DIR keeps the ABI of every release dumped in abi/ with the
# same soname (another soname: the differences are shown, not held against it).
check() {
    local v baseline base_version failed=0 compared=0
    v=$(version_of "$1")
    dump "$1" "$work/current.abi"
    for baseline in $(ls abi/smtp_verdict-*.abi | sort -V); do
        base_version=${baseline#abi/smtp_verdict-}; base_version=${base_version%.abi}
        [ "$base_version" = "$v" ] && [ "$1" = "$root" ] && continue # its own dump, at a release
        if abidiff --no-added-syms --suppressions abi/suppressions.abignore "$baseline" "$work/current.abi" >"$work/diff"; then
            echo "ABI of $v: compatible with $base_version"
        elif [ "$(soname_of "$v")" != "$(soname_of "$base_version")" ]; then
            echo "ABI of $v: changed since $base_version, allowed: another soname ($(soname_of "$base_version") -> $(soname_of "$v"))"
        else
            cat "$work/diff"
            echo "ABI of $v: INCOMPATIBLE with $base_version (same soname .so.$(soname_of "$v"))"
            failed=1
        fi
        compared=$((compared + 1))
    done
    [ "$compared" -gt 0 ] || { echo "no release dump to compare with in abi/"; return 1; }
    return $failed
}

check "$root"

# The check must catch a break: a field inserted at the front of smtp_result.
mkdir "$work/crate" && git archive HEAD | tar -x -C "$work/crate"
python3 - "$work/crate/src" <<'PY'
import pathlib, re, sys
for p in pathlib.Path(sys.argv[1]).rglob("*.rs"):
    s = p.read_text()
    if "pub struct smtp_result {" not in s:
        continue
    s = re.sub(r"(pub struct smtp_result \{\n(?:\s*///.*\n)*\s*pub struct_size: u32,)", r"\1\n    pub inserted_by_abi_check: u32,", s, count=1)
    p.write_text(s)
    print("inserted a field into smtp_result in", p)
PY
# Every construction of smtp_result names its fields or uses ..Default: give the new one 0.
grep -rl "smtp_result {" "$work/crate/src" | xargs sed -i 's/^\(\s*\)struct_size: MIN_RESULT_SIZE,/\1struct_size: MIN_RESULT_SIZE,\n\1inserted_by_abi_check: 0,/; s/let smtp_result {$/let smtp_result {\n        inserted_by_abi_check: _,/'
if (check "$work/crate" >"$work/mutant.log" 2>&1); then
    cat "$work/mutant.log"
    echo "the ABI check did not catch a field inserted into smtp_result"
    exit 1
fi
grep -m1 "INCOMPATIBLE\|error" "$work/mutant.log"
echo "the ABI check catches a field inserted into smtp_result"
