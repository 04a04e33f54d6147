"""Goal: two opsbox nodes on one PostgreSQL share the ledger writer shards through advisory
locks (ledger/cluster.hpp): each writes about half of the shards, a command sent to the node
that does not write its tenant's shard is forwarded to the one that does, an agent connected to
one node is offered a task that arrived through the other (the routing engine and the live
stream follow the ledger through LISTEN/NOTIFY), and after one node is SIGKILLed under load the
survivor takes its shards over: every acknowledged command is in the ledger exactly once,
`ledger verify` passes, and the survivor serves the dead node's tenants. On SQLite, clustering
is refused at start-up naming the key."""

import json
import os
import signal
import subprocess
import threading
import time
import unittest
import uuid

import cluster_nodes
import harness
from test_stream import WsClient

SHARDS = 4


def shard_of(tenant):
    return cluster_nodes.shard_of(tenant, SHARDS)


class Node:
    """One `opsbox serve` process of the cluster on a fixed loopback port."""

    def __init__(self, ops, name, secret_file):
        self.ops = ops
        self.name = name
        self.port = cluster_nodes.free_port()
        self.config = os.path.join(ops.dir, name + ".toml")
        with open(ops.config) as base, open(self.config, "w") as f:
            f.write(base.read())
            f.write("\n[database]\nwriter_shards = %d\n" % SHARDS)
            f.write('[cluster]\nadvertise_url = "http://127.0.0.1:%d"\n' % self.port)
            f.write('secret_file = "%s"\nnode_id = "%s"\n' % (secret_file, name))
            f.write("rebalance_interval_ms = 200\n")
        self.log = os.path.join(ops.dir, name + ".log")
        self.proc = None

    def start(self):
        with open(self.log, "a") as logf:
            self.proc = subprocess.Popen(
                [harness.BIN, "serve", "--db", self.ops.db, "--config", self.config, "--listen",
                 "127.0.0.1:%d" % self.port], stdout=subprocess.PIPE, stderr=logf, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening on port "):
            self.proc.kill()
            with open(self.log) as f:
                raise AssertionError("node %s did not start: %r\n%s" % (self.name, line, f.read()))

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.proc = None

    def stop(self):
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
            self.proc.stdout.close()
            self.proc = None

    def request(self, method, path, body=None, key=None, headers=None, timeout=30):
        saved = self.ops.port
        self.ops.port = self.port
        try:
            return self.ops.request(method, path, body, key=key, headers=headers, timeout=timeout)
        finally:
            self.ops.port = saved

    def gauge(self, name):
        r = self.request("GET", "/metrics")
        for line in r.body.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.split()[-1])
        return None


@unittest.skipIf(harness.BACKEND == "sqlite", "several nodes need PostgreSQL")
class TwoNodesOnOnePostgres(harness.OpsboxTestCase):
    def setUp(self):
        super().setUp()
        secret_file = os.path.join(self.ops.dir, "cluster.secret")
        with open(secret_file, "w") as f:
            f.write(uuid.uuid4().hex + uuid.uuid4().hex + "\n")
        # Tenants on every shard, so both nodes write some of them.
        self.tenants = []
        seen = set()
        for i in range(64):
            t = "t%d" % i
            if shard_of(t) not in seen or len(self.tenants) < 6:
                seen.add(shard_of(t))
                self.tenants.append(t)
            if len(seen) == SHARDS and len(self.tenants) >= 6:
                break
        self.keys = {"acme": self.key}
        for t in self.tenants:
            self.ops.create_tenant(t)
            self.keys[t] = self.ops.create_api_key(t, "admin")
        self.a = Node(self.ops, "node-a", secret_file)
        self.b = Node(self.ops, "node-b", secret_file)
        self.addCleanup(self.b.stop)
        self.addCleanup(self.a.stop)
        self.a.start()
        self.b.start()
        balanced = harness.wait_for(
            lambda: self.a.gauge("opsbox_ledger_shards_owned") == SHARDS / 2
            and self.b.gauge("opsbox_ledger_shards_owned") == SHARDS / 2, timeout=20)
        self.assertTrue(balanced, "shards did not split between the nodes: %s %s" % (
            self.a.gauge("opsbox_ledger_shards_owned"), self.b.gauge("opsbox_ledger_shards_owned")))

    def owners(self):
        rows = harness.sql(self.ops.db, "SELECT shard, node_id FROM ledger_shard_owners")
        return {int(r.split("|")[0]): r.split("|")[1] for r in rows.split()}

    def post_event(self, node, tenant, external_id):
        return node.request("POST", "/api/v1/tenants/%s/external-events" % tenant,
                            harness.external_event(external_id), key=self.keys[tenant],
                            headers={"Idempotency-Key": "k-" + external_id}, timeout=20)

    def test_a_command_sent_to_either_node_is_written_once_by_the_shards_owner(self):
        owners = self.owners()
        self.assertEqual(sorted(set(owners.values())), ["node-a", "node-b"], owners)
        for t in self.tenants:
            for node in (self.a, self.b):
                r = self.post_event(node, t, "%s-%s" % (t, node.name))
                self.assertIn(r.status, (200, 201), r.body)
        forwarded = (self.a.gauge("opsbox_ledger_commands_forwarded_total") or 0) + \
            (self.b.gauge("opsbox_ledger_commands_forwarded_total") or 0)
        self.assertGreaterEqual(forwarded, len(self.tenants), "each tenant had one foreign node")
        for t in self.tenants:
            self.assertEqual(self.ops.verify(t).returncode, 0, self.ops.verify(t).stdout)

    def test_an_agent_on_one_node_is_offered_a_task_that_arrived_through_the_other(self):
        owners = self.owners()
        tenant = next(t for t in self.tenants if owners[shard_of(t)] == "node-a")
        admin = self.keys[tenant]
        agent = self.ops.create_api_key(tenant, "agent")
        me = self.b.request("GET", "/api/v1/tenants/%s/me" % tenant, key=agent)
        self.assertEqual(me.status, 200, me.body)
        worker = me.json()["actor_id"]
        base = "/api/v1/tenants/%s/routing" % tenant
        for path, body in (("/workers/" + worker, {"name": "Ann", "attributes": {"languages": ["en"]},
                                              "capacity": {"chat": 1}}),
                           ("/queues/support", {"name": "Support", "target_expression": "true"}),
                           ("/workflows/default",
                            {"default_filter": {"targets": [{"queue_id": "support"}]}})):
            r = self.a.request("PUT", base + path, body, key=admin)
            self.assertEqual(r.status, 200, r.body)
        c = WsClient(self.b.port, "/api/v1/tenants/%s/stream" % tenant,
                     {"Authorization": "Bearer " + agent})
        self.addCleanup(c.close)
        self.assertEqual(c.status, 101, c.head)
        c.send_json({"subscribe": ["my_reservations"]})
        self.assertEqual(c.read_json()["type"], "subscribed")
        r = self.b.request("POST", base + "/workers/me/activity", {"activity": "available"},
                           key=agent)
        self.assertEqual(r.status, 200, r.body)
        task = self.a.request("POST", base + "/tasks", {"channel": "chat", "attributes": {}},
                              key=admin)
        self.assertEqual(task.status, 201, task.body)
        offer = c.read_until(lambda m: m.get("type") == "reservation")
        self.assertEqual((offer["task_id"], offer["status"]),
                         (task.json()["task_id"], "pending"))

    def test_after_one_node_is_killed_under_load_the_survivor_keeps_every_acknowledged_command(self):
        owners = self.owners()
        a_tenants = [t for t in self.tenants if owners[shard_of(t)] == "node-a"]
        acked = {}  # (tenant, external_id) -> node that acknowledged it
        lock = threading.Lock()
        stop = threading.Event()
        killed_at = []
        survivor_served_a = []

        def load(worker, first_node):
            n = 0
            while not stop.is_set():
                t = self.tenants[n % len(self.tenants)]
                ext = "w%d-%d" % (worker, n)
                n += 1
                nodes = [first_node, self.b] if first_node is self.a else [self.b]
                deadline = time.time() + 20
                done = False
                while not done and time.time() < deadline:
                    for node in nodes:
                        if node is self.a and killed_at:
                            continue
                        try:
                            r = self.post_event(node, t, ext)
                        except OSError:
                            continue
                        if r.status in (200, 201):
                            with lock:
                                acked[(t, ext)] = node.name
                                if killed_at and t in a_tenants and not survivor_served_a:
                                    survivor_served_a.append(time.time() - killed_at[0])
                            done = True
                            break
                    if not done:
                        time.sleep(0.05)

        threads = [threading.Thread(target=load, args=(i, self.a if i % 2 else self.b))
                   for i in range(4)]
        for th in threads:
            th.start()
        harness.wait_for(lambda: len(acked) >= 100, timeout=30)
        killed_at.append(time.time())
        self.a.kill()
        harness.wait_for(lambda: survivor_served_a, timeout=30)
        harness.wait_for(lambda: len(acked) >= 200, timeout=30)
        stop.set()
        for th in threads:
            th.join()
        self.assertTrue(a_tenants)
        self.assertTrue(survivor_served_a, "the survivor never served the dead node's tenants")
        print("failover: first command of a dead node's tenant acknowledged by the survivor "
              "%.2f s after SIGKILL" % survivor_served_a[0])
        self.assertEqual(self.b.gauge("opsbox_ledger_shards_owned"), SHARDS)
        rows = harness.sql(self.ops.db, "SELECT tenant_id, payload FROM ledger_events "
                                        "WHERE type = 'external_event_recorded'")
        counts = {}
        for line in rows.splitlines():
            tenant, payload = line.split("|", 1)
            key = (tenant, json.loads(payload)["external_id"])
            counts[key] = counts.get(key, 0) + 1
        for key in acked:
            self.assertEqual(counts.get(key), 1, "acknowledged %s is in the ledger %s times"
                             % (key, counts.get(key)))
        self.assertFalse([k for k, n in counts.items() if n != 1], "duplicates in the ledger")
        for t in self.tenants:
            v = self.ops.verify(t)
            self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        for t in a_tenants:
            r = self.post_event(self.b, t, t + "-after")
            self.assertEqual(r.status, 201, r.body)


@unittest.skipIf(harness.BACKEND != "sqlite", "the SQLite refusal")
class ClusteringOnSqlite(harness.OpsboxTestCase):
    config_text = '[cluster]\nadvertise_url = "http://127.0.0.1:9"\n'

    def test_start_up_is_refused_naming_the_key(self):
        secret = os.path.join(self.ops.dir, "cluster.secret")
        with open(secret, "w") as f:
            f.write("x" * 40)
        with open(self.ops.config, "a") as f:
            f.write('secret_file = "%s"\n' % secret)
        with self.assertRaises(AssertionError) as ctx:
            self.ops.start()
        self.assertIn("cluster.advertise_url", str(ctx.exception))


if __name__ == "__main__":
    unittest.main()
