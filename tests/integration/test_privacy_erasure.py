"""Goal: data-subject requests, legal holds, erasure and key rotation through the real server:
the maker cannot approve their own erasure; a legal hold blocks it naming the hold until it is
released; deadlines are one calendar month and extend by at most two more; each route needs its
permission; the key file is created owner-only; personal data that intake sealed stays readable
across a key rotation and becomes unreadable after erasure while `ledger verify` still passes."""

import os
import stat

import harness

BASE = "/api/v1/tenants/acme/privacy"


class PrivacyErasure(harness.OpsboxTestCase):

    def setUp(self):
        super().setUp()
        self.maker = self.ops.create_api_key("acme", "compliance_officer")
        self.agent = self.ops.create_api_key("acme", "agent")
        self.auditor = self.ops.create_api_key("acme", "auditor")
        self.ops.start()

    def post(self, path, body, key, status):
        r = self.ops.request("POST", BASE + path, body, key=key)
        self.assertEqual(r.status, status, r.body)
        return r.json()

    def open_request(self, subject, kind="erasure", **extra):
        body = {"subject_id": subject, "kind": kind, "reason": "customer asked by e-mail"}
        body.update(extra)
        return self.post("/subject-requests", body, self.maker, 201)

    def test_erasure_needs_another_user_and_no_hold_and_keeps_the_ledger_verifiable(self):
        req = self.open_request("cus_it1")
        rid = req["request_id"]
        r = self.ops.request("POST", BASE + "/subject-requests/%s/approve" % rid, key=self.maker)
        p = self.assertProblem(r, 403, rule="maker_checker")
        self.assertIn("maker-checker", p["detail"])

        hold = self.post("/legal-holds", {"subject_id": "cus_it1/conv_9", "reason": "dispute",
                                          "case_ref": "CASE-7"}, self.key, 201)
        r = self.ops.request("POST", BASE + "/subject-requests/%s/approve" % rid, key=self.key)
        p = self.assertProblem(r, 409, rule="legal_hold")
        self.assertIn(hold["hold_id"], p["detail"])
        self.assertIn("CASE-7", p["detail"])
        r = self.ops.request("GET", BASE + "/legal-holds?active=true", key=self.auditor)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual([h["hold_id"] for h in r.json()["items"]], [hold["hold_id"]])

        self.post("/legal-holds/%s/release" % hold["hold_id"], {"reason": "settled"}, self.key,
                  200)
        done = self.post("/subject-requests/%s/approve" % rid, None, self.key, 200)
        self.assertEqual(done["status"], "done")
        r = self.ops.request("GET", BASE + "/subject-requests/" + rid, key=self.auditor)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["status"], "done")
        r = self.ops.request("POST", BASE + "/subject-requests/%s/approve" % rid, key=self.key)
        self.assertProblem(r, 409, rule="state")
        types = [e["type"] for e in self.ops.events("acme", self.key)]
        self.assertIn("subject_erased", types)
        self.ops.stop()
        self.assertEqual(self.ops.verify("acme").returncode, 0)

    def test_deadlines_are_one_calendar_month_and_extend_by_at_most_two(self):
        req = self.open_request("cus_it2", kind="access", received_at="2025-01-31T09:00:00Z")
        self.assertEqual(req["due_at"], "2025-02-28T09:00:00.000000Z")
        rid = req["request_id"]
        ext = self.post("/subject-requests/%s/extend" % rid,
                        {"extension_months": 2, "reason": "complex request"}, self.maker, 200)
        self.assertEqual(ext["due_at"], "2025-04-30T09:00:00.000000Z")
        r = self.ops.request("POST", BASE + "/subject-requests/%s/extend" % rid,
                             {"extension_months": 1, "reason": "more"}, key=self.maker)
        self.assertProblem(r, 400, field="extension_months", rule="extension_max")
        r = self.ops.request("GET", BASE + "/subject-requests?status=open", key=self.auditor)
        self.assertEqual(r.status, 200, r.body)
        item = r.json()["items"][0]
        self.assertTrue(item["overdue"])
        self.assertEqual(item["extended_months"], 2)
        r = self.ops.request("POST", BASE + "/subject-requests",
                             {"subject_id": "cus it", "kind": "erasure", "reason": "x"},
                             key=self.maker)
        self.assertProblem(r, 400, field="subject_id", rule="format")
        r = self.ops.request("POST", BASE + "/subject-requests",
                             {"subject_id": "cus_it", "kind": "forget", "reason": "x"},
                             key=self.maker)
        self.assertProblem(r, 400, field="kind", rule="enum")
        self.post("/subject-requests/%s/complete" % rid, {"note": "export sent"}, self.maker, 200)

    def test_each_route_needs_its_permission(self):
        r = self.ops.request("POST", BASE + "/subject-requests",
                             {"subject_id": "cus_x", "kind": "erasure", "reason": "x"},
                             key=self.agent)
        self.assertProblem(r, 403)
        self.assertProblem(self.ops.request("GET", BASE + "/subject-requests", key=self.agent),
                           403)
        self.assertProblem(self.ops.request("POST", BASE + "/keys/rotate", key=self.maker), 403)
        self.assertProblem(self.ops.request("POST", BASE + "/legal-holds",
                                            {"subject_id": "cus_x", "reason": "r",
                                             "case_ref": "c"}, key=self.auditor), 403)
        rotated = self.post("/keys/rotate", None, self.key, 201)
        self.assertEqual(rotated["kek_version"], 2)
        mode = os.stat(os.path.join(self.ops.dir, "privacy-keys.json")).st_mode
        self.assertEqual(stat.S_IMODE(mode), 0o600)

    def test_sealed_customer_data_survives_rotation_and_is_unreadable_after_erasure(self):
        name = "Zarina Quackenbush"
        r = self.ops.request("POST", "/api/v1/tenants/acme/channels/chat/messages",
                             {"provider_message_id": "m-erasure-1",
                              "from": {"external_id": "web-77", "name": name,
                                       "email": "zarina@example.com"},
                              "text": "please close my account"}, key=self.key)
        if r.status == 400 and (r.json() or {}).get("rule") == "unknown_command":
            self.skipTest("intake is not wired into this build")
        self.assertEqual(r.status, 200, r.body)
        customer = r.json()["items"][0]["customer_id"]
        live = harness.sql(self.ops.db, "SELECT COUNT(*) FROM privacy_subject_keys WHERE "
                                        "destroyed_at_us IS NULL").strip()
        self.assertGreater(int(live), 0)
        for e in self.ops.events("acme", self.key):
            self.assertNotIn(name, str(e["payload"]))

        rotated = self.post("/keys/rotate", None, self.key, 201)
        self.assertGreaterEqual(rotated["rewrapped"], 1)
        before = self.ops.request("GET", "/api/v1/tenants/acme/customers/" + customer,
                                  key=self.key)
        self.assertEqual(before.status, 200, before.body)
        self.assertNotIn("[erased]", before.body)

        rid = self.open_request(customer)["request_id"]
        done = self.post("/subject-requests/%s/approve" % rid, None, self.key, 200)
        self.assertEqual(done["status"], "done")
        r = self.ops.request("GET", BASE + "/subject-requests/" + rid, key=self.key)
        self.assertGreaterEqual(r.json()["keys_destroyed"], 1)
        after = self.ops.request("GET", "/api/v1/tenants/acme/customers/" + customer,
                                 key=self.key)
        self.assertNotIn(name, after.body)
        self.assertNotIn("zarina@example.com", after.body)
        self.ops.stop()
        self.assertEqual(self.ops.verify("acme").returncode, 0)


if __name__ == "__main__":
    import unittest
    unittest.main()
