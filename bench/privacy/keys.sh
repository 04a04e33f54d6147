#!/usr/bin/env bash
# keys.sh: encrypt-on-append overhead (issue #3: at most 15%). The ledger writer with 64
# concurrent submitters appending events that carry a customer's personal fields (name, phone,
# e-mail, a note), sealed per data subject versus in clear, alternating phases on fresh SQLite
# databases in one run. Prints a markdown section on stdout.
#
#   bench/privacy/keys.sh BUILD_DIR      e.g. bench/privacy/keys.sh build/release
# Environment: BENCH_KEYS_SYNC (FULL), BENCH_KEYS_SECONDS (3), BENCH_KEYS_ROUNDS (2),
# BENCH_KEYS_SUBJECTS (1000).
set -euo pipefail

die() { echo "keys.sh: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: bench/privacy/keys.sh BUILD_DIR"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$1" && pwd) || die "no build directory $1"
BENCH=$BUILD/bench/privacy_keys_bench
[[ -x "$BENCH" ]] || die "$BENCH is missing (build the privacy_keys_bench target)"
SYNC=${BENCH_KEYS_SYNC:-FULL}
SECONDS_=${BENCH_KEYS_SECONDS:-3}
ROUNDS=${BENCH_KEYS_ROUNDS:-2}
SUBJECTS=${BENCH_KEYS_SUBJECTS:-1000}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT

echo "== privacy encrypt-on-append: sync=$SYNC, $ROUNDS rounds of ${SECONDS_}s" >&2
OUT=$("$BENCH" --dir "$DIR" --sync "$SYNC" --seconds "$SECONDS_" --rounds "$ROUNDS" \
  --subjects "$SUBJECTS")
python3 - "$OUT" "$BUILD" "$ROOT" "$SYNC" "$SECONDS_" "$ROUNDS" "$SUBJECTS" <<'PY'
import datetime, json, platform, sys
lines = [json.loads(l) for l in sys.argv[1].splitlines() if l.strip()]
build, root, sync, secs, rounds, subjects = sys.argv[2:8]
s = lines[-1]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
            if l.startswith("model name")), platform.machine())
cmd = (f"BENCH_KEYS_SYNC={sync} bench/privacy/keys.sh "
       f"{build.replace(root + '/', '')}")
print("### Privacy: encrypt-on-append overhead (issue #3)\n")
print(f"{datetime.date.today().isoformat()}, {cpu}; `{cmd}`. SQLite synchronous={sync}, one "
      f"writer, 64 submitters, {subjects} customers (keys created on first use, then cached), "
      "four personal fields per event sealed with XChaCha20-Poly1305; reference: the same "
      f"commands and events in clear, in the same run, alternating phases ({rounds} rounds of "
      f"{secs} s each).\n")
print("| figure | sealed | in clear (reference) | overhead | target | result |")
print("| --- | --- | --- | --- | --- | --- |")
ok = "**met**" if s["throughput_overhead"] <= 0.15 else "**missed**"
print(f"| commands/s | {s['sealed_commands_per_s']:.0f} | {s['plain_commands_per_s']:.0f} "
      f"| {100 * s['throughput_overhead']:.1f}% | <= 15% | {ok} |")
print(f"| CPU us per command (process) | {s['sealed_cpu_us_per_command']:.1f} "
      f"| {s['plain_cpu_us_per_command']:.1f} | {100 * s['cpu_overhead']:.1f}% | | |")
seal = next(l for l in lines if l["bench"] == "seal_fields")
print(f"| SealFields alone, us per event (4 fields, one thread) | {seal['seal_us_per_event']:.2f} "
      f"| | {100 * s['seal_share_of_plain_cpu']:.1f}% of a plain command's CPU | | |")
print(f"| payload bytes per event | {seal['payload_bytes_sealed']} | {seal['payload_bytes_plain']} "
      "| | | |")
print()
PY
