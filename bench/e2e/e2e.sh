#!/usr/bin/env bash
# e2e.sh: the end-to-end benchmark of issue #4 ("inbound webhook accepted to offer delivered on
# the WebSocket, at 1,000 inbound messages/s: p99 at most 20 ms") on `opsbox serve` (SQLite
# FULL, server.threads = 2, as scripts/bench's HTTP runs), beside references measured in the
# same run: GET /healthz round trips (idle, and probed during the load) and the webhook's own
# answer latency. bench/e2e/intake_to_offer.py does the run; this prints a markdown section.
#
#   bench/e2e/e2e.sh BUILD_DIR       e.g. bench/e2e/e2e.sh build/release
# Environment: BENCH_E2E_RATE (1000 messages/s), BENCH_E2E_SECONDS (5, measured),
# BENCH_E2E_WARMUP_S (1, same rate, not measured), BENCH_E2E_SENDERS (64 sender threads),
# BENCH_E2E_AGENTS (0 = enough chat capacity for every message), BENCH_E2E_JSONL (a file to
# keep the raw JSON lines in).
set -euo pipefail

die() { echo "e2e.sh: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: bench/e2e/e2e.sh BUILD_DIR"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$1" && pwd) || die "no build directory $1"
OPSBOX=$BUILD/src/app/opsbox
[[ -x "$OPSBOX" ]] || die "$OPSBOX is missing (build the opsbox target)"
PY=/usr/bin/python3
[[ -x "$PY" ]] || die "Debian python3 is missing"

RATE=${BENCH_E2E_RATE:-1000}
SECONDS_MEASURED=${BENCH_E2E_SECONDS:-5}
WARMUP_S=${BENCH_E2E_WARMUP_S:-1}
SENDERS=${BENCH_E2E_SENDERS:-64}
AGENTS=${BENCH_E2E_AGENTS:-0}
readonly kTargetP99Ms=20

WORK=$(mktemp -d /tmp/opsbox-e2ebench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
ARGS=(--rate "$RATE" --seconds "$SECONDS_MEASURED" --warmup-s "$WARMUP_S" --senders "$SENDERS"
      --agents "$AGENTS")
echo "== e2e intake to offer: ${RATE}/s for ${SECONDS_MEASURED}s after ${WARMUP_S}s" >&2
"$PY" "$ROOT/bench/e2e/intake_to_offer.py" --opsbox "$OPSBOX" "${ARGS[@]}" >"$WORK/out.jsonl"
if [[ -n "${BENCH_E2E_JSONL:-}" ]]; then cp "$WORK/out.jsonl" "$BENCH_E2E_JSONL"; fi
cat "$WORK/out.jsonl" >&2

CMD="bench/e2e/intake_to_offer.py --opsbox ${BUILD#$ROOT/}/src/app/opsbox ${ARGS[*]}"
"$PY" - "$WORK/out.jsonl" "$kTargetP99Ms" "$CMD" "$LOADAVG" <<'PY'
import datetime, json, platform, sys
rows = {d["figure"]: d for d in (json.loads(l) for l in open(sys.argv[1]) if l.startswith("{"))}
target, cmd, loadavg = float(sys.argv[2]), sys.argv[3], sys.argv[4]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
            if l.startswith("model name")), platform.machine())
inb, ans, a2o, s2o = rows["inbound"], rows["webhook_answer"], rows["answer_to_offer"], rows["send_to_offer"]
off, idle, probe, srv = rows["offers"], rows["healthz_idle"], rows["healthz_under_load"], rows["server_metrics"]

def ms(d, k):
    return "-" if d.get(k) is None else "%.2f" % d[k]

def pp(d):
    return "%s / %s / %s ms" % (ms(d, "p50_ms"), ms(d, "p99_ms"), ms(d, "max_ms"))

def verdict(d):
    if d.get("p99_ms") is None or off["missing"] or inb["non_2xx"] or inb["transport_errors"]:
        return "**missed**"
    return "**met**" if d["p99_ms"] <= target else "**missed**"

print("### End to end: chat message to WebSocket offer (issue #4)\n")
print(f"{datetime.date.today().isoformat()}, {cpu}, {inb['server_threads']} server threads, "
      f"load average {loadavg} at the start (the client runs on the same machine); "
      f"`bench/e2e/e2e.sh BUILD_DIR`. `opsbox serve` on loopback over SQLite "
      f"(synchronous={inb['sqlite_synchronous']}); {inb['agents']} agents x chat capacity "
      f"{inb['capacity_chat']}, each on its own WebSocket subscribed to my_reservations (one "
      "selector thread reads them all); one queue (target `true`, longest idle) and the default "
      f"workflow. Chat messages from distinct customers (each opens a conversation, which "
      f"becomes a task and an offer) are posted to /channels/chat/messages open-loop at "
      f"{inb['rate_target']:,.0f}/s by {inb['senders']} keep-alive sender threads for "
      f"{inb['seconds']:g} s after a {inb['warmup_s']:g} s warm-up at the same rate; "
      "send = the request leaves the client, answer = its 2xx arrives, offer = the pending "
      "reservation for that conversation arrives on the WebSocket. Percentiles over the "
      f"measured messages (p50 / p99 / max). References in the same run: the webhook's own "
      f"answer latency, GET /healthz round trips on the idle server and probed at "
      f"{probe['probe_rate']:g}/s during the load. The ledger committed "
      f"{srv['ledger_commands']:,.0f} commands in {srv['ledger_commits']:,.0f} commits during "
      "the run.\n")
print("| figure | value | reference | target | result | command |")
print("| --- | --- | --- | --- | --- | --- |")
rate_ok = "**met**" if inb["achieved_rate"] >= 0.98 * inb["rate_target"] else "**missed**"
late = inb["send_lateness"]
print(f"| inbound rate achieved | {inb['achieved_rate']:,.0f} messages/s ({inb['messages']:,} "
      f"measured, {inb['answered_2xx']:,} answered 2xx, non-2xx {inb['non_2xx'] or 0}, "
      f"transport errors {inb['transport_errors']}) | sends behind schedule p50 / p99: "
      f"{ms(late, 'p50_ms')} / {ms(late, 'p99_ms')} ms | {inb['rate_target']:,.0f}/s "
      f"| {rate_ok} | `{cmd}` |")
print(f"| send -> offer on the WebSocket, p50 / p99 / max | {pp(s2o)} | webhook answer: "
      f"{pp(ans)}; GET /healthz idle: {pp(idle)} | p99 <= {target:g} ms | {verdict(s2o)} "
      f"| `{cmd}` |")
print(f"| 2xx answer -> offer on the WebSocket, p50 / p99 / max | {pp(a2o)} "
      f"({a2o.get('negative', 0)} offers came before their answer) | GET /healthz during "
      f"the load: {pp(probe)} | p99 <= {target:g} ms | {verdict(a2o)} | `{cmd}` |")
print(f"| webhook answer latency (POST /channels/chat/messages), p50 / p99 / max | {pp(ans)} "
      f"| GET /healthz idle: {pp(idle)} | - | - | `{cmd}` |")
miss_ok = "**met**" if off["missing"] == 0 else "**missed**"
print(f"| offers missing | {off['missing']:,} of {off['expected']:,} "
      f"({off['with_repeat_offers']} conversations offered more than once) | - | 0 | {miss_ok} "
      f"| `{cmd}` |")
print()
PY
