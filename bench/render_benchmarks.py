#!/usr/bin/env python3
"""Renders scripts/bench's JSON lines into docs/benchmarks.md (written to stdout).

usage: render_benchmarks.py RESULTS.jsonl NOTES.md COMMAND [MODULES.md]
Each figure is shown beside the reference measured in the same run, with the ratio, the target
of the issue and whether it was met. NOTES.md (profiling notes kept by hand) follows, then
MODULES.md (the sections that bench/<module>/*.sh printed).
"""
import json
import statistics
import sys

# Targets (issue "benchmarks"): figures below these are reported as missed.
LEDGER_SQLITE_FULL_MIN_PER_S = 50_000
LEDGER_RAW_RATIO_MIN = 0.70
HTTP_GET_MIN_PER_S = 30_000
HTTP_GET_P99_MAX_MS = 10.0
HTTP_POST_MIN_PER_S = 15_000

LEDGER_NAMES = {
    "sqlite_full": "SQLite, synchronous=FULL",
    "sqlite_normal": "SQLite, synchronous=NORMAL",
    "pg_s4": "PostgreSQL 15, writer shards 4",
    "pg_s1": "PostgreSQL 15, writer shards 1",
}


def met(ok):
    return "**met**" if ok else "**missed**"


def num(x, digits=0):
    return f"{x:,.{digits}f}"


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def machine_section(m):
    load_avg = " ".join(m.get("loadavg", []))
    dirty = " (with uncommitted changes)" if m.get("dirty") else ""
    return [
        "## Machine",
        "",
        "| date | nproc | CPU | RAM | kernel | commit | load average at start |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| {m['date_utc']} | {m['nproc']} | {m['cpu']} | {m['ram_gib']} GiB | {m['kernel']} "
        f"| `{m['commit']}`{dirty} | {load_avg} |",
        "",
        "The machine is shared: other processes ran during the measurement, and wrk shares the "
        "cores with the server. Figures from a quiet machine with more cores will be higher.",
        "",
    ]


def ledger_runs(rows):
    """{label: [{"writer": w, "writer_batch": r, "large_batch": r}, ...]} in run order."""
    out = {}
    for r in rows:
        if r.get("bench") not in ("ledger_writer", "ledger_raw"):
            continue
        runs = out.setdefault(r["label"], [])
        if r["bench"] == "ledger_writer":
            runs.append({"writer": r})
        elif runs:
            runs[-1][r["kind"]] = r
    return {k: [x for x in v if len(x) == 3] for k, v in out.items()}


def median_of(runs, part, field):
    return statistics.median(run[part][field] for run in runs)


def ratio(a, b):
    return a / b if b else 0


def ledger_table(runs_by_label, summary):
    lines = [
        "| backend | commands/s (runs) | p50 ms | p99 ms | avg batch | raw at avg batch "
        "(rows/txn) | writer / raw | raw at large batch (rows/txn) | writer / raw large |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, runs in runs_by_label.items():
        if not runs:
            continue
        name = LEDGER_NAMES.get(label, label)
        per_s = median_of(runs, "writer", "commands_per_s")
        # Ratios are taken per run (writer and reference measured seconds apart), then the median.
        r_batch = statistics.median(ratio(x["writer"]["commands_per_s"],
                                          x["writer_batch"]["commands_per_s"]) for x in runs)
        r_large = statistics.median(ratio(x["writer"]["commands_per_s"],
                                          x["large_batch"]["commands_per_s"]) for x in runs)
        failures = sum(x["writer"]["failures"] for x in runs)
        first_error = next(
            (x["writer"]["first_error"] for x in runs if x["writer"]["failures"]), "")
        fail_note = f" ({failures} failed: {first_error})" if failures else ""
        all_runs = ", ".join(num(x["writer"]["commands_per_s"]) for x in runs)
        lines.append(
            f"| {name} | {num(per_s)} ({all_runs}){fail_note} "
            f"| {median_of(runs, 'writer', 'p50_ms'):.2f} "
            f"| {median_of(runs, 'writer', 'p99_ms'):.2f} "
            f"| {median_of(runs, 'writer', 'batch_avg'):.1f} "
            f"| {num(median_of(runs, 'writer_batch', 'commands_per_s'))} "
            f"({runs[0]['writer_batch']['batch_rows']}) | {r_batch:.0%} "
            f"| {num(median_of(runs, 'large_batch', 'commands_per_s'))} "
            f"({runs[0]['large_batch']['batch_rows']}) | {r_large:.0%} |")
        summary.append((f"Ledger, {name}: writer / raw insert at the same batch size",
                        f"{r_batch:.0%}", f">= {LEDGER_RAW_RATIO_MIN:.0%}",
                        r_batch >= LEDGER_RAW_RATIO_MIN and not failures))
        if label == "sqlite_full":
            summary.insert(0, (f"Ledger, {name}: durable commands/s", num(per_s),
                               f">= {num(LEDGER_SQLITE_FULL_MIN_PER_S)}",
                               per_s >= LEDGER_SQLITE_FULL_MIN_PER_S and not failures))
    return lines


def ledger_time_table(runs_by_label):
    """Where the writer's wall time goes: time inside each statement, summed over the runs."""
    lines = [
        "| backend | writer thread CPU us/command (raw reference, this process only: "
        "PostgreSQL's own work not counted) | share of writer time in the "
        "store, by statement (calls per command, us per call) | outside the store |",
        "| --- | ---: | --- | ---: |",
    ]
    for label, runs in runs_by_label.items():
        if not runs:
            continue
        wall = sum(x["writer"]["writer_wall_ms"] for x in runs)
        commands = sum(x["writer"]["commands"] for x in runs)
        totals = {}
        for x in runs:
            for st in x["writer"].get("statements", []):
                t = totals.setdefault(st["sql"], {"ms": 0.0, "calls": 0})
                t["ms"] += st["total_ms"]
                t["calls"] += st["calls"]
        parts, in_store = [], 0.0
        for sql, t in sorted(totals.items(), key=lambda kv: -kv[1]["ms"]):
            in_store += t["ms"]
            if t["ms"] / wall < 0.01:
                continue
            words = sql.split()
            short = " ".join(words[:4]) if words and words[0] == "[batch]" else " ".join(words[:3])
            if "FROM" in words:
                short += " … " + words[words.index("FROM") + 1]
            parts.append(f"`{short}` {t['ms'] / wall:.0%} ({t['calls'] / commands:.2f}, "
                         f"{1000 * t['ms'] / t['calls']:.0f})")
        cpu = median_of(runs, "writer", "writer_cpu_us_per_command")
        raw_cpu = median_of(runs, "writer_batch", "cpu_us_per_command")
        lines.append(f"| {LEDGER_NAMES.get(label, label)} | {cpu:.0f} ({raw_cpu:.0f}) "
                     f"| {'; '.join(parts)} | {1 - in_store / wall:.0%} |")
    return lines


LEDGER_BYTES_PER_COMMAND_MAX = 600  # issue #20 item 5, SQLite


def ledger_storage_table(runs_by_label, summary):
    """Bytes on disk per command after the writer run (tables with their indexes)."""
    lines = [
        "| backend | bytes per command (runs) | ledger_events | ledger_commands | "
        "external_events | event payload (the data itself) | bytes / payload |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, runs in runs_by_label.items():
        runs = [x for x in runs if "storage" in x["writer"]]
        if not runs:
            continue
        name = LEDGER_NAMES.get(label, label)
        per = [x["writer"]["storage"]["bytes_per_command"] for x in runs]
        med = statistics.median(per)
        table = lambda t: statistics.median(x["writer"]["storage"]["per_table"][t] for x in runs)
        payload = statistics.median(x["writer"]["storage"]["payload_bytes"] for x in runs)
        lines.append(f"| {name} | {num(med)} ({', '.join(num(p) for p in per)}) "
                     f"| {num(table('ledger_events'))} | {num(table('ledger_commands'))} "
                     f"| {num(table('external_events'))} | {num(payload)} "
                     f"| {ratio(med, payload):.1f}x |")
        if label.startswith("sqlite"):
            summary.append((f"Ledger, {name}: bytes on disk per external-event command",
                            num(med), f"<= {LEDGER_BYTES_PER_COMMAND_MAX}",
                            med <= LEDGER_BYTES_PER_COMMAND_MAX))
    return lines if len(lines) > 2 else []


def ledger_section(rows, summary):
    runs_by_label = ledger_runs(rows)
    if not runs_by_label:
        return []
    count = max(len(v) for v in runs_by_label.values())
    lines = [
        "## Ledger append through the writer (group commit)",
        "",
        "64 submitter threads, each submitting one `record_external_event` command (unique "
        "external id, 4 tenants on distinct writer shards) and waiting for its answer, in a "
        "loop; the real `ledger::Writer` with the identity and integrations registrations on a "
        "fresh migrated database. Reference: the same three rows per command (`ledger_events`, "
        "`ledger_commands`, `external_events`) inserted directly with the store "
        "(`Tx::ExecBatch`, one connection per writer shard), at the batch size the writer "
        "achieved on average and at a large batch, on the same backend and settings, in the "
        "same run; only the reference's transactions are timed. "
        f"{count} runs per backend; medians shown.",
        "",
    ]
    lines += ledger_table(runs_by_label, summary)
    probes = [r for r in rows if r.get("bench") == "fsync_probe"]
    if probes:
        fsync_ms = statistics.median(p["fsync_ms"] for p in probes)
        lines += ["", f"Hardware reference: 4 KiB write + `fdatasync` in the folder of the SQLite "
                  f"files, median {fsync_ms:.2f} ms ("
                  + ", ".join(f"{p['fsync_ms']:.2f}" for p in probes) + "). A submitter waits "
                  "for its commit, so with 64 submitters at most 64 commands share a commit: "
                  f"at synchronous=FULL that alone caps the rate near 64 / {fsync_ms:.2f} ms = "
                  f"{num(64 / fsync_ms * 1000)} commands/s on this disk, before any CPU work "
                  "or the WAL's page writes."]
    rtts = [r for r in rows if r.get("bench") == "roundtrip_probe"]
    if rtts:
        rtt = statistics.median(r["roundtrip_us"] for r in rtts)
        lines += ["", f"PostgreSQL reference: one `SELECT 1` round trip on loopback, median "
                  f"{rtt:.0f} us."]
    lines += ["", "Where the writer's time goes (wall time inside each store call, measured by a "
              "timing decorator around the writer's connections; the rest is the writer's own "
              "work: deciding, JSON, hashing, answering):", ""]
    lines += ledger_time_table(runs_by_label)
    storage = ledger_storage_table(runs_by_label, summary)
    if storage:
        lines += ["", "Bytes on disk per command after the writer run (issue #20 item 5): each "
                  "ledger table with its indexes (SQLite: pages in use from `dbstat`; "
                  "PostgreSQL: `pg_total_relation_size`), divided by the commands recorded, "
                  "beside the average canonical payload of the events:", ""]
        lines += storage
    commands = [runs[0]["writer"]["command"] for runs in runs_by_label.values() if runs]
    lines += ["", "Commands (each prints the probe, the writer line and both raw lines):", ""]
    lines += [f"    {c}" for c in commands]
    lines.append("")
    return lines


def http_medians(rows):
    tests = {}
    for r in rows:
        if r.get("bench") != "http":
            continue
        seconds = r["duration_us"] / 1e6
        errors = (r["errors_status"] + r["errors_connect"] + r["errors_read"] +
                  r["errors_write"] + r["errors_timeout"])
        ok_per_s = (r["requests"] - r["errors_status"]) / seconds
        t = tests.setdefault(r["test"], {"runs": [], "command": r["command"]})
        t["runs"].append({"per_s": ok_per_s, "p50": r["p50_ms"], "p99": r["p99_ms"],
                          "errors": errors})
    for t in tests.values():
        runs = t["runs"]
        t["per_s"] = statistics.median(x["per_s"] for x in runs)
        t["p50"] = statistics.median(x["p50"] for x in runs)
        t["p99"] = statistics.median(x["p99"] for x in runs)
        t["errors"] = sum(x["errors"] for x in runs)
    return tests


def http_section(rows, summary):
    tests = http_medians(rows)
    if not tests:
        return []
    base = tests.get("healthz", {}).get("per_s", 0)
    batches = [r["batch_avg"] for r in rows if r.get("bench") == "http_writer"]
    names = {
        "healthz": ("GET /healthz (reference: no auth, no database)", None),
        "me": ("GET /api/v1/tenants/{t}/me, Bearer API key", "get"),
        "post": ("POST /api/v1/tenants/{t}/external-events, unique external ids", "post"),
    }
    lines = [
        "## HTTP on loopback (wrk)",
        "",
        "`opsbox serve` (release build, SQLite synchronous=FULL in a temp dir, "
        "`server.threads = 2`), wrk with 2 threads and 64 connections; each test run "
        f"{len(next(iter(tests.values()))['runs'])} times, medians shown. Requests/s count "
        "successful (2xx/3xx) answers only. Reference: GET /healthz on the same server in the "
        "same run.",
        "",
        "| test | requests/s (runs) | p50 ms | p99 ms | errors | vs /healthz |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for test, (title, kind) in names.items():
        t = tests.get(test)
        if not t:
            continue
        runs = ", ".join(num(x["per_s"]) for x in t["runs"])
        ratio = f"{t['per_s'] / base:.0%}" if base else "-"
        lines.append(f"| {title} | {num(t['per_s'])} ({runs}) | {t['p50']:.2f} "
                     f"| {t['p99']:.2f} | {t['errors']} | {ratio} |")
        if kind == "get":
            summary.append(("HTTP authenticated GET /me: requests/s and p99",
                            f"{num(t['per_s'])}/s, p99 {t['p99']:.2f} ms",
                            f">= {num(HTTP_GET_MIN_PER_S)}/s, p99 < {HTTP_GET_P99_MAX_MS:g} ms",
                            t["per_s"] >= HTTP_GET_MIN_PER_S and t["p99"] < HTTP_GET_P99_MAX_MS
                            and t["errors"] == 0))
        if kind == "post":
            summary.append(("HTTP POST external event (durable command): requests/s",
                            num(t["per_s"]), f">= {num(HTTP_POST_MIN_PER_S)}/s",
                            t["per_s"] >= HTTP_POST_MIN_PER_S and t["errors"] == 0))
    if batches:
        lines += ["", "Writer batch size during the POST runs (from /metrics): "
                  + ", ".join(f"{b:.1f}" for b in batches) + " commands per commit."]
    lines += ["", "Commands:", ""]
    lines += [f"    {tests[t]['command']}" for t in names if t in tests]
    lines.append("")
    return lines


def main():
    results, notes_path, command = sys.argv[1], sys.argv[2], sys.argv[3]
    modules_path = sys.argv[4] if len(sys.argv) > 4 else None
    rows = load(results)
    machine = next(r for r in rows if r.get("bench") == "machine")
    summary = []
    ledger = ledger_section(rows, summary)
    http = http_section(rows, summary)
    out = [
        "# Benchmarks",
        "",
        f"Written by `{command}` (run by `make bench`); do not edit by hand: the profiling "
        "notes at the end come from `bench/profile-notes.md`.",
        "",
    ]
    out += machine_section(machine)
    out += ["## Targets", "", "| figure | measured | target | |", "| --- | --- | --- | --- |"]
    out += [f"| {f} | {v} | {t} | {met(ok)} |" for f, v, t, ok in summary]
    out.append("")
    out += ledger + http
    for path in (notes_path, modules_path):
        try:
            with open(path) as f:
                text = f.read().rstrip()
        except (OSError, TypeError):
            continue
        if text:
            out += [text, ""]
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
