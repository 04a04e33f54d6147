#!/usr/bin/env bash
# alloc.sh: the memory allocator question of issue #20 item 6. Runs the real ledger writer
# (bench/ledger_bench, 64 submitters, record_external_event, SQLite synchronous=FULL and NORMAL)
# under glibc's malloc, jemalloc and mimalloc (Debian's libjemalloc2 and libmimalloc2.0, loaded
# with LD_PRELOAD so that the binary is the same), the three interleaved in every repeat so that
# the shared machine's noise falls on all of them alike. Reports medians of commands/s and of
# the process CPU per command, and each allocator's ratio to glibc measured in the same run.
# Prints a markdown section on stdout. An allocator is adopted only if it wins here.
#
#   bench/alloc/alloc.sh BUILD_DIR       e.g. bench/alloc/alloc.sh build/release
# Environment: BENCH_ALLOC_REPEATS (5), BENCH_ALLOC_SECONDS (3).
set -euo pipefail

die() { echo "alloc.sh: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: bench/alloc/alloc.sh BUILD_DIR"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$1" && pwd) || die "no build directory $1"
BENCH=$BUILD/bench/ledger_bench
[[ -x "$BENCH" ]] || die "$BENCH is missing (build the ledger_bench target)"
REPEATS=${BENCH_ALLOC_REPEATS:-5}
SECONDS_EACH=${BENCH_ALLOC_SECONDS:-3}
LIBDIR=/usr/lib/x86_64-linux-gnu
JEMALLOC=$LIBDIR/libjemalloc.so.2
MIMALLOC=$LIBDIR/libmimalloc.so.2
[[ -f "$JEMALLOC" ]] || die "$JEMALLOC is missing (scripts/install-deps installs libjemalloc2)"
[[ -f "$MIMALLOC" ]] || die "$MIMALLOC is missing (scripts/install-deps installs libmimalloc2.0)"

WORK=$(mktemp -d /tmp/opsbox-alloc.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
RESULTS=$WORK/results.jsonl

for ((r = 1; r <= REPEATS; r++)); do
  for sync in FULL NORMAL; do
    for alloc in glibc jemalloc mimalloc; do
      preload=""
      [[ $alloc == jemalloc ]] && preload=$JEMALLOC
      [[ $alloc == mimalloc ]] && preload=$MIMALLOC
      echo "== allocator $alloc, SQLite $sync, repeat $r/$REPEATS" >&2
      rm -rf "$WORK/db" && mkdir -p "$WORK/db"
      LD_PRELOAD=$preload "$BENCH" --backend sqlite --dir "$WORK/db" --sync "$sync" \
        --submitters 64 --seconds "$SECONDS_EACH" --raw-seconds 0.5 |
        python3 -c '
import json, sys
for line in sys.stdin:
    if line.startswith("{"):
        d = json.loads(line)
        if d.get("bench") == "ledger_writer":
            d["alloc"] = sys.argv[1]
            print(json.dumps(d))
' "$alloc" >>"$RESULTS"
    done
  done
done

python3 - "$RESULTS" "$REPEATS" "$SECONDS_EACH" <<'PY'
import datetime, json, os, platform, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
repeats, seconds = sys.argv[2], sys.argv[3]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
            if l.startswith("model name")), platform.machine())
def med(sync, alloc, key):
    v = [r[key] for r in rows if r["sync"] == sync and r["alloc"] == alloc]
    return statistics.median(v) if v else float("nan")
print("### Memory allocator: glibc vs jemalloc vs mimalloc (issue #20 item 6)\n")
print(f"{datetime.date.today().isoformat()}, {cpu}, {os.cpu_count()} cores (shared; load average "
      f"{os.getloadavg()[0]:.1f} at the end); `bench/alloc/alloc.sh build/release`. The ledger "
      f"writer (`bench/ledger_bench --backend sqlite --submitters 64 --seconds {seconds}`), the "
      "same binary with jemalloc 5.3 or mimalloc 2.0.9 preloaded, the three interleaved in each of "
      f"{repeats} repeats; medians. CPU per command is the whole process (submitters included).\n")
print("| SQLite sync | allocator | commands/s | vs glibc | CPU us/command | vs glibc | writer CPU us/command |")
print("| --- | --- | --- | --- | --- | --- | --- |")
verdict = {}
for sync in ("FULL", "NORMAL"):
    base_rate = med(sync, "glibc", "commands_per_s")
    base_cpu = med(sync, "glibc", "cpu_us_per_command")
    for alloc in ("glibc", "jemalloc", "mimalloc"):
        rate = med(sync, alloc, "commands_per_s")
        cpu_us = med(sync, alloc, "cpu_us_per_command")
        wcpu = med(sync, alloc, "writer_cpu_us_per_command")
        print(f"| {sync} | {alloc} | {rate:,.0f} | {rate / base_rate:.2f}x | {cpu_us:.0f} "
              f"| {cpu_us / base_cpu:.2f}x | {wcpu:.0f} |")
        if alloc != "glibc":
            verdict.setdefault(alloc, []).append(rate / base_rate)
print()
wins = [a for a, v in verdict.items() if min(v) >= 1.05]
if wins:
    print(f"Faster than glibc by at least 5% on both settings in this run: {', '.join(wins)}.")
else:
    print("No allocator beat glibc by 5% or more on both settings in this run, so opsbox keeps "
          "glibc's malloc (issue #20 item 6: adopt one only if it wins in the same run).")
print()
PY
