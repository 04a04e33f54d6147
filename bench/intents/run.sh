#!/usr/bin/env bash
# run.sh: intent classification (issue #12, "Benchmarks"): intents::Model (TF-IDF word 1-2-grams
# and character 2-5-grams, LIBLINEAR logistic regression, temperature-calibrated) beside
# LIBLINEAR alone (word 1-2-gram counts) and fastText alone, trained on the same 90% of
# BANKING77's train.csv and measured on the same held-out 10% (stratified per intent, seed
# printed): top-1 accuracy, accuracy at coverage, and classifications per second one text at a
# time on one core (median of BENCH_INTENTS_REPEATS passes). BANKING77's test split is never
# used. Prints a markdown section on stdout.
#
#   bench/intents/run.sh BUILD_DIR       e.g. bench/intents/run.sh build/release
# Environment: BENCH_INTENTS_DATA (/work/shared/data/banking77/train.csv),
# BENCH_INTENTS_REPEATS (5), BENCH_INTENTS_SEED (1).
set -euo pipefail

die() { echo "run.sh: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: bench/intents/run.sh BUILD_DIR"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$1" && pwd) || die "no build directory $1"
BENCH=${BENCH_INTENTS_BIN:-$BUILD/bench/intents_bench}
[[ -x "$BENCH" ]] || die "$BENCH is missing (build the intents_bench target)"
DATA=${BENCH_INTENTS_DATA:-/work/shared/data/banking77/train.csv}
[[ -f "$DATA" ]] || die "$DATA is missing (BANKING77 train.csv; set BENCH_INTENTS_DATA)"
REPEATS=${BENCH_INTENTS_REPEATS:-5}
SEED=${BENCH_INTENTS_SEED:-1}

WORK=$(mktemp -d /tmp/opsbox-intentsbench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

echo "== intents: opsbox, LIBLINEAR alone, fastText alone on $DATA (seed $SEED)" >&2
"$BENCH" --data "$DATA" --repeats "$REPEATS" --seed "$SEED" >"$WORK/results.jsonl"

python3 - "$WORK/results.jsonl" "$DATA" "$SEED" <<'PY'
import datetime, json, platform, sys
rows = {}
for line in open(sys.argv[1]):
    if line.startswith("{"):
        d = json.loads(line)
        rows[d["system"]] = d
data, seed = sys.argv[2], sys.argv[3]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
            if l.startswith("model name")), platform.machine())
load_avg = open("/proc/loadavg").read().split()[0]
o = rows["opsbox"]
def at(d, cov):
    return next(c["accuracy"] for c in d["coverage"] if abs(c["coverage"] - cov) < 1e-9)
print("### Intent classification (issue #12)\n")
print(f"{datetime.date.today().isoformat()}, {cpu}, one thread, load average {load_avg}; "
      f"`bench/intents/run.sh`. Data: BANKING77 `train.csv` only ({data}), split per intent "
      f"into {o['train_rows']} training rows and "
      f"{o['holdout_rows']} held-out rows (seed {seed}); every system is trained on the same "
      "training rows and measured on the same held-out rows. opsbox's model holds out 10% of "
      "its training rows for calibration and thresholds. Accuracy at coverage c: the share "
      "correct among the c most confident answers. Classifications/s: one text at a time, one "
      f"thread, median of {o['repeats']} passes over the held-out texts.\n")
print("| system | top-1 | at 95% | at 90% | at 80% coverage | at 70% | classifications/s | "
      "training s |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
names = {"opsbox": "opsbox intents (TF-IDF word 1-2 + char 2-5, LIBLINEAR LR, calibrated)",
         "liblinear_alone": "LIBLINEAR alone (word 1-2-gram counts, L2R_LR, C = 10)",
         "fasttext_alone": "fastText alone (softmax, epoch 50, lr 1.0, word 2-grams, "
                           "subwords 3-5)"}
for key in ["opsbox", "liblinear_alone", "fasttext_alone"]:
    d = rows[key]
    print(f"| {names[key]} | {d['top1']:.1%} | {at(d, 0.95):.1%} | {at(d, 0.9):.1%} | "
          f"{at(d, 0.8):.1%} | {at(d, 0.7):.1%} | {d['classify_per_s_median']:,.0f} | "
          f"{d['train_s']:.1f} |")
ll, ft = rows["liblinear_alone"], rows["fasttext_alone"]
print()
print(f"Targets (issue #12): top-1 >= 93%: **{'met' if o['top1'] >= 0.93 else 'missed'}** "
      f"({o['top1']:.1%}); accuracy at 80% coverage >= 99%: "
      f"**{'met' if at(o, 0.8) >= 0.99 else 'missed'}** ({at(o, 0.8):.1%}); >= 50,000 "
      f"classifications/s: **{'met' if o['classify_per_s_median'] >= 50000 else 'missed'}** "
      f"({o['classify_per_s_median']:,.0f}/s, {o['classify_per_s_median'] / ll['classify_per_s_median']:.2f}x "
      f"LIBLINEAR alone, {o['classify_per_s_median'] / ft['classify_per_s_median']:.2f}x fastText "
      "alone, both measured in this run).\n")
print(f"Calibration (temperature scaling, T = {o['temperature']:.3f}, fitted on the internal "
      f"validation split): expected calibration error {o['ece_before']:.3f} before, "
      f"{o['ece_after']:.3f} after; per-intent thresholds (target precision 95%) answer "
      f"{o['thresholds']['answered_share']:.1%} of the internal validation split at "
      f"{o['thresholds']['answered_accuracy']:.1%} accuracy (in-sample: the thresholds were "
      f"chosen there) and {o['holdout_answered_share']:.1%} of the held-out rows at "
      f"{o['holdout_answered_accuracy']:.1%} accuracy; the rest are `unknown`. Reliability "
      "after calibration (internal validation split, where T was fitted):\n")
print("| confidence | texts | mean confidence | accuracy |")
print("| --- | --- | --- | --- |")
for b in o["reliability_after"]:
    if b["count"]:
        print(f"| {b['confidence_min']:.1f}-{b['confidence_max']:.1f} | {b['count']} | "
              f"{b['mean_confidence']:.3f} | {b['accuracy']:.3f} |")
PY
