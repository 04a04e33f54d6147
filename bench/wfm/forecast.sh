#!/usr/bin/env bash
# forecast.sh: the forecasting benchmark of issues #5 and #15 beside its reference, printed as a
# markdown section for docs/benchmarks.md (scripts/bench appends it).
#
#   bench/wfm/forecast.sh BUILD_DIR        e.g. bench/wfm/forecast.sh build/release
#
# 1. 100 queues x 8 weeks of 15-minute history made from the real bank series (scaled, shifted,
#    noise from seed 42): opsbox forecasts week 8 of every queue from weeks 1-7 (auto
#    cross-validates over 4 one-week windows inside them), and R's forecast package works on the
#    SAME series (written to a CSV by the bench): stlf, HoltWinters and snaive, time and WAPE/MASE
#    on week 8, which neither side sees while fitting.
# 2. The bank series itself (1 queue, 2003-03-03..2003-10-24, 15 minutes): each of its last 4
#    weeks forecast from everything before it, opsbox and R, one row per window.
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
"$BENCH" --data "$DATA" --bank --windows 4 --write-series "$WORK/bank15.csv" > "$WORK/bank.jsonl"
: > "$WORK/r.jsonl"
: > "$WORK/r_bank.jsonl"
if command -v Rscript >/dev/null && Rscript -e 'library(forecast)' >/dev/null 2>&1; then
  Rscript "$HERE/forecast_reference.R" "$WORK/queues.csv" 672 672 > "$WORK/r.jsonl"
  Rscript "$HERE/forecast_reference.R" "$WORK/bank15.csv" 672 672 hw,stlf,snaive 4 > "$WORK/r_bank.jsonl"
fi

"$PYTHON" - "$WORK" "$QUEUES_CMD" <<'PY'
import json, os, sys, datetime
work, queues_cmd = sys.argv[1], sys.argv[2]
def load(name):
    with open(os.path.join(work, name)) as f:
        return [json.loads(l) for l in f if l.strip()]
ours = {r["config"]: r for r in load("ours.jsonl")}
ref = {r["config"]: r for r in load("r.jsonl")}
bank = {r["config"]: r for r in load("bank.jsonl")}
ref_bank = {r["config"]: r for r in load("r_bank.jsonl")}
cpu = "unknown"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip(); break
except OSError:
    pass
load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
anyref = next(iter(ref.values()), {})
print("## Forecasting (issues #5, #15)\n")
print(f"Machine: {cpu}, {os.cpu_count()} cores, load average {load_avg:.1f} at start; "
      f"{datetime.date.today().isoformat()}. R {anyref.get('r', 'missing')}, "
      f"forecast {anyref.get('forecast', 'missing')}.\n")
print("100 queues x 8 weeks of 15-minute history (5,376 intervals each) made from the bank series; "
      "every queue's weeks 1-7 are the history, week 8 is forecast and scored (WAPE, MASE with "
      "weekly seasonal-naive scaling, mean over queues) and neither tool sees it while fitting. "
      "opsbox auto cross-validates 7 candidates over 4 one-week windows inside weeks 1-7 (each "
      "refitted per window) and fits the choice again. opsbox time is the median of the repeats, "
      "wall clock (process CPU in brackets, which other jobs on the machine inflate less); R time "
      "is fit + forecast for the same queues, one run, wall clock and process CPU; the CPU ratio "
      "compares CPU with CPU.\n")
print("| figure | value | reference | reference value | ratio | target | met/missed | command |")
print("| --- | ---: | --- | ---: | ---: | --- | --- | --- |")
def row(fig, ours_cfg, ref_cfg, target_ratio=None):
    o = ours.get(ours_cfg); r = ref.get(ref_cfg)
    ov = f'{o["seconds_median"]:.3f} s ({o["cpu_seconds_median"]:.3f} s CPU)' if o else "missing"
    rv = f'{r["seconds"]:.2f} s ({r["cpu_seconds"]:.2f} s CPU)' if r else "missing"
    wall = r["seconds"] / o["seconds_median"] if o and r else None
    cpu_ratio = r["cpu_seconds"] / o["cpu_seconds_median"] if o and r else None
    ratio = f'{wall:.1f}x faster ({cpu_ratio:.1f}x CPU)' if wall else "-"
    met = "-"
    if target_ratio is not None and wall:
        met = "met" if wall >= target_ratio else ("met (CPU)" if cpu_ratio >= target_ratio else "missed")
    tgt = f">= {target_ratio}x faster" if target_ratio else "-"
    print(f"| {fig} | {ov} | R {ref_cfg} | {rv} | {ratio} | {tgt} | {met} | `{queues_cmd}` |")
row("forecast 100 queues, auto (7 candidates x 4 CV windows + final)", "auto", "stlf", 10)
row("forecast 100 queues, MSTL + ETS weekly (4 CV windows + final)", "mstl/week", "stlf")
row("forecast 100 queues, Holt-Winters additive damped weekly", "holt-winters-add/week", "hw")
row("forecast 100 queues, seasonal naive weekly", "seasonal-naive/week", "snaive")
print()
print("Accuracy on week 8 of the same 100 queues (mean over queues); coverage = share of open "
      "intervals whose actual falls inside opsbox's 80% / 95% prediction interval (from the "
      "cross-validation errors):\n")
print("| tool | method | WAPE | MASE | 80% coverage | 95% coverage |")
print("| --- | --- | ---: | ---: | ---: | ---: |")
for name in ["auto", "mstl/week", "mstl/day+week", "holt-winters-add/week", "seasonal-naive/week"]:
    c = ours.get(name)
    if c:
        print(f"| opsbox | {name} | {c['wape']:.4f} | {c['mase']:.4f} | {c['cover80']:.3f} | {c['cover95']:.3f} |")
for rname, r in ref.items():
    label = {"hw": "HoltWinters (additive)", "stlf": "stlf (STL + ETS)", "snaive": "snaive"}.get(rname, rname)
    print(f"| R forecast | {label} | {r['wape']:.4f} | {r['mase']:.4f} | | |")
a = ours.get("auto")
if a:
    print(f"\nauto chose: {', '.join(f'{k} {v}' for k, v in sorted(a['chosen'].items()))}. "
          "Mean cross-validation WAPE per candidate (inside weeks 1-7): "
          f"{', '.join(f'{k} {v:.4f}' for k, v in sorted(a['cv_wape'].items()))}.\n")
print("The bank's own series (2003-03-03..2003-10-24, weekdays 07:00-21:05, nights and weekends 0, "
      "six closed weekdays left as they are for both tools), 15 minutes: window k forecasts the "
      "k-th last week from everything before it (w1 = 2003-10-18..24):\n")
print("| window | opsbox auto | opsbox mstl/week | opsbox holt-winters-add/week | opsbox seasonal-naive/week | R stlf | R HoltWinters | R snaive | auto chose |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
def w(d, k):
    return f"{d[k]['wape']:.4f}" if k in d else "missing"
k = 1
while f"bank/w{k}/auto" in bank:
    p = f"bank/w{k}/"
    chosen = ", ".join(bank[p + "auto"]["chosen"].keys())
    print(f"| w{k} | {w(bank, p + 'auto')} | {w(bank, p + 'mstl/week')} | {w(bank, p + 'holt-winters-add/week')} | "
          f"{w(bank, p + 'seasonal-naive/week')} | {w(ref_bank, f'w{k}/stlf')} | {w(ref_bank, f'w{k}/hw')} | "
          f"{w(ref_bank, f'w{k}/snaive')} | {chosen} |")
    k += 1
def mean_of(d, key_of):
    vals = [d[key_of(i)]["wape"] for i in range(1, k) if key_of(i) in d]
    return f"{sum(vals) / len(vals):.4f}" if vals and len(vals) == k - 1 else "missing"
if k > 1:
    print(f"| mean | {mean_of(bank, lambda i: f'bank/w{i}/auto')} | {mean_of(bank, lambda i: f'bank/w{i}/mstl/week')} | "
          f"{mean_of(bank, lambda i: f'bank/w{i}/holt-winters-add/week')} | {mean_of(bank, lambda i: f'bank/w{i}/seasonal-naive/week')} | "
          f"{mean_of(ref_bank, lambda i: f'w{i}/stlf')} | {mean_of(ref_bank, lambda i: f'w{i}/hw')} | "
          f"{mean_of(ref_bank, lambda i: f'w{i}/snaive')} | |")
print()
PY
