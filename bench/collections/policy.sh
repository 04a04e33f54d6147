#!/usr/bin/env bash
# policy.sh: the collections contact policy benchmark (issue #11: at least 5,000,000 checks/s on
# one core over 1,000,000 accounts with attempt history), beside a reference measured in the
# same run: one sweep that reads every account record and every attempt of its history (the
# memory the checks touch) without applying any rule. Prints a markdown section on stdout.
#
#   bench/collections/policy.sh BUILD_DIR       e.g. bench/collections/policy.sh build/release
# Environment: BENCH_COLLECTIONS_ACCOUNTS (1000000), BENCH_COLLECTIONS_ROUNDS (5),
# BENCH_COLLECTIONS_SEED (1).
set -euo pipefail

die() { echo "policy.sh: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: bench/collections/policy.sh BUILD_DIR"
BUILD=$(cd "$1" && pwd) || die "no build directory $1"
BENCH=$BUILD/bench/collections_policy_bench
[[ -x "$BENCH" ]] || die "$BENCH is missing (build the collections_policy_bench target)"
ACCOUNTS=${BENCH_COLLECTIONS_ACCOUNTS:-1000000}
ROUNDS=${BENCH_COLLECTIONS_ROUNDS:-5}
SEED=${BENCH_COLLECTIONS_SEED:-1}
readonly kTargetPerS=5000000

WORK=$(mktemp -d /tmp/opsbox-collectionsbench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

"$BENCH" --accounts "$ACCOUNTS" --rounds "$ROUNDS" --seed "$SEED" >"$WORK/out.jsonl"

python3 - "$WORK/out.jsonl" "$kTargetPerS" \
  "bench/collections/policy.sh build/release (accounts $ACCOUNTS, rounds $ROUNDS, seed $SEED)" <<'PY'
import datetime, json, platform, sys
rows = {d["figure"]: d for d in (json.loads(l) for l in open(sys.argv[1]) if l.startswith("{"))}
target, cmd = float(sys.argv[2]), sys.argv[3]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
            if l.startswith("model name")), platform.machine())
s, r, ref = rows["sequential"], rows["random"], rows["reference"]
rules = ["calling_window", "reg_f_7_in_7", "reg_f_after_conversation", "consent", "do_not_call",
         "cease_communication", "dispute_hold", "vulnerable", "legal_hold", "holiday",
         "frequency_cap", "agent_particulars"]
mix = ", ".join(f"{k} {s[k]:,}" for k in rules if s.get(k))
print("### Collections: contact policy checks (issue #11)\n")
load = open("/proc/loadavg").read().split()[0]
print(f"{datetime.date.today().isoformat()}, {cpu}, one thread (load average {load} on the "
      f"shared machine when it ended); `{cmd}`. "
      f"{s['accounts']:,} accounts with {s['attempts']:,} attempts (0–16 each over 30 days, "
      "75% voice), zones: 8 IANA zones and 10% without a zone (every zone of US or IN from "
      "zone1970.tab); preset reg_f with frequency caps on sms, whatsapp and email and 12 "
      "holidays; one CanContact per account on one channel, reasons and next allowed instant "
      f"included. Decisions: {s['allowed']:,} allowed, {s['refused_with_next']:,} refused with a "
      f"next instant; reasons: {mix}. Medians of the rounds. Reference in the same run: one "
      "sweep reading every account record and attempt without any rule.\n")
print("| figure | value | reference | target | result |")
print("| --- | --- | --- | --- | --- |")
ok = "**met**" if s["checks_per_s"] >= target else "**missed**"
print(f"| checks per second, accounts in storage order (worklist sweep) | {s['checks_per_s']:,.0f} "
      f"({s['ns_per_check']:.0f} ns each) | reading the data only: {ref['accounts_per_s']:,.0f} "
      f"accounts/s ({ref['ns_per_account']:.0f} ns); checks cost {s['ns_per_check']/ref['ns_per_account']:.1f}x "
      f"| >= {target:,.0f} | {ok} |")
print(f"| checks per second, accounts in random order | {r['checks_per_s']:,.0f} "
      f"({r['ns_per_check']:.0f} ns each) | - | - | - |")
print()
PY
