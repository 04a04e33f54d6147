#!/usr/bin/env bash
# cluster.sh: two opsbox nodes on one PostgreSQL against one node, and the failover time
# (issue #20 item 7; target: two nodes >= 1.6x one node's commands/s on 8 tenants, no
# conflicting batches in steady state; a dead node's shards served by the survivor within 5 s).
# Starts a throwaway PostgreSQL (scripts/pg-tmp); bench/cluster/cluster_bench.py does the runs;
# this prints a markdown section for docs/benchmarks.md.
#
#   bench/cluster/cluster.sh BUILD_DIR      e.g. bench/cluster/cluster.sh build/release
# Environment: BENCH_CLUSTER_SECONDS (10), BENCH_CLUSTER_REPEATS (3), BENCH_CLUSTER_FAILOVERS (3),
# BENCH_CLUSTER_CONNECTIONS (8 per tenant), BENCH_CLUSTER_JSONL (keep the raw JSON lines).
set -euo pipefail

die() { echo "cluster.sh: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: bench/cluster/cluster.sh BUILD_DIR"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$1" && pwd) || die "no build directory $1"
OPSBOX=$BUILD/src/app/opsbox
[[ -x "$OPSBOX" ]] || die "$OPSBOX is missing (build the opsbox target)"
command -v wrk >/dev/null || die "wrk is missing (run: scripts/install-deps)"
readonly kTargetRatio=1.6
readonly kTargetFailoverS=5

WORK=$(mktemp -d /tmp/opsbox-clusterbench.XXXXXX)
chmod 711 "$WORK"
cleanup() {
  "$ROOT/scripts/pg-tmp" stop "$WORK/pg" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
PG_URL=$("$ROOT/scripts/pg-tmp" start "$WORK/pg")
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
ARGS=(--seconds "${BENCH_CLUSTER_SECONDS:-10}" --repeats "${BENCH_CLUSTER_REPEATS:-3}"
      --failovers "${BENCH_CLUSTER_FAILOVERS:-3}" --connections "${BENCH_CLUSTER_CONNECTIONS:-8}")
echo "== cluster: one node vs two nodes on one PostgreSQL, failover" >&2
python3 "$ROOT/bench/cluster/cluster_bench.py" --opsbox "$OPSBOX" --pg-url "$PG_URL" \
  --wrk-lua "$ROOT/bench/http_bench.lua" "${ARGS[@]}" >"$WORK/out.jsonl"
if [[ -n "${BENCH_CLUSTER_JSONL:-}" ]]; then cp "$WORK/out.jsonl" "$BENCH_CLUSTER_JSONL"; fi
cat "$WORK/out.jsonl" >&2

CMD="bench/cluster/cluster.sh ${BUILD#$ROOT/} (cluster_bench.py ${ARGS[*]})"
python3 - "$WORK/out.jsonl" "$kTargetRatio" "$kTargetFailoverS" "$CMD" "$LOADAVG" <<'PY'
import datetime, json, platform, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
s = next(r for r in rows if r["figure"] == "summary")
ratio_target, failover_target, cmd, loadavg = float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
            if l.startswith("model name")), platform.machine())
ncpu = sum(1 for l in open("/proc/cpuinfo") if l.startswith("processor"))
def met(ok):
    return "**met**" if ok else "**missed**"
print("### Two nodes on one PostgreSQL (issue #20 item 7)\n")
print(f"{datetime.date.today().isoformat()}, {cpu} x {ncpu}, load average {loadavg} at the start "
      f"(PostgreSQL, both nodes and the wrk clients share the machine); `{cmd}`. "
      f"{s['tenants']} tenants, database.writer_shards = {s['shards']}, one wrk process per "
      f"tenant with {s['connections_per_tenant']} connections posting external events for "
      f"{s['seconds']} s, {s['repeats']} repeats, medians. One node: clustering off. Two nodes: "
      "clustered, shards split between them; tenant-blind = half the tenants' traffic sent to "
      "each node whatever node writes them (about half forwarded), tenant-aware = each "
      "tenant's traffic sent to its shard's writer. Failover: the time from SIGKILL of one node "
      "to the first 2xx answer from the survivor for a tenant the dead node wrote "
      f"(rebalance interval {s['rebalance_ms']} ms).\n")
print("| figure | value | reference (same run) | target | result |")
print("| --- | --- | --- | --- | --- |")
one = s["one_node_median"]
for f, label in (("two_nodes", "two nodes, tenant-blind"), ("two_nodes_aware", "two nodes, tenant-aware")):
    r = s[f + "_ratio_median"]
    print(f"| {label}: commands/s | {s[f + '_median']:,.0f} ({r:.2f}x one node; "
          f"{s[f + '_batches_failed']:.0f} batches rolled back, {s[f + '_errors']} non-2xx/errors) "
          f"| one node: {one:,.0f} commands/s ({s['one_node_batches_failed']:.0f} batches rolled back) "
          f"| >= {ratio_target}x, 0 conflicting batches "
          f"| {met(r >= ratio_target and s[f + '_batches_failed'] == 0)} |")
fo = s["failover_median_s"]
print(f"| failover: SIGKILL to the survivor's first answer for the dead node's tenant | median "
      f"{fo:.2f} s (runs: {', '.join('%.2f' % t for t in s['failover_s'])}) | rebalance interval "
      f"{s['rebalance_ms'] / 1000:g} s | <= {failover_target:g} s | {met(fo <= failover_target)} |")
print()
PY
