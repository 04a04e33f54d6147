#!/usr/bin/env bash
# backup.sh: backup and restore of a ledger of BENCH_BACKUP_EVENTS events (1,000,000) on SQLite
# and on a throwaway PostgreSQL, each beside the engine's own tool on the same database in the
# same run (sqlite3 .backup; pg_dump -Fc and pg_restore), and the writer's commands/s with and
# without a backup running. Prints a markdown section on stdout.
#
#   bench/backup/backup.sh BUILD_DIR      e.g. bench/backup/backup.sh build/release
# Environment: BENCH_BACKUP_EVENTS (1000000), BENCH_BACKUP_WRITER_SECONDS (5),
# BENCH_BACKUP_WRITER_ROUNDS (2), BENCH_BACKUP_PG (1; 0 skips PostgreSQL).
set -euo pipefail

die() { echo "backup.sh: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: bench/backup/backup.sh BUILD_DIR"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$1" && pwd) || die "no build directory $1"
BENCH=$BUILD/bench/backup_bench
[[ -x "$BENCH" ]] || die "$BENCH is missing (build the backup_bench target)"
command -v sqlite3 >/dev/null || die "sqlite3 is missing"
EVENTS=${BENCH_BACKUP_EVENTS:-1000000}
WSECONDS=${BENCH_BACKUP_WRITER_SECONDS:-5}
WROUNDS=${BENCH_BACKUP_WRITER_ROUNDS:-2}
WITH_PG=${BENCH_BACKUP_PG:-1}
DIR=$(mktemp -d /tmp/opsbox-backup-bench.XXXXXX)
chmod 711 "$DIR"
PG_DIR=""
cleanup() {
  if [[ -n "$PG_DIR" ]]; then "$ROOT/scripts/pg-tmp" stop "$PG_DIR" >/dev/null 2>&1 || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT
R=$DIR/results.jsonl

# seconds of wall time a command takes (the command's output is discarded)
timed() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  python3 -c "print($t1 - $t0)"
}
note() { echo "$1" | python3 -c 'import json,sys; print(json.dumps(json.loads(sys.stdin.read())))' >>"$R"; }

echo "== backup: SQLite, $EVENTS events" >&2
S=sqlite:$DIR/src.db
"$BENCH" generate --db "$S" --events "$EVENTS" | sed 's/^{/{"backend":"sqlite",/' >>"$R"
"$BENCH" backup --db "$S" --out "$DIR/s.obk" | sed 's/^{/{"backend":"sqlite",/' >>"$R"
t=$(timed sqlite3 "$DIR/src.db" ".backup '$DIR/ref.db'")
note "{\"backend\":\"sqlite\",\"bench\":\"reference_backup\",\"tool\":\"sqlite3 .backup\",\"seconds\":$t,\"bytes\":$(stat -c %s "$DIR/ref.db")}"
"$BENCH" restore --from "$DIR/s.obk" --db "sqlite:$DIR/restored.db" | sed 's/^{/{"backend":"sqlite",/' >>"$R"
t=$(timed cp "$DIR/ref.db" "$DIR/ref-restored.db")
note "{\"backend\":\"sqlite\",\"bench\":\"reference_restore\",\"tool\":\"cp of the .backup file\",\"seconds\":$t}"
rm -f "$DIR/ref.db" "$DIR/ref-restored.db" "$DIR/restored.db"*
echo "== backup: SQLite writer with and without a backup running" >&2
"$BENCH" writer --db "$S" --seconds "$WSECONDS" --rounds "$WROUNDS" --dir "$DIR" \
  | sed 's/^{/{"backend":"sqlite",/' >>"$R"

if [[ "$WITH_PG" == 1 ]]; then
  echo "== backup: PostgreSQL, $EVENTS events" >&2
  PG_DIR=$DIR/pg
  url=$("$ROOT/scripts/pg-tmp" start "$PG_DIR")
  base=${url%/*}
  psql -X -q "$url" -c "CREATE DATABASE bsrc" -c "CREATE DATABASE brestored" -c "CREATE DATABASE bref"
  P=$base/bsrc
  "$BENCH" generate --db "$P" --events "$EVENTS" | sed 's/^{/{"backend":"postgres",/' >>"$R"
  "$BENCH" backup --db "$P" --out "$DIR/p.obk" | sed 's/^{/{"backend":"postgres",/' >>"$R"
  t=$(timed pg_dump -Fc -f "$DIR/ref.dump" "$P")
  note "{\"backend\":\"postgres\",\"bench\":\"reference_backup\",\"tool\":\"pg_dump -Fc\",\"seconds\":$t,\"bytes\":$(stat -c %s "$DIR/ref.dump")}"
  "$BENCH" restore --from "$DIR/p.obk" --db "$base/brestored" | sed 's/^{/{"backend":"postgres",/' >>"$R"
  t=$(timed pg_restore -d "$base/bref" "$DIR/ref.dump")
  note "{\"backend\":\"postgres\",\"bench\":\"reference_restore\",\"tool\":\"pg_restore\",\"seconds\":$t}"
  echo "== backup: PostgreSQL writer with and without a backup running" >&2
  "$BENCH" writer --db "$P" --seconds "$WSECONDS" --rounds "$WROUNDS" --dir "$DIR" \
    | sed 's/^{/{"backend":"postgres",/' >>"$R"
fi

python3 - "$R" "$BUILD" "$ROOT" "$EVENTS" "$WSECONDS" "$WROUNDS" <<'PY'
import datetime, json, platform, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
build, root, events, wsec, wrounds = sys.argv[2:7]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
            if l.startswith("model name")), platform.machine())
def get(backend, bench):
    return next((r for r in rows if r.get("backend") == backend and r["bench"] == bench), None)
mib = lambda b: b / (1 << 20)
print("### Backup and restore (issue #18)\n")
print(f"{datetime.date.today().isoformat()}, {cpu}; `bench/backup/backup.sh "
      f"{build.replace(root + '/', '')}`. A ledger of {int(events):,} events in 10 tenants, "
      "made by the documented direct path (hash-chained rows inserted in batches, then one signed "
      "checkpoint per tenant); opsbox's backup and restore beside the engine's own tool on the "
      "same database in the same run. Restore time includes checking every part's SHA-256, "
      "loading in one transaction and `ledger verify` of every tenant.\n")
print("| backend | step | opsbox | reference (same run) | ratio |")
print("| --- | --- | --- | --- | --- |")
for backend in ("sqlite", "postgres"):
    g = get(backend, "generate")
    if g is None:
        continue
    b, rb = get(backend, "backup"), get(backend, "reference_backup")
    r, rr = get(backend, "restore"), get(backend, "reference_restore")
    print(f"| {backend} | generate {g['events']:,} events | {g['insert_s']:.1f} s + checkpoint "
          f"{g['checkpoint_s']:.1f} s | | |")
    print(f"| {backend} | backup time | {b['seconds']:.1f} s | {rb['seconds']:.1f} s "
          f"({rb['tool']}) | {b['seconds'] / rb['seconds']:.1f}x |")
    print(f"| {backend} | backup size | {mib(b['bytes']):.0f} MiB | {mib(rb['bytes']):.0f} MiB "
          f"({rb['tool']}) | {b['bytes'] / rb['bytes']:.2f}x |")
    print(f"| {backend} | restore time | {r['seconds']:.1f} s (check {r['check_s']:.1f} s, load "
          f"+ verify {r['load_and_verify_s']:.1f} s) | {rr['seconds']:.1f} s ({rr['tool']}) | "
          f"{r['seconds'] / max(rr['seconds'], 1e-3):.1f}x |")
print()
print(f"Writer while a backup runs: record_external_event from 64 submitters, {wrounds} rounds of "
      f"{wsec} s without and with backups of the same database running back to back; medians.\n")
print("| backend | commands/s, no backup (reference) | commands/s, backup running | change | backups completed |")
print("| --- | --- | --- | --- | --- |")
for backend in ("sqlite", "postgres"):
    w = get(backend, "writer")
    if w is None:
        continue
    p, d = w["plain_commands_per_s"], w["during_backup_commands_per_s"]
    print(f"| {backend} | {p:.0f} | {d:.0f} | {100 * (d - p) / p:+.1f}% | {w['backups_completed']} |")
print()
PY
