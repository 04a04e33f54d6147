#!/usr/bin/env bash
# kpis.sh: the KPI figures of issue #13, each beside a reference measured in the same run, on
# SQLite and a throwaway PostgreSQL: (1) the KPI read (kpis::Run) over BENCH_KPIS_EVENTS routing
# events beside the same figures by SQL over the raw events (target: <= 100 ms); (2) the ledger
# writer's commands/s appending routing events with and without the KPI aggregator (target: the
# aggregator costs <= 5%). Prints a markdown section on stdout.
#
#   bench/kpis/kpis.sh BUILD_DIR       e.g. bench/kpis/kpis.sh build/release
# Environment: BENCH_KPIS_EVENTS (10000000), BENCH_KPIS_REPEATS (5), BENCH_KPIS_WRITER_REPEATS
# (5), BENCH_KPIS_WRITER_SECONDS (3), BENCH_KPIS_PG (1; 0 skips PostgreSQL).
set -euo pipefail

die() { echo "kpis.sh: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: bench/kpis/kpis.sh BUILD_DIR"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$1" && pwd) || die "no build directory $1"
BENCH=$BUILD/bench/kpis_bench
[[ -x "$BENCH" ]] || die "$BENCH is missing (build the kpis_bench target)"
EVENTS=${BENCH_KPIS_EVENTS:-10000000}
REPEATS=${BENCH_KPIS_REPEATS:-5}
WREPEATS=${BENCH_KPIS_WRITER_REPEATS:-5}
WSECONDS=${BENCH_KPIS_WRITER_SECONDS:-3}
WITH_PG=${BENCH_KPIS_PG:-1}

WORK=$(mktemp -d /tmp/opsbox-kpisbench.XXXXXX)
chmod 711 "$WORK"
cleanup() {
  if [[ "$WITH_PG" == 1 ]]; then "$ROOT/scripts/pg-tmp" stop "$WORK/pg" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
OUT=$WORK/out.jsonl
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

echo "== kpis: query over $EVENTS events, SQLite" >&2
"$BENCH" --mode query --backend sqlite --dir "$WORK" --events "$EVENTS" --repeats "$REPEATS" >>"$OUT"
rm -f "$WORK"/kpis-query.db*
echo "== kpis: writer with and without the aggregator, SQLite" >&2
"$BENCH" --mode writer --backend sqlite --dir "$WORK" --seconds "$WSECONDS" --repeats "$WREPEATS" >>"$OUT"
rm -f "$WORK"/kpis-writer*
if [[ "$WITH_PG" == 1 ]]; then
  PG_URL=$("$ROOT/scripts/pg-tmp" start "$WORK/pg")
  echo "== kpis: query over $EVENTS events, PostgreSQL" >&2
  "$BENCH" --mode query --backend postgres --pg-url "$PG_URL" --events "$EVENTS" --repeats "$REPEATS" >>"$OUT"
  echo "== kpis: writer with and without the aggregator, PostgreSQL" >&2
  "$BENCH" --mode writer --backend postgres --pg-url "$PG_URL" --seconds "$WSECONDS" --repeats "$WREPEATS" >>"$OUT"
fi

python3 - "$OUT" "bench/kpis/kpis.sh build/release (BENCH_KPIS_EVENTS=$EVENTS)" "$LOAD_BEFORE" <<'PY'
import datetime, json, platform, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
cmd, load = sys.argv[2], sys.argv[3]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
            if l.startswith("model name")), platform.machine())
print("### KPIs: reads over the aggregates and the aggregator's cost to the writer (issue #13)\n")
print(f"{datetime.date.today().isoformat()}, {cpu}, {len(open('/proc/cpuinfo').read().split('processor')) - 1} cores; "
      f"load average before the run {load}. Command: `{cmd}`.\n")
data = {r["backend"]: r for r in rows if r["figure"] == "query_data"}
for b, d in data.items():
    print(f"- {b}: {d['events']:,} routing events ({d['contacts']:,} contacts over one year; 10 queues, "
          f"3 channels, 20 intents, 2 languages, 200 agents) → {d['aggregate_rows']:,} rows of "
          f"kpi_intervals; loading took {d['load_s']:.0f} s.")
print("\n| backend | query | groups | KPI read (median) | SQL over raw events (median) | ratio | target ≤ 100 ms |")
print("|---|---|---:|---:|---:|---:|---|")
for r in rows:
    if r["figure"] != "query":
        continue
    ratio = r["raw_sql_ms_median"] / r["kpi_ms_median"] if r["kpi_ms_median"] else 0
    ok = "met" if r["kpi_ms_median"] <= 100 else "missed"
    print(f"| {r['backend']} | {r['case']} | {r['groups']} | {r['kpi_ms_median']:.1f} ms | "
          f"{r['raw_sql_ms_median']:.1f} ms | {ratio:,.0f}× | {ok} |")
print("\n| backend | writer without aggregator (median cmd/s) | with aggregator | cost | target ≤ 5% | runs (without / with) |")
print("|---|---:|---:|---:|---|---|")
for r in rows:
    if r["figure"] != "writer":
        continue
    cost = 1 - r["with_median"] / r["without_median"]
    ok = "met" if cost <= 0.05 else "missed"
    runs = ", ".join(f"{x:,.0f}" for x in r["without_per_s"]) + " / " + ", ".join(f"{x:,.0f}" for x in r["with_per_s"])
    print(f"| {r['backend']} | {r['without_median']:,.0f} | {r['with_median']:,.0f} | {cost * 100:+.1f}% | {ok} | {runs} |")
print("\nThe KPI read sums the aggregates the aggregator keeps (kpi_qc_days for whole UTC days by queue "
      "and channel, quarter hours at the ragged ends; kpi_intervals for intent, language and agent); its "
      "cost depends on the groups and the range, not on the number of events. The raw reference "
      "reads one row per event (each carrying its own measure, so it needs no join).\n")
PY
