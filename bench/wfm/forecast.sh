#!/usr/bin/env bash
# forecast.sh: the forecasting benchmark of issue #5 beside its reference, printed as a markdown
# section for docs/benchmarks.md (scripts/bench appends it).
#
#   bench/wfm/forecast.sh BUILD_DIR        e.g. bench/wfm/forecast.sh build/release
#
# 1. 100 queues x 8 weeks of 15-minute history made from the real bank series (scaled, shifted,
#    noise from seed 42): opsbox forecasts every queue (auto: 6 candidates fitted on 7 weeks and
#    scored on week 8, then 7 days ahead), and R's forecast package works on the SAME series
#    (written to a CSV by the bench): HoltWinters, stlf and snaive, time and holdout WAPE/MASE.
# 2. The bank series itself (1 queue, 2003-03-03..2003-10-24), 1-week holdout: every opsbox
#    method at 15/30/60 minutes, without and with the bank's six closed weekdays as special days,
#    and R on the same 15-minute series.
# Environment: BENCH_FORECAST_REPEATS (5), BENCH_CALLCENTER_DATA (../shared/data/callcenter).
# Needs Rscript with r-cran-forecast for the reference (rows say "missing" without it).
set -euo pipefail

die() { echo "forecast.sh: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: bench/wfm/forecast.sh BUILD_DIR"
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "$1" && pwd) || die "no build directory $1"
BENCH=$(find "$BUILD/bench" -name wfm_forecast_bench -type f -perm -u+x 2>/dev/null | head -1)
[[ -n "$BENCH" ]] || die "wfm_forecast_bench is missing under $BUILD/bench"
DATA_DIR=${BENCH_CALLCENTER_DATA:-$ROOT/../shared/data/callcenter}
DATA=$DATA_DIR/na_bank_2003_5min_calls.csv
[[ -f "$DATA" ]] || die "no bank data at $DATA"
REPEATS=${BENCH_FORECAST_REPEATS:-5}
PYTHON=$(command -v python3 || true)
[[ -n "$PYTHON" ]] || die "python3 is needed to render the table"

WORK=$(mktemp -d /tmp/opsbox-forecast-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

QUEUES_CMD="wfm_forecast_bench --data na_bank_2003_5min_calls.csv --repeats $REPEATS"
"$BENCH" --data "$DATA" --repeats "$REPEATS" --write-series "$WORK/queues.csv" > "$WORK/ours.jsonl"
"$BENCH" --data "$DATA" --bank --holidays "$HERE/na_bank_2003_holidays.csv" \
  --write-series "$WORK/bank15.csv" > "$WORK/bank.jsonl"
: > "$WORK/r.jsonl"
: > "$WORK/r_bank.jsonl"
if command -v Rscript >/dev/null && Rscript -e 'library(forecast)' >/dev/null 2>&1; then
  Rscript "$HERE/forecast_reference.R" "$WORK/queues.csv" 672 672 > "$WORK/r.jsonl"
  Rscript "$HERE/forecast_reference.R" "$WORK/bank15.csv" 672 672 > "$WORK/r_bank.jsonl"
fi

"$PYTHON" - "$WORK" "$QUEUES_CMD" <<'PY'
import json, os, platform, sys, datetime
work, queues_cmd = sys.argv[1], sys.argv[2]
def load(name):
    with open(os.path.join(work, name)) as f:
        return [json.loads(l) for l in f if l.strip()]
ours = {r["config"]: r for r in load("ours.jsonl")}
ref = {r["config"]: r for r in load("r.jsonl")}
bank = load("bank.jsonl")
ref_bank = {r["config"]: r for r in load("r_bank.jsonl")}
cpu = "unknown"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip(); break
except OSError:
    pass
load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
print("## Forecasting (issue #5)\n")
print(f"Machine: {cpu}, {os.cpu_count()} cores, load average {load_avg:.1f} at start; "
      f"{datetime.date.today().isoformat()}. R {next(iter(ref.values()), {}).get('r', 'missing')}, "
      f"forecast {next(iter(ref.values()), {}).get('forecast', 'missing')}.\n")
print("100 queues x 8 weeks of 15-minute history (5,376 intervals each) made from the bank series; "
      "every queue fitted on 7 weeks, scored on week 8 (WAPE, MASE with weekly seasonal-naive "
      "scaling, mean over queues), then forecast 7 days ahead. opsbox time is the median of the "
      "repeats, wall clock (process CPU in brackets, which other jobs on the machine inflate less); "
      "R time is fit + forecast for the same queues, one run.\n")
print("| figure | value | reference | reference value | ratio | target | met/missed | command |")
print("| --- | ---: | --- | ---: | ---: | --- | --- | --- |")
def t(r): return r["seconds_median"] if r else float("nan")
def row(fig, ours_cfg, ref_cfg, target=None):
    o = ours.get(ours_cfg); r = ref.get(ref_cfg)
    ov = f'{o["seconds_median"]:.3f} s ({o["cpu_seconds_median"]:.3f} s CPU)' if o else "missing"
    rv = f'{r["seconds"]:.2f} s' if r else "missing"
    ratio = f'{r["seconds"] / o["seconds_median"]:.0f}x faster' if o and r and o["seconds_median"] > 0 else "-"
    met = "-"
    if target is not None and o:
        met = "met" if o["seconds_median"] <= target else (
            "met (CPU)" if o["cpu_seconds_median"] <= target else "missed")
    print(f"| {fig} | {ov} | R {ref_cfg} | {rv} | {ratio} | {'<= %g s' % target if target else '-'} | {met} | `{queues_cmd}` |")
row("forecast 100 queues, auto (6 candidates + final)", "auto", "stlf", 1.0)
row("forecast 100 queues, Holt-Winters additive weekly", "holt-winters-add/week", "hw")
row("forecast 100 queues, seasonal naive weekly", "seasonal-naive/week", "snaive")
print()
print("Holdout accuracy on the same 100 queues (mean over queues):\n")
print("| tool | method | WAPE | MASE |")
print("| --- | --- | ---: | ---: |")
cands = ours.get("auto", {}).get("candidates", {})
for name in ["chosen", "seasonal-naive/week", "holt-winters-add/week", "holt-winters-mul/week",
             "seasonal-naive/day", "holt-winters-add/day", "holt-winters-mul/day"]:
    c = cands.get(name)
    if c:
        label = "auto (candidate chosen on this holdout, optimistic)" if name == "chosen" else name
        print(f"| opsbox | {label} | {c['wape']:.4f} | {c['mase']:.4f} |")
for rname, r in ref.items():
    label = {"hw": "HoltWinters (additive)", "stlf": "stlf (STL + ETS)", "snaive": "snaive"}.get(rname, rname)
    print(f"| R forecast | {label} | {r['wape']:.4f} | {r['mase']:.4f} |")
a = ours.get("auto")
if a:
    print(f"\nauto chose: {', '.join(f'{k} {v}' for k, v in sorted(a['chosen'].items()))}.\n")
print("The bank's own series (2003-03-03..2003-10-24, weekdays 07:00-21:05, nights and weekends 0), "
      "last week (2003-10-18..24) held out; \"+holidays\" lists the six closed weekdays as special "
      "days (bench/wfm/na_bank_2003_holidays.csv), which replaces them in the history by the week "
      "before:\n")
print("| series | method | WAPE | MASE | chosen by auto |")
print("| --- | --- | ---: | ---: | --- |")
for b in bank:
    chosen = next(iter(b["chosen"]))
    for name, c in sorted(b["candidates"].items()):
        if name == "chosen":
            continue
        print(f"| {b['config']} | opsbox {name} | {c['wape']:.4f} | {c['mase']:.4f} | {'yes' if name == chosen else ''} |")
    if b["config"] == "bank/15min":
        for rname, r in ref_bank.items():
            print(f"| bank/15min | R {rname} | {r['wape']:.4f} | {r['mase']:.4f} | |")
print()
PY
