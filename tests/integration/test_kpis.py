"""Goal: KPIs over HTTP on the real binary, on SQLite and PostgreSQL (issue #13): contacts routed
through the real routing service (created, offered, accepted, completed and wrapped up by an
agent; one cancelled while waiting) become figures in GET /kpis that equal what the ledger's own
events say (counts, ASA and AHT recomputed here from the events' instants); grouping by queue,
agent and day, the CSV export, the catalogue; bad parameters are refused naming the field and
rule; agents may not read KPIs; and POST /kpis/rebuild replays the ledger into the same
figures, recorded as a kpis_rebuilt event."""

import csv
import io
import time
import unittest

import harness
from harness import OpsboxTestCase, wait_for

T = "/api/v1/tenants/acme"
R = T + "/routing"
K = T + "/kpis"
BUCKET_S = 15 * 60


def rfc3339(s):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s))


class KpisTest(OpsboxTestCase):
    def setUp(self):
        super().setUp()
        self.ops.start()
        self.supervisor = self.ops.create_api_key("acme", "supervisor")
        self.agent = self.ops.create_api_key("acme", "agent")
        me = self.ops.request("GET", T + "/me", key=self.agent)
        self.agent_id = me.json()["actor_id"]
        for method, path, body in [
                ("PUT", "/workers/" + self.agent_id,
                 {"name": "Asha", "attributes": {}, "capacity": {"chat": 1, "voice": 1}}),
                ("PUT", "/queues/cards", {"name": "Cards", "target_expression": "true",
                                          "wrap_up_s": 60}),
                ("PUT", "/workflows/default",
                 {"filters": [], "default_filter": {"targets": [{"queue_id": "cards"}]}})]:
            r = self.ops.request(method, R + path, body, key=self.supervisor)
            self.assertEqual(r.status, 200, r.body)
        r = self.ops.request("POST", R + "/workers/me/activity", {"activity": "available"},
                             key=self.agent)
        self.assertEqual(r.status, 200, r.body)

    def route(self, method, path, body=None, key=None):
        r = self.ops.request(method, R + path, body, key=key or self.supervisor)
        self.assertIn(r.status, (200, 201), r.body)
        return r.json()

    def handle_one(self, intent):
        task = self.route("POST", "/tasks", {"channel": "chat", "attributes": {"intent": intent}})
        offer = wait_for(lambda: self.route("GET", "/me", key=self.agent)["reservations"])
        self.assertTrue(offer)
        self.route("POST", "/reservations/%s/accept" % offer[0]["reservation_id"], key=self.agent)
        self.route("POST", "/tasks/%s/complete" % task["task_id"], key=self.agent)
        self.route("POST", "/tasks/%s/wrap-up" % task["task_id"], key=self.agent)
        return task["task_id"]

    def window(self):
        now = int(time.time())
        start = now - now % BUCKET_S - 2 * BUCKET_S
        return rfc3339(start), rfc3339(start + 4 * BUCKET_S)

    def kpis(self, query, key=None):
        frm, to = self.window()
        r = self.ops.request("GET", "%s?from=%s&to=%s&%s" % (K, frm, to, query),
                             key=key or self.supervisor)
        self.assertEqual(r.status, 200, r.body)
        return r

    def expected_from_ledger(self):
        """ASA and AHT recomputed from the routing events' own instants."""
        events = self.ops.events("acme", self.key)
        created = {e["payload"]["task_id"]: e["payload"]["created_at_us"]
                   for e in events if e["type"] == "task_created"}
        accepted = {e["payload"]["task_id"]: e["payload"] for e in events
                    if e["type"] == "reservation_accepted"}
        completed = {e["payload"]["task_id"]: e["payload"]["at_us"] for e in events
                     if e["type"] == "task_completed"}
        wrapped = {e["payload"]["task_id"]: e["payload"]["at_us"] for e in events
                   if e["type"] == "task_wrapped_up"}
        waits = [a["wait_us"] for a in accepted.values()]
        handle = [wrapped[t] - accepted[t]["at_us"] for t in completed]
        return {"offered": len(created), "answered": len(accepted),
                "asa": round(sum(waits) / len(waits) / 1e6, 1),
                "aht": round(sum(handle) / len(handle) / 1e6, 1)}

    def counts_when_done(self):
        got = self.kpis("kpi=offered").json()["totals"]["counts"]
        return dict(got, offered=3, answered=2, abandoned=1, handled=2)

    def test_routed_contacts_become_figures_that_match_the_ledger(self):
        self.handle_one("card_arrival")
        self.handle_one("card_arrival")
        # The agent steps away; a third contact waits and is cancelled: an abandon.
        self.route("POST", "/workers/me/activity", {"activity": "offline"}, key=self.agent)
        waiting = self.route("POST", "/tasks", {"channel": "chat",
                                                "attributes": {"intent": "lost_card"}})
        self.route("POST", "/tasks/%s/cancel" % waiting["task_id"], {"reason": "customer_left"})
        want = self.expected_from_ledger()
        self.assertEqual(want["offered"], 3)
        # The aggregates follow the ledger within the aggregator's flush interval.
        self.assertTrue(wait_for(lambda: self.kpis("kpi=offered,answered,abandoned,handled")
                                 .json()["totals"]["counts"] == self.counts_when_done()))
        got = self.kpis("group_by=queue&kpi=offered,answered,abandoned,asa,aht,service_level,"
                        "abandonment_rate").json()
        self.assertEqual(len(got["rows"]), 1, got)
        cards = got["rows"][0]
        self.assertEqual(cards["queue"], "cards")
        self.assertEqual(cards["offered"], 3)
        self.assertEqual(cards["answered"], 2)
        self.assertEqual(cards["abandoned"], 1)
        self.assertEqual(cards["asa"], want["asa"])
        self.assertEqual(cards["aht"], want["aht"])
        self.assertAlmostEqual(cards["abandonment_rate"], round(1 / 3, 4))
        by_intent = {r["intent"]: r for r in
                     self.kpis("group_by=intent&kpi=offered").json()["rows"]}
        self.assertEqual(by_intent["card_arrival"]["offered"], 2)
        self.assertEqual(by_intent["lost_card"]["offered"], 1)
        by_agent = {r["agent"]: r for r in
                    self.kpis("group_by=agent&kpi=handled").json()["rows"]}
        self.assertEqual(by_agent[self.agent_id]["handled"], 2)
        self.assertEqual(by_agent[""]["handled"], 0)

        # CSV: the same figures, a header, one line per group.
        r = self.kpis("group_by=queue,day&kpi=offered,aht&format=csv&zone=Asia/Kolkata")
        self.assertTrue(r.header("Content-Type").startswith("text/csv"), r.header("Content-Type"))
        rows = list(csv.reader(io.StringIO(r.body)))
        self.assertEqual(rows[0], ["queue", "day", "offered", "aht"])
        self.assertEqual(sum(int(x[2]) for x in rows[1:]), 3)

        # Rebuild from the ledger: damaged aggregates come back to the same figures, and the
        # rebuild is on the ledger.
        admin_before = self.kpis("group_by=queue,agent,intent,interval").json()
        harness.sql(self.ops.db, "UPDATE kpi_intervals SET offered = offered + 100")
        self.assertNotEqual(self.kpis("group_by=queue,agent,intent,interval").json(), admin_before)
        r = self.ops.request("POST", K + "/rebuild", {}, key=self.key)
        self.assertEqual(r.status, 200, r.body)
        self.assertGreater(r.json()["through_seq"], 0)
        self.assertTrue(wait_for(lambda: self.kpis("group_by=queue,agent,intent,interval").json()
                                 == admin_before))
        self.assertTrue(any(e["type"] == "kpis_rebuilt" for e in self.ops.events("acme", self.key)))

    def test_the_catalogue_defines_every_kpi_the_query_serves(self):
        cat = self.ops.request("GET", K + "/catalogue", key=self.supervisor).json()
        ids = [k["id"] for k in cat["items"]]
        self.assertIn("service_level_excl_short_abandons", ids)
        self.assertEqual(cat["interval_minutes"], 15)
        got = self.kpis("").json()
        self.assertEqual(got["kpis"], ids)
        self.assertEqual(got["totals"]["offered"], 0)
        self.assertIsNone(got["totals"]["aht"])

    def test_bad_parameters_name_the_field_and_rule_and_agents_cannot_read(self):
        frm, to = self.window()
        cases = [
            ("from=2026-12-07T10:05:00Z&to=" + to, "from", "interval_boundary"),
            ("from=%s" % frm, "to", "required"),
            ("from=%s&to=%s&group_by=team" % (frm, to), "group_by", "enum"),
            ("from=%s&to=%s&kpi=nps" % (frm, to), "kpi", "catalogue"),
            ("from=%s&to=%s&zone=Mars/Olympus" % (frm, to), "zone", "known_zone"),
            ("from=%s&to=%s&format=xlsx" % (frm, to), "format", "enum"),
        ]
        for query, field, rule in cases:
            r = self.ops.request("GET", K + "?" + query, key=self.supervisor)
            self.assertProblem(r, 400, field, rule)
        r = self.ops.request("GET", "%s?from=%s&to=%s" % (K, frm, to), key=self.agent)
        self.assertProblem(r, 403, rule="permission")
        r = self.ops.request("POST", K + "/rebuild", {}, key=self.supervisor)
        self.assertProblem(r, 403, rule="permission")
        r = self.ops.request("POST", K + "/rebuild", {"since": 1}, key=self.key)
        self.assertProblem(r, 400, "body", "empty_object")


if __name__ == "__main__":
    unittest.main()
