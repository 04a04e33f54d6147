#!/usr/bin/env python3
"""cluster_bench.py: two opsbox nodes on one PostgreSQL against one node (issue #20 item 7).

On a throwaway PostgreSQL (scripts/pg-tmp, started by cluster.sh, URL in --pg-url) it creates a
database with T tenants (8) and an admin key each, then measures in the same run:

  one_node      one `opsbox serve` (clustering off, database.writer_shards = S), wrk posting
                external events to every tenant (one wrk process per tenant, C connections
                each), D seconds: commands/s summed over the wrk processes;
  two_nodes     two clustered nodes (S shards split between them), the same wrk processes, half
                the tenants sent to each node regardless of which node writes them (a
                tenant-blind load balancer: about half the commands are forwarded);
  two_nodes_aware  the same, each tenant sent to the node that writes its shard;
  failover      two nodes; a probe posts to the survivor, for a tenant the other node writes,
                every 20 ms; the other node is SIGKILLed; the time from the kill to the first
                2xx answer (repeated R times).

Also reads opsbox_ledger_batches_failed_total (whole batches rolled back, e.g. by two nodes
writing one tenant) from /metrics after each run. Prints one JSON line per figure.

  cluster_bench.py --opsbox BIN --pg-url URL --wrk-lua bench/http_bench.lua
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "integration"))
from cluster_nodes import free_port, shard_of  # noqa: E402  (the ledger's shard function)


def psql(url, sql):
    return subprocess.run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                          check=True, capture_output=True, text=True).stdout


def post(port, tenant, key, ext, timeout=5):
    body = json.dumps({"source": "bench", "type": "probe", "external_id": ext,
                       "occurred_at": "2026-12-07T00:00:00Z", "payload": {}}).encode()
    req = urllib.request.Request("http://127.0.0.1:%d/api/v1/tenants/%s/external-events"
                                 % (port, tenant), data=body, method="POST",
                                 headers={"Content-Type": "application/json",
                                          "Authorization": "Bearer " + key})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


def metric(port, name):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
            for line in r.read().decode().splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[-1])
    except OSError:
        pass
    return 0.0


class Setup:
    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix="opsbox-clusterbench-")
        name = "opsbox_cb_" + uuid.uuid4().hex[:10]
        psql(args.pg_url, "CREATE DATABASE " + name)
        self.db = args.pg_url.rsplit("/", 1)[0] + "/" + name
        self.secret = os.path.join(self.dir, "cluster.secret")
        with open(self.secret, "w") as f:
            f.write(uuid.uuid4().hex * 2)
        self.base = os.path.join(self.dir, "base.toml")
        with open(self.base, "w") as f:
            f.write('data_dir = "%s"\n[database]\nwriter_shards = %d\n' % (self.dir, args.shards))
            f.write("[log]\nlevel = \"warn\"\n")
        self.tenants = ["bench%d" % i for i in range(args.tenants)]
        self.keys = {}
        for t in self.tenants:
            self.cli("admin", "create-tenant", "--tenant", t, "--name", t)
            out = self.cli("admin", "create-api-key", "--tenant", t, "--name", "wrk", "--role",
                           "admin")
            self.keys[t] = json.loads(out)["key"]

    def cli(self, *args):
        cmd = [self.args.opsbox] + list(args[:2]) + ["--db", self.db, "--config", self.base] + \
            list(args[2:])
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout

    def start(self, name, cluster):
        port = free_port()
        config = os.path.join(self.dir, name + ".toml")
        with open(self.base) as b, open(config, "w") as f:
            f.write(b.read())
            if cluster:
                f.write('[cluster]\nadvertise_url = "http://127.0.0.1:%d"\nsecret_file = "%s"\n'
                        'node_id = "%s"\nrebalance_interval_ms = %d\n'
                        % (port, self.secret, name, self.args.rebalance_ms))
        log = open(os.path.join(self.dir, name + ".log"), "a")
        proc = subprocess.Popen([self.args.opsbox, "serve", "--db", self.db, "--config", config,
                                 "--listen", "127.0.0.1:%d" % port], stdout=subprocess.PIPE,
                                stderr=log, text=True)
        line = proc.stdout.readline()
        if not line.startswith("listening on port "):
            proc.kill()
            sys.exit("node %s did not start: %r" % (name, line))
        return proc, port

    def owners(self):
        rows = psql(self.db, "SELECT shard, node_id FROM ledger_shard_owners")
        return {int(r.split("|")[0]): r.split("|")[1] for r in rows.split()}


def stop(proc, sig=signal.SIGTERM):
    proc.send_signal(sig)
    proc.wait(timeout=60)


def wait_balanced(ports, shards, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        owned = [metric(p, "opsbox_ledger_shards_owned") for p in ports]
        if sum(owned) == shards and max(owned) - min(owned) <= 1:
            return True
        time.sleep(0.1)
    return False


def run_wrk(args, setup, port_of_tenant, run_id):
    procs = []
    for t in setup.tenants:
        url = "http://127.0.0.1:%d/api/v1/tenants/%s/external-events" % (port_of_tenant[t], t)
        procs.append(subprocess.Popen(
            ["wrk", "-t1", "-c%d" % args.connections, "-d%ds" % args.seconds, "--latency",
             "-s", args.wrk_lua, url, "--", "post", setup.keys[t], "%s-%s" % (run_id, t)],
            stdout=subprocess.PIPE, text=True))
    total, errors, p99 = 0.0, 0, []
    for p in procs:
        out, _ = p.communicate()
        for line in out.splitlines():
            if line.startswith('{"wrk"'):
                d = json.loads(line)
                total += d["requests"] / (d["duration_us"] / 1e6)
                errors += d["errors_status"] + d["errors_connect"] + d["errors_timeout"]
                p99.append(d["p99_ms"])
    return total, errors, max(p99) if p99 else None


def throughput(args, setup):
    out = []
    for rep in range(args.repeats):
        proc, port = setup.start("single-%d" % rep, cluster=False)
        before = metric(port, "opsbox_ledger_batches_failed_total")
        rate, errors, p99 = run_wrk(args, setup, {t: port for t in setup.tenants}, "one%d" % rep)
        failed = metric(port, "opsbox_ledger_batches_failed_total") - before
        stop(proc)
        out.append({"figure": "one_node", "rep": rep, "commands_per_s": rate, "errors": errors,
                    "p99_ms_max": p99, "batches_failed": failed})
        print(json.dumps(out[-1]), flush=True)
        (a, pa), (b, pb) = setup.start("a%d" % rep, True), setup.start("b%d" % rep, True)
        if not wait_balanced([pa, pb], args.shards):
            sys.exit("the two nodes did not split the shards")
        owners = setup.owners()
        ports = {"a%d" % rep: pa, "b%d" % rep: pb}
        for figure, choose in (("two_nodes", lambda i, t: pa if i % 2 == 0 else pb),
                               ("two_nodes_aware",
                                lambda i, t: ports[owners[shard_of(t, args.shards)]])):
            before = sum(metric(p, "opsbox_ledger_batches_failed_total") for p in (pa, pb))
            fwd0 = sum(metric(p, "opsbox_ledger_commands_forwarded_total") for p in (pa, pb))
            target = {t: choose(i, t) for i, t in enumerate(setup.tenants)}
            rate, errors, p99 = run_wrk(args, setup, target, "%s%d" % (figure, rep))
            failed = sum(metric(p, "opsbox_ledger_batches_failed_total") for p in (pa, pb)) - before
            fwd = sum(metric(p, "opsbox_ledger_commands_forwarded_total") for p in (pa, pb)) - fwd0
            out.append({"figure": figure, "rep": rep, "commands_per_s": rate, "errors": errors,
                        "p99_ms_max": p99, "batches_failed": failed, "forwarded": fwd})
            print(json.dumps(out[-1]), flush=True)
        stop(a)
        stop(b)
    return out


def failover(args, setup):
    times = []
    for rep in range(args.failovers):
        (a, pa), (b, pb) = setup.start("fa%d" % rep, True), setup.start("fb%d" % rep, True)
        if not wait_balanced([pa, pb], args.shards):
            sys.exit("the two nodes did not split the shards")
        owners = setup.owners()
        tenant = next(t for t in setup.tenants if owners[shard_of(t, args.shards)] == "fa%d" % rep)
        assert post(pb, tenant, setup.keys[tenant], "warm-%d" % rep) in (200, 201)
        killed = time.perf_counter()
        stop(a, signal.SIGKILL)
        n = 0
        while True:
            n += 1
            status = post(pb, tenant, setup.keys[tenant], "fo-%d-%d" % (rep, n), timeout=15)
            if status in (200, 201):
                break
            if time.perf_counter() - killed > 60:
                sys.exit("no answer 60 s after the kill")
            time.sleep(0.02)
        times.append(time.perf_counter() - killed)
        print(json.dumps({"figure": "failover_one", "rep": rep, "seconds": times[-1]}), flush=True)
        stop(b)
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--opsbox", required=True)
    ap.add_argument("--pg-url", required=True)
    ap.add_argument("--wrk-lua", required=True)
    ap.add_argument("--tenants", type=int, default=8)
    ap.add_argument("--shards", type=int, default=8)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--failovers", type=int, default=3)
    ap.add_argument("--rebalance-ms", type=int, default=1000)
    args = ap.parse_args()
    setup = Setup(args)
    rows = throughput(args, setup)
    times = failover(args, setup)
    summary = {"figure": "summary", "tenants": args.tenants, "shards": args.shards,
               "connections_per_tenant": args.connections, "seconds": args.seconds,
               "repeats": args.repeats, "rebalance_ms": args.rebalance_ms,
               "failover_s": times, "failover_median_s": statistics.median(times)}
    for f in ("one_node", "two_nodes", "two_nodes_aware"):
        rs = [r for r in rows if r["figure"] == f]
        summary[f + "_median"] = statistics.median(r["commands_per_s"] for r in rs)
        summary[f + "_batches_failed"] = sum(r["batches_failed"] for r in rs)
        summary[f + "_errors"] = sum(r["errors"] for r in rs)
    ratios = {}
    for rep in range(args.repeats):
        one = next(r for r in rows if r["figure"] == "one_node" and r["rep"] == rep)
        for f in ("two_nodes", "two_nodes_aware"):
            two = next(r for r in rows if r["figure"] == f and r["rep"] == rep)
            ratios.setdefault(f, []).append(two["commands_per_s"] / one["commands_per_s"])
    for f, rs in ratios.items():
        summary[f + "_ratio_median"] = statistics.median(rs)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
