#!/usr/bin/env bash
# bundle.sh: the console's download size (issue #10: keep the bundle small and measured). Gzip
# (-9) sizes of the files the server embeds and serves (index.html, app.js, app.css, built by
# Vite into BUILD_DIR/src/api/web), beside a reference measured in the same run: the largest
# single library the console ships, uPlot's own minified build (web/node_modules/uplot/dist),
# gzipped the same way. Prints a markdown section on stdout.
#
#   bench/web/bundle.sh BUILD_DIR       e.g. bench/web/bundle.sh build/release
set -euo pipefail

die() { echo "bundle.sh: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: bench/web/bundle.sh BUILD_DIR"
BUILD=$(cd "$1" && pwd) || die "no build directory $1"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WEB=$BUILD/src/api/web
[[ -f "$WEB/app.js" ]] || die "$WEB/app.js is missing (build the opsbox target)"
REF=$ROOT/web/node_modules/uplot/dist/uPlot.iife.min.js
[[ -f "$REF" ]] || die "$REF is missing (run scripts/install-deps)"

gz() { gzip -9 -c "$1" | wc -c; }
raw() { wc -c <"$1"; }

total_raw=0 total_gz=0
rows=""
for f in index.html app.js app.css; do
  r=$(raw "$WEB/$f"); g=$(gz "$WEB/$f")
  total_raw=$((total_raw + r)); total_gz=$((total_gz + g))
  rows+="| \`$f\` | $r B | $g B |"$'\n'
done
ref_raw=$(raw "$REF"); ref_gz=$(gz "$REF")
ratio=$(python3 -c "print(f'{$total_gz / $ref_gz:.2f}')")

cat <<MD
## Console bundle size

$(date -u +%Y-%m-%d), $(nproc) cores; \`bench/web/bundle.sh $1\`. The console (web/: one page, one
script, one style sheet, embedded in the binary and served as they are) after \`vite build\`,
gzip -9. Reference in the same run: uPlot's own minified build, the largest library the console
ships, gzipped the same way. No target was set; the figure is kept so growth shows.

| file | minified | gzip -9 |
| --- | --- | --- |
${rows}| **console total** | $total_raw B | **$total_gz B** |
| reference: uPlot.iife.min.js | $ref_raw B | $ref_gz B |

The whole console is ${ratio}x the size of one charting library (gzip).
MD
