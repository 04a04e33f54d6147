#!/usr/bin/env bash
# engine.sh: the routing engine benchmark (issue #4: 10,000 workers, 500 queues, 100,000 waiting
# tasks; at least 200,000 decisions/s and p99 at most 50 us per decision on one core), beside
# two references measured in the same run: the same decision by naive scan of the workers
# (target expression re-evaluated per worker, longest idle kept), and one unordered_map<string>
# look-up of a task id. Prints a markdown section on stdout.
#
#   bench/routing/engine.sh BUILD_DIR       e.g. bench/routing/engine.sh build/release
# Environment: BENCH_ROUTING_DECISIONS (200000), BENCH_ROUTING_SEED (1).
set -euo pipefail

die() { echo "engine.sh: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: bench/routing/engine.sh BUILD_DIR"
BUILD=$(cd "$1" && pwd) || die "no build directory $1"
BENCH=${BENCH_ROUTING_BIN:-$BUILD/bench/routing_engine_bench}
[[ -x "$BENCH" ]] || die "$BENCH is missing (build the routing_engine_bench target)"
DECISIONS=${BENCH_ROUTING_DECISIONS:-200000}
SEED=${BENCH_ROUTING_SEED:-1}
readonly kTargetPerS=200000 kTargetP99Us=50

WORK=$(mktemp -d /tmp/opsbox-routingbench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

echo "== routing engine: $DECISIONS decisions, seed $SEED" >&2
"$BENCH" --decisions "$DECISIONS" --seed "$SEED" >"$WORK/out.jsonl"

python3 - "$WORK/out.jsonl" "$kTargetPerS" "$kTargetP99Us" \
  "bench/routing_engine_bench --decisions $DECISIONS --seed $SEED" <<'PY'
import datetime, json, platform, sys
rows = {d["figure"]: d for d in (json.loads(l) for l in open(sys.argv[1]) if l.startswith("{"))}
target_per_s, target_p99, cmd = float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
            if l.startswith("model name")), platform.machine())
e, naive, look = rows["engine"], rows["naive_scan"], rows["hash_lookup"]
print("### Routing engine decisions (issue #4)\n")
print(f"{datetime.date.today().isoformat()}, {cpu}, one core; `bench/routing/engine.sh BUILD_DIR`. "
      f"{e['workers']:,} workers (5 of 50 skills, 2 of 10 languages, voice 1 + chat 3), "
      f"{e['queues']} queues (skill x language target expressions; longest idle, most skilled, "
      f"round robin), {e['waiting_at_start']:,} waiting tasks held steady (each completion brings "
      "a new task of its channel). A decision is one Dispatch call that makes one offer; the "
      "full cycle adds complete, wrap-up, the new task and accept. References in the same run: "
      "the same decision by naive scan of every worker, and one hash-map look-up of a task id.\n")
print("| figure | value | reference | target | result | command |")
print("| --- | --- | --- | --- | --- | --- |")
ok_rate = "**met**" if e["decisions_per_s"] >= target_per_s else "**missed**"
ok_p99 = "**met**" if e["p99_us"] <= target_p99 else "**missed**"
print(f"| decisions per second | {e['decisions_per_s']:,.0f} ({e['decisions']:,} decisions) "
      f"| naive scan: {naive['decisions_per_s']:,.0f}/s | >= {target_per_s:,.0f} | {ok_rate} | `{cmd}` |")
print(f"| decision latency p50 / p99 / p99.9 | {e['p50_us']:.1f} / {e['p99_us']:.1f} / "
      f"{e['p999_us']:.1f} us | naive scan: {naive['decision_us']:,.0f} us; one hash look-up: "
      f"{look['lookup_ns']:.0f} ns | p99 <= {target_p99:g} us | {ok_p99} | `{cmd}` |")
print(f"| full cycles per second | {e['cycles_per_s']:,.0f} | - | - | - | `{cmd}` |")
print()
PY
