#!/usr/bin/env bash
# import.sh: the portfolio import benchmark (issue #11: a 1,000,000-row CSV in at most 20 s),
# beside a reference measured in the same run on the same rows: a raw SQLite insert (Python's
# csv reader and sqlite3 executemany into one table with the same columns, one transaction,
# WAL and synchronous=FULL like opsbox). Each round imports the file into a fresh database
# (`opsbox collections import`, the first import: every row new, every contact sealed under a
# new customer key), then imports the same file again (the daily upsert with nothing changed).
# Prints a markdown section on stdout.
#
#   bench/collections/import.sh BUILD_DIR      e.g. bench/collections/import.sh build/release
# Environment: BENCH_IMPORT_ROWS (1000000), BENCH_IMPORT_ROUNDS (3), BENCH_IMPORT_SEED (1).
set -euo pipefail

die() { echo "import.sh: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: bench/collections/import.sh BUILD_DIR"
BUILD=$(cd "$1" && pwd) || die "no build directory $1"
OPSBOX=$BUILD/src/app/opsbox
[[ -x "$OPSBOX" ]] || die "$OPSBOX is missing (build the opsbox target)"
ROWS=${BENCH_IMPORT_ROWS:-1000000}
ROUNDS=${BENCH_IMPORT_ROUNDS:-3}
SEED=${BENCH_IMPORT_SEED:-1}
readonly kTargetS=20

WORK=$(mktemp -d /tmp/opsbox-importbench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
CSV=$WORK/portfolio.csv

python3 - "$CSV" "$ROWS" "$SEED" <<'PY'
import random, sys
path, rows, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
products = ["card", "personal_loan", "auto_loan", "gold_loan"]
zones = ["Asia/Kolkata", "America/New_York", "America/Chicago", "America/Los_Angeles", ""]
with open(path, "w") as f:
    f.write("account_id,customer_id,product,currency,principal,outstanding,overdue,instalment,"
            "days_past_due,due_date,branch,region,zone,address,phones,email,name,consent_sms,"
            "consent_whatsapp,consent_email,flags\n")
    for i in range(rows):
        c = i // 2  # two accounts per customer
        out = rnd.randrange(10_000, 5_000_000)
        dpd = rnd.choice([0, 0, 0, rnd.randrange(1, 200)])
        flags = rnd.choice(["", "", "", "", "dispute", "vulnerable"])
        f.write(f"ACC{i:08d},CUS{c:08d},{rnd.choice(products)},INR,{out + 50000}.00,{out}.50,"
                f"{out // 10}.00,{out // 24}.00,{dpd},2026-11-{rnd.randrange(1, 29):02d},"
                f"BR{rnd.randrange(100):03d},R{rnd.randrange(8)},{rnd.choice(zones)},"
                f"\"{rnd.randrange(1, 999)} Main Road, Sector {rnd.randrange(1, 80)}\","
                f"+9198{rnd.randrange(10**8):08d};+9199{rnd.randrange(10**8):08d},"
                f"c{c}@example.com,Customer {c},{rnd.choice(['true', 'false', ''])},"
                f"{rnd.choice(['true', 'false', ''])},true,{flags}\n")
PY

reference() {  # seconds for the raw insert of the same rows
  python3 - "$CSV" "$1" <<'PY'
import csv, sqlite3, sys, time
path, db = sys.argv[1], sys.argv[2]
t0 = time.monotonic()
con = sqlite3.connect(db, isolation_level=None)
con.execute("PRAGMA journal_mode=WAL")
con.execute("PRAGMA synchronous=FULL")
with open(path, newline="") as f:
    r = csv.reader(f)
    header = next(r)
    con.execute("CREATE TABLE accounts (%s, PRIMARY KEY (account_id))" % ", ".join(header))
    con.execute("BEGIN")
    con.executemany("INSERT INTO accounts VALUES (%s)" % ", ".join("?" * len(header)), r)
    con.execute("COMMIT")
con.close()
print("%.3f" % (time.monotonic() - t0))
PY
}

timed() {  # seconds of one opsbox import; its JSON report goes to $2
  local t0 t1
  t0=$(date +%s.%N)
  "$OPSBOX" collections import --db "sqlite:$1" --tenant bench --json "$CSV" >"$2"
  t1=$(date +%s.%N)
  python3 -c "print('%.3f' % ($t1 - $t0))"
}

: >"$WORK/times"
for round in $(seq 1 "$ROUNDS"); do
  rm -rf "$WORK/db" && mkdir -p "$WORK/db"
  ref=$(reference "$WORK/db/raw.db")
  first=$(timed "$WORK/db/opsbox.db" "$WORK/first.json")
  again=$(timed "$WORK/db/opsbox.db" "$WORK/again.json")
  echo "$round $ref $first $again" >>"$WORK/times"
  echo "round $round: raw insert ${ref}s, first import ${first}s, same file again ${again}s" >&2
done

python3 - "$WORK/times" "$WORK/first.json" "$WORK/again.json" "$ROWS" "$kTargetS" \
  "bench/collections/import.sh build/release (rows $ROWS, rounds $ROUNDS, seed $SEED)" <<'PY'
import datetime, json, platform, statistics, sys
times = [list(map(float, l.split()[1:])) for l in open(sys.argv[1])]
first, again = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
rows, target, cmd = int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
ref = statistics.median(t[0] for t in times)
imp = statistics.median(t[1] for t in times)
rep = statistics.median(t[2] for t in times)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
            if l.startswith("model name")), platform.machine())
load = open("/proc/loadavg").read().split()[0]
print("### Collections: portfolio import (issue #11)\n")
print(f"{datetime.date.today().isoformat()}, {cpu} (load average {load} on the shared machine "
      f"when it ended); `{cmd}`. A generated CSV of {rows:,} rows (21 columns, two accounts per "
      "customer, two phones, e-mail, name and address each), SQLite, `opsbox collections import` "
      "end to end (process start, SHA-256 of the file, parse, chunks of 1,000 rows through the "
      "ledger writer, contact sealed per customer, projection, checkpoint). Medians of "
      f"{len(times)} rounds, each on a fresh database. Reference in the same run: a raw SQLite "
      "insert of the same rows (Python csv + executemany, one transaction, no checks, no ledger, "
      "no sealing).\n")
print("| figure | value | reference | ratio | target | result |")
print("| --- | --- | --- | --- | --- | --- |")
ok = "**met**" if imp <= target else "**missed**"
print(f"| first import of {rows:,} rows | {imp:.1f} s ({rows/imp:,.0f} rows/s; "
      f"{first['accounts_changed']:,} accounts, {first['chunks']:,} chunks) | raw insert "
      f"{ref:.1f} s ({rows/ref:,.0f} rows/s) | {imp/ref:.1f}x | <= {target:.0f} s | {ok} |")
ok = "**met**" if rep <= target else "**missed**"
print(f"| the same file again (nothing changes, nothing appended) | {rep:.1f} s "
      f"({again['accounts_changed']} accounts changed) | raw insert {ref:.1f} s | {rep/ref:.1f}x "
      f"| <= {target:.0f} s | {ok} |")
print()
PY
