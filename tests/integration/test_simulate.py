"""Goal: `opsbox simulate` drives a real server (SQLite and PostgreSQL) through its public API
only: a short run creates tasks through the chat intake API and POST /routing/tasks, its agents
accept, complete and wrap them up, and the ledger and the queue statistics show it; the run
leaves its agents offline and its API keys revoked; re-running reuses the same queue."""

import collections
import re
import subprocess
import unittest

from harness import BIN, OpsboxTestCase

T = "/api/v1/tenants/acme"


class SimulateTest(OpsboxTestCase):
    def setUp(self):
        super().setUp()
        self.ops.start()

    def simulate(self, *extra):
        cmd = [BIN, "simulate", "--url", "http://127.0.0.1:%d" % self.ops.port, "--tenant", "acme",
               "--api-key", self.key, "--rate-per-min", "600", "--agents", "4",
               "--handle-s-mean", "0.5", "--wrap-up-s", "0.2", "--seed", "1"] + list(extra)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        m = re.search(r"^sim total: (.*)$", r.stdout, re.M)
        self.assertIsNotNone(m, r.stdout)
        return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))}, r.stdout

    def get(self, path):
        r = self.ops.request("GET", T + path, key=self.key)
        self.assertEqual(r.status, 200, r.body)
        return r.json()

    def test_a_short_run_creates_accepts_and_completes_tasks_and_a_rerun_reuses_the_queue(self):
        totals, out = self.simulate("--duration-s", "5", "--channels", "chat,email,voice")
        for counter in ("arrivals", "accepted", "completed"):
            self.assertGreater(totals[counter], 0, out)

        types = collections.Counter(e["type"] for e in self.ops.events("acme", self.key))
        self.assertGreater(types["message_received"], 0, types)  # chat went through intake
        self.assertGreater(types["conversation_opened"], 0, types)
        self.assertGreaterEqual(types["task_created"], totals["arrivals"], types)
        self.assertEqual(types["reservation_accepted"], totals["accepted"], types)
        self.assertEqual(types["task_completed"], totals["completed"], types)
        self.assertEqual(types["task_wrapped_up"], totals["completed"], types)

        queues = [q for q in self.get("/routing/stats")["queues"] if q["queue_id"] == "sim"]
        self.assertEqual(len(queues), 1)
        self.assertGreater(queues[0]["offered"], 0)
        self.assertGreater(queues[0]["answered"], 0)
        self.assertEqual(queues[0]["agents"]["offline"], 4, queues[0])

        keys = [k for k in self.get("/api-keys?limit=1000")["items"]
                if k["name"].startswith("sim-")]
        self.assertEqual(len(keys), 5)  # four agents and the intake key
        self.assertTrue(all(k["revoked"] for k in keys), keys)

        # A re-run reuses the queue and the workflow and runs cleanly.
        totals, out = self.simulate("--duration-s", "1", "--flat", "--channels", "email")
        self.assertGreater(totals["arrivals"], 0, out)
        self.assertEqual(totals["errors"], 0, out)
        self.assertEqual([q["queue_id"] for q in self.get("/routing/queues")["items"]], ["sim"])

    def test_setup_fails_with_a_key_that_cannot_administer(self):
        agent = self.ops.create_api_key("acme", "agent")
        r = subprocess.run([BIN, "simulate", "--url", "http://127.0.0.1:%d" % self.ops.port,
                            "--tenant", "acme", "--api-key", agent, "--duration-s", "1"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("setup failed", r.stdout)


if __name__ == "__main__":
    unittest.main()
