"""Goal: maker-checker approvals over HTTP on the real binary, on SQLite and PostgreSQL: a request
answers 201 pending; the maker can never check it (403 self_approval); a checker whose limit
does not cover the amount is refused (403 limit_exceeded), at the limit it passes; a checker
without the permission gets 403 permission; approving runs the action exactly once in the same
command (one approval_action_ran, a second approve is 409 not_pending); a rejection needs a
reason and runs nothing; the checker's roles cannot be smuggled in the body."""

import unittest

from harness import OpsboxTestCase

A = "/api/v1/tenants/acme/approvals"
LIMIT = 1000000  # approvals::kDefaultCheckLimitMinor, INR


class ApprovalsTest(OpsboxTestCase):
    def setUp(self):
        super().setUp()
        self.ops.start()
        self.maker = self.ops.create_api_key("acme", "supervisor")
        self.checker = self.ops.create_api_key("acme", "supervisor")
        self.agent = self.ops.create_api_key("acme", "agent")

    def ask(self, amount, key=None, action="refund"):
        r = self.ops.request("POST", A, {"action": action, "amount_minor": amount, "currency": "INR",
                                         "target": "case_01ABC", "reason": "charged twice"},
                             key=key or self.maker)
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["status"], "pending")
        return r.json()["approval_id"]

    def approve(self, approval_id, key, body=None):
        return self.ops.request("POST", "%s/%s/approve" % (A, approval_id), body, key=key)

    def action_events(self, approval_id):
        return [e for e in self.ops.events("acme", self.key)
                if e["type"] == "approval_action_ran" and e["payload"]["approval_id"] == approval_id]

    def test_the_maker_can_never_check_their_own_request(self):
        approval_id = self.ask(5000)
        self.assertProblem(self.approve(approval_id, self.maker), 403, "approval_id", "self_approval")
        r = self.ops.request("POST", "%s/%s/reject" % (A, approval_id), {"reason": "changed my mind"},
                             key=self.maker)
        self.assertProblem(r, 403, "approval_id", "self_approval")
        self.assertEqual(self.ops.request("GET", A + "/" + approval_id, key=self.maker)
                         .json()["status"], "pending")

    def test_the_checkers_limit_must_cover_the_amount(self):
        over = self.ask(LIMIT + 1)
        self.assertProblem(self.approve(over, self.checker), 403, "amount_minor", "limit_exceeded")
        at = self.ask(LIMIT)
        self.assertEqual(self.approve(at, self.checker).status, 200)
        self.assertProblem(self.approve(self.ask(1), self.agent), 403, rule="permission")

    def test_approving_runs_the_action_exactly_once_in_the_same_command(self):
        approval_id = self.ask(25000)
        r = self.approve(approval_id, self.checker)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["status"], "approved")
        ran = self.action_events(approval_id)
        self.assertEqual(len(ran), 1)
        approved = [e for e in self.ops.events("acme", self.key) if e["type"] == "request_approved"]
        self.assertEqual(approved[0]["command_id"], ran[0]["command_id"])
        self.assertEqual(ran[0]["payload"]["amount_minor"], 25000)
        self.assertProblem(self.approve(approval_id, self.key), 409, rule="not_pending")
        self.assertEqual(len(self.action_events(approval_id)), 1)
        got = self.ops.request("GET", A + "/" + approval_id, key=self.agent).json()
        self.assertEqual(got["status"], "approved")
        self.assertTrue(got["checker"].startswith("key_"))

    def test_a_rejection_needs_a_reason_and_runs_nothing(self):
        approval_id = self.ask(100)
        r = self.ops.request("POST", "%s/%s/reject" % (A, approval_id), {}, key=self.checker)
        self.assertProblem(r, 400, "reason", "required")
        r = self.ops.request("POST", "%s/%s/reject" % (A, approval_id),
                             {"reason": "no double charge found"}, key=self.checker)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.action_events(approval_id), [])
        listed = self.ops.request("GET", A + "?status=rejected", key=self.agent).json()["items"]
        self.assertEqual([i["approval_id"] for i in listed], [approval_id])

    def test_bad_requests_name_the_field_and_the_rule(self):
        r = self.ops.request("POST", A, {"action": "free_money", "amount_minor": 1, "currency": "INR",
                                         "target": "x", "reason": "why not"}, key=self.maker)
        self.assertProblem(r, 400, "action", "unknown_action")
        r = self.ops.request("POST", A, {"action": "refund", "amount_minor": 1, "currency": "rupees",
                                         "target": "x", "reason": "why not"}, key=self.maker)
        self.assertProblem(r, 400, "currency", "max_bytes")
        approval_id = self.ask(1)
        r = self.approve(approval_id, self.checker, {"checker_roles": ["admin"]})
        self.assertProblem(r, 400, "checker_roles", "unknown_field")
        self.assertProblem(self.approve("apr_nope", self.checker), 404)


if __name__ == "__main__":
    unittest.main()
