#!/usr/bin/env bash
# consent.sh: the consent look-up micro-benchmark (issue #3: Governance::ConsentAllows answers
# from memory in microseconds). Median nanoseconds per look-up over 1,000,000 customers x 3
# purposes x 5 channels, beside two references measured in the same run on the same keys: a
# plain std::unordered_map<std::string, bool> and an indexed SQLite point query (first 100,000
# customers). Prints a markdown section on stdout.
#
#   bench/privacy/consent.sh BUILD_DIR      e.g. bench/privacy/consent.sh build/release
# Environment: BENCH_CONSENT_CUSTOMERS (1000000), BENCH_CONSENT_LOOKUPS (1000000).
set -euo pipefail

die() { echo "consent.sh: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: bench/privacy/consent.sh BUILD_DIR"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$1" && pwd) || die "no build directory $1"
BENCH=$BUILD/bench/privacy_consent_bench
[[ -x "$BENCH" ]] || die "$BENCH is missing (build the privacy_consent_bench target)"
CUSTOMERS=${BENCH_CONSENT_CUSTOMERS:-1000000}
LOOKUPS=${BENCH_CONSENT_LOOKUPS:-1000000}

echo "== privacy consent look-ups: $CUSTOMERS customers, $LOOKUPS look-ups" >&2
OUT=$("$BENCH" "$CUSTOMERS" "$LOOKUPS")
OUT=$(python3 -c 'import json,sys,os; d=json.loads(sys.argv[1]); d["load"]="%.1f" % os.getloadavg()[0]; print(json.dumps(d))' "$OUT")
python3 - "$OUT" "$BUILD" "$ROOT" <<'PY'
import datetime, json, platform, sys
d = json.loads(sys.argv[1])
build, root = sys.argv[2], sys.argv[3]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
            if l.startswith("model name")), platform.machine())
cmd = f"{build.replace(root + '/', '')}/bench/privacy_consent_bench {d['customers']} {d['lookups']}"
print("### Privacy: consent look-ups (issue #3)\n")
print(f"{datetime.date.today().isoformat()}, {cpu}, one thread; `bench/privacy/consent.sh`. "
      f"{d['customers']:,} customers x 3 purposes x 5 channels, {d['changes']:,} consent changes "
      "(about a third of the pairs never asked, a quarter of the grants withdrawn a day later); "
      f"random look-ups in batches of 1,000, median of the batches (thread CPU time; load average "
      f"{d['load']} during the run). References in the same run "
      "on the same keys: std::unordered_map<std::string, bool> over \"customer/purpose/channel\" "
      f"and an indexed SQLite point query (in memory, first {d['sqlite_customers']:,} customers). "
      f"Answers agree with the map ({d['index_allowed']:,} allowed of {d['lookups']:,}).\n")
print("| figure | value | reference | ratio | target | result | command |")
print("| --- | --- | --- | --- | --- | --- | --- |")
ok = "**met**" if d["index_median_ns"] < 10000 else "**missed**"
print(f"| ConsentAllows, median per look-up | {d['index_median_ns']:.0f} ns "
      f"| hash map: {d['naive_map_median_ns']:.0f} ns; SQLite: {d['sqlite_median_ns']:.0f} ns "
      f"| {d['sqlite_median_ns'] / d['index_median_ns']:.0f}x faster than SQLite "
      f"| microseconds (< 10 us) | {ok} | `{cmd}` |")
print()
PY
