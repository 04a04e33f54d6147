"""Goal: no command answered 2xx is ever lost. SIGKILL during a burst of commands, then a
restart: every acknowledged command is in the ledger and `ledger verify` passes. SIGTERM
during a burst: the server stops accepting, answers what it took, and exits 0."""

import signal
import threading
import time

import harness


def burst(ops, key, prefix, threads=16, stop_after=None):
    """Posts external events from `threads` threads until told to stop or the server goes
    away. Returns (acknowledged external ids, number of attempts)."""
    acked, lock, stop = [], threading.Lock(), threading.Event()
    attempts = [0]

    def worker(n):
        i = 0
        while not stop.is_set():
            xid = "%s-%d-%d" % (prefix, n, i)
            i += 1
            try:
                r = ops.request("POST", "/api/v1/tenants/acme/external-events",
                                harness.external_event(xid), key=key, timeout=10)
            except OSError:
                return  # server gone
            with lock:
                attempts[0] += 1
                if r.status == 201:
                    acked.append(xid)
            if stop_after and attempts[0] >= stop_after:
                stop.set()

    ts = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in ts:
        t.start()
    return ts, stop, acked, attempts


class CrashAndShutdown(harness.OpsboxTestCase):
    def test_sigkill_during_a_burst_loses_no_acknowledged_command(self):
        self.ops.start()
        ts, stop, acked, _ = burst(self.ops, self.key, "kill")
        harness.wait_for(lambda: len(acked) >= 300, timeout=60)
        self.ops.proc.send_signal(signal.SIGKILL)
        self.ops.proc.wait()
        self.ops.proc.stdout.close()
        self.ops.proc = None
        stop.set()
        for t in ts:
            t.join()
        self.assertGreaterEqual(len(acked), 300)
        self.ops.start()
        listed = set()
        after = ""
        while True:
            r = self.ops.request("GET", "/api/v1/tenants/acme/external-events?limit=1000" +
                                 ("&after=" + after if after else ""), key=self.key)
            page = r.json()
            listed.update(item["external_id"] for item in page["items"])
            if not page["next_cursor"]:
                break
            after = page["next_cursor"]
        missing = [x for x in acked if x not in listed]
        self.assertEqual(missing, [], "acknowledged commands lost after SIGKILL")
        self.ops.stop()
        v = self.ops.verify("acme")
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)

    def test_sigterm_finishes_in_flight_commands_and_exits_cleanly(self):
        self.ops.start()
        ts, stop, acked, _ = burst(self.ops, self.key, "term", threads=8)
        harness.wait_for(lambda: len(acked) >= 100, timeout=60)
        rc = self.ops.stop(signal.SIGTERM)
        stop.set()
        for t in ts:
            t.join()
        log = self.ops.read_log()
        self.assertEqual(rc, 0, log[-2000:])
        self.assertIn("stopped", log)
        v = self.ops.verify("acme")
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.ops.start()
        events = self.ops.events("acme", self.key)
        recorded = {e["payload"].get("external_id") for e in events
                    if e["type"] == "external_event_recorded"}
        self.assertTrue(set(acked) <= recorded)
        # Every event appended before the shutdown is covered by a signed checkpoint.
        cp = self.ops.request("GET", "/api/v1/tenants/acme/ledger/checkpoint", key=self.key).json()
        self.assertGreaterEqual(cp["tree_size"], len(events))


if __name__ == "__main__":
    import unittest
    unittest.main()
