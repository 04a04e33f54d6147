"""Goal (issue #9): the server keeps serving under abuse. Request budgets answer 429 with
Retry-After and a problem exactly one past the budget, per API key, session, client address and
provider; forged provider webhooks cannot grow the ledger at line rate (one event per source,
channel and minute, carrying the count); long computations cannot starve sign-ins."""

import json
import subprocess
import threading
import time

import harness

T = "/api/v1/tenants/acme"
PASSWORD = "correct horse battery staple 9"


def spend_until_refused(send, limit_burst, limit_per_s, attempts_max=200):
    """Sends until the first 429. Returns (successes, first refusal, elapsed seconds). A bucket
    refills while the requests run, so the successes lie between the burst and the burst plus
    what refilled in the elapsed time."""
    started = time.monotonic()
    ok = 0
    for _ in range(attempts_max):
        r = send()
        if r.status == 429:
            return ok, r, time.monotonic() - started
        ok += 1
    raise AssertionError("no 429 after %d requests (burst %d)" % (attempts_max, limit_burst))


class RequestBudgets(harness.OpsboxTestCase):
    config_text = ("[rate_limit]\napi_key_per_s = 1\napi_key_burst = 5\n"
                   "session_per_s = 1\nsession_burst = 4\n"
                   "address_per_s = 1\naddress_burst = 6\n"
                   "provider_per_s = 1\nprovider_burst = 3\n")

    def setUp(self):
        super().setUp()
        self.ops.create_user("acme", "alice", PASSWORD, "supervisor")
        self.other_key = self.ops.create_api_key("acme", "admin")
        self.ops.start()

    def assertRefusedAtTheEdge(self, ok, refused, elapsed, burst, per_s, what):
        self.assertGreaterEqual(ok, burst, "%s: refused before its burst" % what)
        self.assertLessEqual(ok, burst + int(elapsed * per_s) + 1,
                             "%s: more than the burst plus the refill" % what)
        self.assertProblem(refused, 429, rule="rate_limit")
        self.assertGreaterEqual(int(refused.header("Retry-After")), 1, refused.headers)
        self.assertIn(what, refused.json()["detail"])

    def test_an_api_key_gets_its_burst_then_429_while_another_key_is_served(self):
        ok, refused, elapsed = spend_until_refused(
            lambda: self.ops.request("GET", T + "/me", key=self.key), 5, 1)
        self.assertRefusedAtTheEdge(ok, refused, elapsed, 5, 1, "API key")
        self.assertEqual(self.ops.request("GET", T + "/me", key=self.other_key).status, 200)

    def test_a_session_gets_its_burst_then_429(self):
        r = self.ops.request("POST", T + "/sessions", {"username": "alice", "password": PASSWORD},
                             source="127.0.0.21")
        self.assertEqual(r.status, 201, r.body)
        cookie = r.header("Set-Cookie").split(";")[0]
        ok, refused, elapsed = spend_until_refused(
            lambda: self.ops.request("GET", T + "/me", headers={"Cookie": cookie}), 4, 1)
        self.assertRefusedAtTheEdge(ok, refused, elapsed, 4, 1, "session")

    def test_unauthenticated_requests_spend_their_address_budget_and_probes_are_exempt(self):
        ok, refused, elapsed = spend_until_refused(
            lambda: self.ops.request("GET", "/api/v1/version", source="127.0.0.22"), 6, 1)
        self.assertRefusedAtTheEdge(ok, refused, elapsed, 6, 1, "client address")
        # Guessing credentials from that address is refused too; another address is served.
        bad = self.ops.request("GET", T + "/me", key="obx_not_a_key", source="127.0.0.22")
        self.assertProblem(bad, 429, rule="rate_limit")
        self.assertEqual(self.ops.request("GET", "/api/v1/version", source="127.0.0.23").status,
                         200)
        for _ in range(20):
            self.assertEqual(self.ops.request("GET", "/healthz", source="127.0.0.22").status, 200)

    def test_provider_webhooks_have_a_budget_of_their_own(self):
        def forged():
            return self.ops.request("POST", T + "/channels/whatsapp/webhook", raw=b"{}",
                                    headers={"Content-Type": "application/json",
                                             "X-Hub-Signature-256": "sha256=" + "0" * 64},
                                    source="127.0.0.24")
        ok, refused, elapsed = spend_until_refused(forged, 3, 1)
        self.assertRefusedAtTheEdge(ok, refused, elapsed, 3, 1, "provider webhook address")
        # The address's ordinary budget is untouched.
        self.assertEqual(self.ops.request("GET", "/api/v1/version", source="127.0.0.24").status,
                         200)


class ForgedWebhooks(harness.OpsboxTestCase):
    def setUp(self):
        super().setUp()
        self.ops.start()
        r = self.ops.request("PUT", T + "/channels/whatsapp/config",
                             {"settings": {"phone_number_id": "1122334455667"},
                              "secrets": {"verify_token": "v", "app_secret": "s",
                                          "access_token": "a"}}, key=self.key)
        self.assertEqual(r.status, 200, r.body)

    def rejections(self):
        return [e for e in self.ops.events("acme", self.key)
                if e["type"] == "channel_signature_rejected"]

    def test_a_thousand_forged_requests_add_at_most_a_handful_of_events(self):
        conn_source = "127.0.0.31"
        for i in range(1000):
            r = self.ops.request("POST", T + "/channels/whatsapp/webhook",
                                 raw=json.dumps({"n": i}).encode(),
                                 headers={"Content-Type": "application/json",
                                          "X-Hub-Signature-256": "sha256=" + "1" * 64},
                                 source=conn_source)
            self.assertEqual(r.status, 401, r.body)
        events = self.rejections()
        # One when the first forgery came, one more for each minute boundary the run crossed.
        self.assertGreaterEqual(len(events), 1)
        self.assertLessEqual(len(events), 3, events)
        self.assertEqual(events[0]["payload"]["count"], 1)
        self.assertEqual(events[0]["payload"]["remote_address"], conn_source)
        metrics = self.ops.request("GET", "/metrics").body
        line = [l for l in metrics.splitlines()
                if l.startswith("opsbox_channel_signatures_rejected_total")]
        self.assertTrue(line, metrics[:2000])
        self.assertEqual(float(line[0].split()[-1]), 1000.0)
        # Stopping records what was counted but not yet recorded: the counts add up.
        self.assertEqual(self.ops.stop(), 0)
        exported = self.ops.cli("ledger", "export", "--tenant", "acme").stdout.splitlines()
        counts = [json.loads(l)["payload"]["count"] for l in exported
                  if json.loads(l)["type"] == "channel_signature_rejected"]
        self.assertEqual(sum(counts), 1000)
        self.assertLessEqual(len(counts), 4)
        self.assertEqual(self.ops.verify("acme").returncode, 0)


def hard_roster_problem():
    """A two-week roster at 15-minute intervals for 40 agents with weekly rules and breaks: CBC
    does not prove it optimal within the test's time limit, so a solve holds its thread."""
    days, per_day = 14, 96
    required = []
    for d in range(days):
        for k in range(per_day):
            hour = k / 4
            base = 0 if hour < 7 or hour >= 22 else (12 + (7 * d + 3 * k) % 9)
            required.append(base)
    templates = []
    for length in (360, 480, 540):
        templates.append({
            "id": "t%d" % length, "earliest_start_min": 420, "latest_start_min": 1320 - length,
            "start_step_min": 15, "length_min": length, "cost_per_shift": 50,
            "cost_per_paid_hour": 10 + length % 7,
            "breaks": [{"name": "b1", "length_min": 15, "earliest_offset_min": 90,
                        "latest_offset_min": 150},
                       {"name": "lunch", "length_min": 30, "earliest_offset_min": 180,
                        "latest_offset_min": 240, "paid": False}]})
    agents = [{"id": "a%02d" % i} for i in range(40)]
    return {"days": days, "interval_min": 15,
            "requirements": [{"skill": "default", "agents_per_interval": required}],
            "templates": templates, "agents": agents,
            "rules": {"max_working_days_per_week": 5, "min_consecutive_days_off": 2,
                      "min_rest_min": 660}}


class LongWorkDoesNotStarveSignIns(harness.OpsboxTestCase):
    config_text = "[server]\ncompute_threads = 2\n"

    def setUp(self):
        super().setUp()
        self.ops.create_user("acme", "alice", PASSWORD, "supervisor")
        self.planner = self.ops.create_api_key("acme", "wfm_planner")
        self.ops.start()

    def test_two_long_schedule_solves_running_and_a_login_still_answers(self):
        problem = hard_roster_problem()
        done = []

        def solve():
            r = self.ops.request("POST", T + "/wfm/schedules",
                                 {"queue": "cards", "start_date": "2026-03-23",
                                  "problem": problem, "time_limit_s": 5},
                                 key=self.planner, timeout=120)
            done.append((time.monotonic(), r.status, r.body[:300]))

        solvers = [threading.Thread(target=solve) for _ in range(2)]
        for s in solvers:
            s.start()
        # Let both solves reach the compute pool (not an assertion on time: the check below is
        # on order, the login's answer against the solves').
        time.sleep(1.0)
        self.assertEqual(done, [], "a solve finished before the login was sent: %r" % done)
        login = self.ops.request("POST", T + "/sessions",
                                 {"username": "alice", "password": PASSWORD})
        answered_at = time.monotonic()
        self.assertEqual(login.status, 201, login.body)
        for s in solvers:
            s.join()
        self.assertEqual(len(done), 2)
        for finished_at, status, body in done:
            self.assertIn(status, (200, 201), body)
            self.assertGreater(finished_at, answered_at,
                               "the login waited for a solve: it shares their threads")


if __name__ == "__main__":
    import unittest
    unittest.main()
