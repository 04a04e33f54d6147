"""Goal: client contracts and invoices over HTTP on the real binary, on SQLite and PostgreSQL
(issue #13): an admin sets the contract for the current month (a past month is refused, so past
invoices never change); contacts routed through the real routing service become the invoice's
usage (seats, productive hours, contacts) from the KPI aggregates; a missed KPI target costs its
penalty and every figure links to the KPI query behind it; the invoice is the same when asked
again and after a new contract version for a later month; CSV and HTML render the same totals;
only billing.read may read it and only admins set the contract."""

import time
import unittest

from harness import OpsboxTestCase, wait_for

T = "/api/v1/tenants/acme"
B = T + "/billing"
R = T + "/routing"


def this_month():
    return time.strftime("%Y-%m", time.gmtime())


def next_month(m):
    y, mo = int(m[:4]), int(m[5:])
    return "%04d-%02d" % (y + mo // 12, mo % 12 + 1)


class BillingTest(OpsboxTestCase):
    def setUp(self):
        super().setUp()
        self.ops.start()
        self.supervisor = self.ops.create_api_key("acme", "supervisor")
        self.agent = self.ops.create_api_key("acme", "agent")
        self.agent_id = self.ops.request("GET", T + "/me", key=self.agent).json()["actor_id"]

    def contract(self, month, **extra):
        body = {"client_name": "Acme Bank", "currency": "INR", "zone": "UTC",
                "effective_month": month,
                "pricing": {"per_seat_minor": 6000000, "per_contact_minor": 1250},
                "targets": [{"kpi": "service_level", "op": ">=", "target": 0.8},
                            {"kpi": "handled", "op": ">=", "target": 1000}]}
        body.update(extra)
        return self.ops.request("PUT", B + "/contract", body, key=self.key)

    def route_one(self):
        def call(method, path, body=None, key=None):
            r = self.ops.request(method, R + path, body, key=key or self.supervisor)
            self.assertIn(r.status, (200, 201), r.body)
            return r.json()
        task = call("POST", "/tasks", {"channel": "chat", "attributes": {}})
        offer = wait_for(lambda: call("GET", "/me", key=self.agent)["reservations"])
        call("POST", "/reservations/%s/accept" % offer[0]["reservation_id"], key=self.agent)
        call("POST", "/tasks/%s/complete" % task["task_id"], key=self.agent)
        call("POST", "/tasks/%s/wrap-up" % task["task_id"], key=self.agent)

    def invoice(self, month, fmt="json", key=None):
        r = self.ops.request("GET", "%s/invoices/%s?format=%s" % (B, month, fmt),
                             key=key or self.supervisor)
        self.assertEqual(r.status, 200, r.body)
        return r

    def test_the_invoice_is_computed_from_the_ledger_and_never_changes_afterwards(self):
        month = this_month()
        r = self.contract(month)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["version"], 1)
        for method, path, body in [
                ("PUT", "/workers/" + self.agent_id,
                 {"name": "Asha", "attributes": {}, "capacity": {"chat": 1}}),
                ("PUT", "/queues/cards", {"name": "Cards", "target_expression": "true"}),
                ("PUT", "/workflows/default",
                 {"filters": [], "default_filter": {"targets": [{"queue_id": "cards"}]}}),
                ("POST", "/workers/me/activity", {"activity": "available"})]:
            r = self.ops.request(method, R + path, body,
                                 key=self.agent if "activity" in path else self.supervisor)
            self.assertEqual(r.status, 200, r.body)
        self.route_one()
        self.route_one()
        inv = wait_for(lambda: (lambda j: j if j["usage"]["contacts"] == 2 else None)(
            self.invoice(month).json()))
        self.assertIsNotNone(inv, "the aggregates caught up")
        self.assertEqual(inv["usage"]["seats"], 1)
        lines = {l["item"]: l for l in inv["lines"]}
        self.assertEqual(lines["seats"]["amount_minor"], 6000000)
        self.assertEqual(lines["contacts"]["amount_minor"], 2500)
        self.assertEqual(inv["subtotal_minor"], 6002500)
        # Answered at once: the service level target is met; 2 handled of 1,000 misses.
        by_kpi = {t["kpi"]: t for t in inv["targets"]}
        self.assertTrue(by_kpi["service_level"]["met"], by_kpi)
        self.assertFalse(by_kpi["handled"]["met"])
        self.assertEqual(by_kpi["handled"]["actual"], 2)
        self.assertEqual(inv["penalty_bp"], 100)
        self.assertEqual(inv["penalty_minor"], 60025)
        self.assertEqual(inv["total_minor"], 6002500 - 60025)
        self.assertIn("/kpis?from=", by_kpi["service_level"]["evidence"])
        for kpi in ("service_level", "handled"):
            evidence = self.ops.request("GET", by_kpi[kpi]["evidence"], key=self.supervisor)
            self.assertEqual(evidence.status, 200, evidence.body)
            self.assertEqual(evidence.json()["totals"][kpi], by_kpi[kpi]["actual"])

        # Reproducible: asked again, and after a new version for next month, the same.
        self.assertEqual(self.invoice(month).json(), inv)
        r = self.contract(next_month(month), pricing={"per_seat_minor": 9000000})
        self.assertEqual(r.json()["version"], 2)
        self.assertEqual(self.invoice(month).json(), inv)
        self.assertEqual(self.invoice(next_month(month)).json()["contract_version"], 2)

        csv = self.invoice(month, "csv")
        self.assertTrue(csv.header("Content-Type").startswith("text/csv"))
        self.assertIn("total,,,,%d," % inv["total_minor"], csv.body)
        html = self.invoice(month, "html")
        self.assertTrue(html.header("Content-Type").startswith("text/html"))
        self.assertIn("Acme Bank", html.body)
        self.assertIn("<dd>59424.75 INR</dd>", html.body)
        self.assertTrue(any(e["type"] == "contract_set" for e in self.ops.events("acme", self.key)))

    def test_bad_contracts_and_months_name_the_field_and_who_may_do_what(self):
        r = self.contract("2020-01")
        self.assertProblem(r, 400, "contract.effective_month", "not_past")
        r = self.contract(this_month(), currency="rupees")
        self.assertProblem(r, 400, "contract.currency", "iso4217")
        r = self.contract(this_month(), targets=[{"kpi": "nps", "op": ">=", "target": 1}])
        self.assertProblem(r, 400, "contract.targets[0].kpi", "catalogue")
        r = self.ops.request("GET", B + "/invoices/" + this_month(), key=self.supervisor)
        self.assertProblem(r, 404)
        r = self.ops.request("GET", B + "/invoices/2026-13", key=self.supervisor)
        self.assertProblem(r, 400, "month", "format")
        self.assertEqual(self.contract(this_month()).status, 200)
        r = self.ops.request("GET", B + "/invoices/%s?format=pdf" % this_month(), key=self.supervisor)
        self.assertProblem(r, 400, "format", "enum")
        r = self.ops.request("GET", B + "/invoices/" + this_month(), key=self.agent)
        self.assertProblem(r, 403, rule="permission")
        r = self.ops.request("PUT", B + "/contract", {"client_name": "x"}, key=self.supervisor)
        self.assertProblem(r, 403, rule="permission")
        versions = self.ops.request("GET", B + "/contract", key=self.supervisor).json()["items"]
        self.assertEqual([v["version"] for v in versions], [1])
        self.assertTrue(versions[0]["set_by"].startswith("key_"))


if __name__ == "__main__":
    unittest.main()
