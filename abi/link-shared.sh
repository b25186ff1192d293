#!/usr/bin/env bash
# Gives the installed shared library versioned symbols (abi/smtp_verdict.map), as glibc,
# libcurl and OpenSSL have. rustc links a cdylib with a version script of its own, and the
# linker takes the first, so the library is linked again, from the installed static library,
# with the same name and soname. Run it after `cargo cinstall`:
#   bash abi/link-shared.sh LIBDIR      (LIBDIR holds libsmtp_verdict.a and the .so files)
set -euo pipefail
map=$(cd "$(dirname "$0")" && pwd)/smtp_verdict.map
libdir=${1:?usage: link-shared.sh LIBDIR}
real=$(readlink -f "$libdir/libsmtp_verdict.so")
soname=$(readelf -d "$real" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ -n "$soname" ] || { echo "link-shared.sh: $real has no soname" >&2; exit 1; }
# The native libraries the static library needs, as cargo-c lists them for pkg-config.
natives=$(sed -n 's/^Libs.private: *//p' "$libdir/pkgconfig/smtp_verdict.pc")
${CC:-cc} -shared -o "$real.tmp" -Wl,--whole-archive "$libdir/libsmtp_verdict.a" -Wl,--no-whole-archive \
    -Wl,--version-script="$map" -Wl,-soname,"$soname" -Wl,--gc-sections -Wl,-z,relro,-z,now $natives
mv "$real.tmp" "$real"
unversioned=$(objdump -T "$real" | awk '$NF ~ /^smtp_/ && $(NF-1) !~ /^SMTP_VERDICT_/ {print $NF}')
[ -z "$unversioned" ] || { echo "link-shared.sh: symbols without a version: $unversioned" >&2; exit 1; }
echo "link-shared.sh: $(basename "$real") ($soname), $(objdump -T "$real" | grep -c ' SMTP_VERDICT_') versioned symbols"
