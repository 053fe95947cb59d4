#!/bin/sh
# Tests scripts/cloudflare-build's two paths without Cloudflare and without a build:
#   - the prebuilt path, against a bundle served by a loopback HTTP server (python3): right
#     checksum -> unpacked; wrong, missing or malformed checksum, 404, oversized download,
#     unexpected archive entries -> refused with nothing unpacked;
#   - the from-source fallback when PREBUILT_BUNDLE_URL is unset, seen through
#     CLOUDFLARE_BUILD_DRY_RUN=1 (prints `cloudflare-build: from source`, installs nothing).
# The script runs from a copy in a temp dir with BUILD_DIR pointing there too, so the repo's
# own build/ is never touched. Needs sh, python3, tar, gzip, sha256sum, curl or wget.
#
# Usage: sh tests/cloudflare-build/test.sh     (exits non-zero on any failure)
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Loopback only, whatever proxy the environment names.
export NO_PROXY='127.0.0.1,localhost' no_proxy='127.0.0.1,localhost'
unset PREBUILT_BUNDLE_URL PREBUILT_BUNDLE_SHA256 PREBUILT_BUNDLE_MAX_BYTES BUILD_DIR CLOUDFLARE_BUILD_DRY_RUN

passed=0
failed=0
name=
ok() { passed=$((passed + 1)); printf 'ok   %s\n' "$1"; }
not_ok() {
  failed=$((failed + 1))
  printf 'FAIL %s\n     (case: %s; its output:)\n' "$1" "$name"
  [ -f "$tmp/log" ] && sed 's/^/     | /' "$tmp/log"
}

# A temp copy of the layout: scripts/cloudflare-build is all the prebuilt path reads.
layout=$tmp/repo
mkdir -p "$layout/scripts"
cp "$repo/scripts/cloudflare-build" "$layout/scripts/cloudflare-build"

# Bundles to serve.
www=$tmp/www
mkdir -p "$www" "$tmp/src" "$tmp/evil"
printf 'export default { fetch() { return new Response("ok"); } };\n' >"$tmp/src/index.js"
printf '\000asm\001\000\000\000' >"$tmp/src/index_bg.wasm"
tar -czf "$www/attio-gateway-bundle.tar.gz" -C "$tmp/src" index.js index_bg.wasm
good_sha=$(sha256sum "$www/attio-gateway-bundle.tar.gz" | cut -d' ' -f1)
good_size=$(wc -c <"$www/attio-gateway-bundle.tar.gz" | tr -d ' ')
wrong_sha=$(printf 'not the bundle' | sha256sum | cut -d' ' -f1)
cp "$tmp/src/index.js" "$tmp/src/index_bg.wasm" "$tmp/evil/"
printf 'x' >"$tmp/evil/extra.js"
tar -czf "$www/extra.tar.gz" -C "$tmp/evil" index.js index_bg.wasm extra.js
extra_sha=$(sha256sum "$www/extra.tar.gz" | cut -d' ' -f1)
printf 'plain text, not a tarball\n' >"$www/notatar.tar.gz"
notatar_sha=$(sha256sum "$www/notatar.tar.gz" | cut -d' ' -f1)

# python3's http.server on a port the OS picks; it writes the port once it is listening.
python3 - "$www" "$tmp/port" >"$tmp/server.log" 2>&1 <<'EOF' &
import functools, http.server, os, sys
www, port_file = sys.argv[1], sys.argv[2]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=www)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
EOF
server=$!
i=0
while [ ! -s "$tmp/port" ]; do
  i=$((i + 1))
  if [ "$i" -gt 100 ]; then
    echo "the loopback server did not start:"
    cat "$tmp/server.log"
    exit 1
  fi
  sleep 0.1
done
base=http://127.0.0.1:$(cat "$tmp/port")

# run NAME [VAR=value ...]: runs the copied script with exactly these settings; status in $rc.
run() {
  name=$1
  shift
  rc=0
  env "$@" sh "$layout/scripts/cloudflare-build" >"$tmp/log" 2>&1 || rc=$?
}
# nothing_in DIR: DIR is missing or empty.
nothing_in() { [ ! -d "$1" ] || [ -z "$(find "$1" -mindepth 1)" ]; }
logged() { grep -q -- "$1" "$tmp/log"; }

out=$tmp/out1
run "right checksum" BUILD_DIR="$out" PREBUILT_BUNDLE_URL="$base/attio-gateway-bundle.tar.gz" PREBUILT_BUNDLE_SHA256="$good_sha"
if [ "$rc" = 0 ] && cmp -s "$out/index.js" "$tmp/src/index.js" && cmp -s "$out/index_bg.wasm" "$tmp/src/index_bg.wasm" &&
  [ "$(find "$out" -mindepth 1 | wc -l | tr -d ' ')" = 2 ] && ! logged 'from source'; then
  ok "right checksum: index.js and index_bg.wasm unpacked into BUILD_DIR, nothing else"
else not_ok "right checksum: unpacked into BUILD_DIR (rc=$rc)"; fi

run "right checksum, as the .sha256 file's line, upper case" BUILD_DIR="$tmp/out2" PREBUILT_BUNDLE_URL="$base/attio-gateway-bundle.tar.gz" \
  PREBUILT_BUNDLE_SHA256="$(printf '%s' "$good_sha" | tr 'a-f' 'A-F')  attio-gateway-bundle.tar.gz"
if [ "$rc" = 0 ] && cmp -s "$tmp/out2/index.js" "$tmp/src/index.js"; then
  ok "checksum given as the .sha256 file's line (upper case) is accepted"
else not_ok "checksum given as the .sha256 file's line (rc=$rc)"; fi

rm -rf "$layout/build"
run "default BUILD_DIR" PREBUILT_BUNDLE_URL="$base/attio-gateway-bundle.tar.gz" PREBUILT_BUNDLE_SHA256="$good_sha"
if [ "$rc" = 0 ] && cmp -s "$layout/build/index.js" "$tmp/src/index.js" && cmp -s "$layout/build/index_bg.wasm" "$tmp/src/index_bg.wasm"; then
  ok "default BUILD_DIR is build/ next to scripts/ (what wrangler.toml's main points at)"
else not_ok "default BUILD_DIR is build/ (rc=$rc)"; fi
rm -rf "$layout/build"

out=$tmp/out3
run "wrong checksum" BUILD_DIR="$out" PREBUILT_BUNDLE_URL="$base/attio-gateway-bundle.tar.gz" PREBUILT_BUNDLE_SHA256="$wrong_sha"
if [ "$rc" != 0 ] && nothing_in "$out" && logged 'checksum mismatch' && logged "$good_sha"; then
  ok "wrong checksum: refused, says which checksum it got, nothing extracted"
else not_ok "wrong checksum: refused, nothing extracted (rc=$rc)"; fi

# A wrong checksum must not replace an earlier good bundle either.
out=$tmp/out4
mkdir -p "$out"
printf 'old\n' >"$out/index.js"
run "wrong checksum over an existing build" BUILD_DIR="$out" PREBUILT_BUNDLE_URL="$base/attio-gateway-bundle.tar.gz" PREBUILT_BUNDLE_SHA256="$wrong_sha"
if [ "$rc" != 0 ] && [ "$(cat "$out/index.js")" = old ] && [ ! -e "$out/index_bg.wasm" ]; then
  ok "wrong checksum: an existing build/ is left as it was"
else not_ok "wrong checksum: existing build/ untouched (rc=$rc)"; fi

out=$tmp/out5
run "missing checksum" BUILD_DIR="$out" PREBUILT_BUNDLE_URL="$base/attio-gateway-bundle.tar.gz"
if [ "$rc" != 0 ] && nothing_in "$out" && logged 'PREBUILT_BUNDLE_SHA256 is not' && ! logged 'downloading'; then
  ok "missing checksum: refused before downloading, nothing extracted"
else not_ok "missing checksum: refused (rc=$rc)"; fi

run "empty checksum" BUILD_DIR="$out" PREBUILT_BUNDLE_URL="$base/attio-gateway-bundle.tar.gz" PREBUILT_BUNDLE_SHA256=
if [ "$rc" != 0 ] && nothing_in "$out"; then ok "empty checksum: refused"; else not_ok "empty checksum: refused (rc=$rc)"; fi

run "malformed checksum" BUILD_DIR="$out" PREBUILT_BUNDLE_URL="$base/attio-gateway-bundle.tar.gz" PREBUILT_BUNDLE_SHA256=abc123
if [ "$rc" != 0 ] && nothing_in "$out" && logged '64 hex digits'; then
  ok "malformed checksum: refused"
else not_ok "malformed checksum: refused (rc=$rc)"; fi

run "not found" BUILD_DIR="$out" PREBUILT_BUNDLE_URL="$base/missing.tar.gz" PREBUILT_BUNDLE_SHA256="$good_sha"
if [ "$rc" != 0 ] && nothing_in "$out" && logged 'download failed'; then
  ok "404: refused, nothing extracted"
else not_ok "404: refused (rc=$rc)"; fi

run "too large" BUILD_DIR="$out" PREBUILT_BUNDLE_URL="$base/attio-gateway-bundle.tar.gz" PREBUILT_BUNDLE_SHA256="$good_sha" \
  PREBUILT_BUNDLE_MAX_BYTES=$((good_size - 1))
if [ "$rc" != 0 ] && nothing_in "$out"; then
  ok "download over PREBUILT_BUNDLE_MAX_BYTES: refused"
else not_ok "download over PREBUILT_BUNDLE_MAX_BYTES: refused (rc=$rc)"; fi

run "unexpected entry" BUILD_DIR="$out" PREBUILT_BUNDLE_URL="$base/extra.tar.gz" PREBUILT_BUNDLE_SHA256="$extra_sha"
if [ "$rc" != 0 ] && nothing_in "$out" && logged 'unexpected entry'; then
  ok "archive with an extra file (right checksum): refused, nothing extracted"
else not_ok "archive with an extra file: refused (rc=$rc)"; fi

run "not a tarball" BUILD_DIR="$out" PREBUILT_BUNDLE_URL="$base/notatar.tar.gz" PREBUILT_BUNDLE_SHA256="$notatar_sha"
if [ "$rc" != 0 ] && nothing_in "$out"; then ok "not a tarball: refused"; else not_ok "not a tarball: refused (rc=$rc)"; fi

run "not http" BUILD_DIR="$out" PREBUILT_BUNDLE_URL="file://$www/attio-gateway-bundle.tar.gz" PREBUILT_BUNDLE_SHA256="$good_sha"
if [ "$rc" != 0 ] && nothing_in "$out"; then ok "non-http(s) URL: refused"; else not_ok "non-http(s) URL: refused (rc=$rc)"; fi

out=$tmp/out6
run "no URL" BUILD_DIR="$out" CLOUDFLARE_BUILD_DRY_RUN=1 PREBUILT_BUNDLE_SHA256="$good_sha"
if [ "$rc" = 0 ] && [ "$(cat "$tmp/log")" = "cloudflare-build: from source" ] && nothing_in "$out" && [ ! -e "$layout/build" ]; then
  ok "no PREBUILT_BUNDLE_URL: falls back to the from-source path (dry run)"
else not_ok "no PREBUILT_BUNDLE_URL: falls back to from source (rc=$rc)"; fi

run "empty URL" BUILD_DIR="$out" CLOUDFLARE_BUILD_DRY_RUN=1 PREBUILT_BUNDLE_URL=
if [ "$rc" = 0 ] && [ "$(cat "$tmp/log")" = "cloudflare-build: from source" ]; then
  ok "empty PREBUILT_BUNDLE_URL: from source (dry run)"
else not_ok "empty PREBUILT_BUNDLE_URL: from source (rc=$rc)"; fi

# With curl hidden, the wget branch takes over (when wget is installed).
if command -v wget >/dev/null 2>&1 && command -v curl >/dev/null 2>&1; then
  nocurl=$tmp/nocurl
  mkdir -p "$nocurl"
  for tool in sh env awk tr cut wc sha256sum tar gzip mktemp mkdir rm cp cat dirname wget; do
    ln -s "$(command -v "$tool")" "$nocurl/$tool"
  done
  out=$tmp/out7
  run "wget" PATH="$nocurl" BUILD_DIR="$out" PREBUILT_BUNDLE_URL="$base/attio-gateway-bundle.tar.gz" PREBUILT_BUNDLE_SHA256="$good_sha"
  if [ "$rc" = 0 ] && cmp -s "$out/index.js" "$tmp/src/index.js"; then ok "wget instead of curl: unpacked"; else not_ok "wget instead of curl (rc=$rc)"; fi
  out=$tmp/out8
  run "wget, wrong checksum" PATH="$nocurl" BUILD_DIR="$out" PREBUILT_BUNDLE_URL="$base/attio-gateway-bundle.tar.gz" PREBUILT_BUNDLE_SHA256="$wrong_sha"
  if [ "$rc" != 0 ] && nothing_in "$out"; then ok "wget, wrong checksum: refused"; else not_ok "wget, wrong checksum: refused (rc=$rc)"; fi
fi

printf '%s passed, %s failed\n' "$passed" "$failed"
[ "$failed" = 0 ]
