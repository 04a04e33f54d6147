#!/usr/bin/env bash
# erlang.sh: the Erlang C staffing benchmark (issue #5: 96 intervals x 100 queues in at most
# 20 ms), beside a reference measured in the same run on the same inputs: a straightforward
# Python implementation (Debian python3, no libraries) of the same method, the Erlang B
# recursion B(k) = a B(k-1) / (k + a B(k-1)), Erlang C from B, and a walk up from floor(a) + 1
# to the first count with 80% answered within 20 s. Both must find the same total of agents.
# Also printed, without a peer: the same staffing under Erlang A (mean patience 120 s).
# Prints a markdown section on stdout.
#
#   bench/wfm/erlang.sh BUILD_DIR       e.g. bench/wfm/erlang.sh build/release
# Environment: BENCH_ERLANG_REPEATS (15, C++), BENCH_ERLANG_PY_REPEATS (3, Python).
set -euo pipefail

die() { echo "erlang.sh: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: bench/wfm/erlang.sh BUILD_DIR"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$1" && pwd) || die "no build directory $1"
BENCH=${BENCH_ERLANG_BIN:-$BUILD/bench/wfm_erlang_bench}
[[ -x "$BENCH" ]] || die "$BENCH is missing (build the wfm_erlang_bench target)"
PY=/usr/bin/python3
[[ -x "$PY" ]] || die "Debian python3 is missing"

REPEATS=${BENCH_ERLANG_REPEATS:-15}
PY_REPEATS=${BENCH_ERLANG_PY_REPEATS:-3}
readonly kTargetS=0.020

WORK=$(mktemp -d /tmp/opsbox-erlangbench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

cat >"$WORK/ref.py" <<'PY'
import csv, json, math, sys, time

def staff(volume, interval_s, aht_s, level=0.8, target_s=20.0):
    a = volume / interval_s * aht_s
    if a == 0:
        return 0
    b = 1.0
    n = math.floor(a) + 1
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    while True:
        c = n * b / (n - a * (1 - b))
        if 1 - c * math.exp(-(n - a) * target_s / aht_s) >= level:
            return n
        n += 1
        b = a * b / (n + a * b)

rows = [(float(r["volume"]), float(r["interval_s"]), float(r["aht_s"]))
        for r in csv.DictReader(open(sys.argv[1]))]
repeats = int(sys.argv[2])
seconds, total = [], None
for _ in range(repeats):
    t0 = time.perf_counter()
    agents = sum(staff(*row) for row in rows)
    seconds.append(time.perf_counter() - t0)
    total = agents
seconds.sort()
print(json.dumps({"problems": len(rows), "seconds_median": seconds[len(seconds) // 2],
                  "agents_total": total, "python": sys.version.split()[0]}))
PY

echo "== wfm erlang: C++ (median of $REPEATS)" >&2
"$BENCH" --repeats "$REPEATS" --inputs-out "$WORK/inputs.csv" >"$WORK/cpp.jsonl"
echo "== wfm erlang: Python reference (median of $PY_REPEATS)" >&2
"$PY" "$WORK/ref.py" "$WORK/inputs.csv" "$PY_REPEATS" >"$WORK/py.json"

"$PY" - "$WORK/cpp.jsonl" "$WORK/py.json" "$kTargetS" "$BUILD" "$ROOT" <<'PY'
import datetime, json, platform, sys
cpp = {}
for line in open(sys.argv[1]):
    if line.startswith("{"):
        d = json.loads(line); cpp[d["scenario"]] = d
py = json.load(open(sys.argv[2]))
target_s, build, root = float(sys.argv[3]), sys.argv[4], sys.argv[5]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
            if l.startswith("model name")), platform.machine())
c, a = cpp["erlang_c"], cpp["erlang_a"]
agree = "same" if py["agents_total"] == c["agents_total"] else "**DIFFERENT**"
cmd = f"{build.replace(root + '/', '')}/bench/wfm_erlang_bench --repeats {c['repeats']}"
print("### WFM: Erlang staffing (issue #5)\n")
print(f"{datetime.date.today().isoformat()}, {cpu}, one core; `bench/wfm/erlang.sh`. "
      f"{c['queues']} queues x {c['intervals']} 15-minute intervals ({c['problems']:,} "
      "staffings), peak 20..2000 calls per interval on a two-peak day, AHT 180..600 s, target "
      "80% within 20 s; fewest agents per interval (wfm::StaffIntervals). C++: median of "
      f"{c['repeats']} runs (fastest {c['seconds_min'] * 1e3:.2f} ms). Reference: the same "
      f"staffings in Python {py['python']} (Debian python3, the same Erlang B recursion and "
      f"walk), median of its runs, on the same inputs: {agree} total of agents "
      f"({c['agents_total']:,} C++, {py['agents_total']:,} Python).\n")
print("| figure | value | reference | ratio | target | result | command |")
print("| --- | --- | --- | --- | --- | --- | --- |")
ok = "**met**" if c["seconds_median"] <= target_s else "**missed**"
print(f"| Erlang C staffing, {c['problems']:,} intervals | {c['seconds_median'] * 1e3:.2f} ms "
      f"| Python: {py['seconds_median'] * 1e3:.0f} ms "
      f"| {py['seconds_median'] / c['seconds_median']:.0f}x faster | <= {target_s * 1e3:g} ms "
      f"| {ok} | `{cmd}` |")
print(f"| Erlang A staffing (exact chain, patience {a['patience_s']:g} s), same intervals "
      f"| {a['seconds_median'] * 1e3:.1f} ms | no reference run | - "
      f"| none | - | `{cmd}` |")
print()
PY
