"""Goal: privacy governance through the real server: consent given allows and withdrawn denies
per purpose and channel (also after a restart, from the reloaded in-memory index); unmasking
needs the permission, a known record type and field, and a reason; break-glass grants are listed
for review and cannot be reviewed by their grantee; retention enforces the DPDP minimum for
logs, a dry run is recorded and changes nothing; the reports answer for privacy.read only."""

import harness

BASE = "/api/v1/tenants/acme"


class PrivacyGovernance(harness.OpsboxTestCase):

    def setUp(self):
        super().setUp()
        self.compliance = self.ops.create_api_key("acme", "compliance_officer")
        self.lead = self.ops.create_api_key("acme", "team_lead")
        self.agent = self.ops.create_api_key("acme", "agent")
        self.ops.start()

    def consent(self, action, purpose, channel, key=None):
        path = BASE + "/customers/cus_it1/consents" + ("/withdraw" if action == "withdraw" else "")
        body = {"purpose": purpose, "channel": channel, "source": "ivr",
                "notice_version": "2026-01", "evidence": "rec_1"}
        r = self.ops.request("POST", path, body, key=key or self.agent)
        self.assertEqual(r.status, 201, r.body)
        return r.json()

    def check(self, purpose, channel):
        r = self.ops.request("GET", BASE + "/consent/check?customer_id=cus_it1&purpose=%s"
                             "&channel=%s" % (purpose, channel), key=self.agent)
        self.assertEqual(r.status, 200, r.body)
        return r.json()["allowed"]

    def test_consent_given_allows_and_withdrawn_denies_per_purpose_and_channel(self):
        self.assertFalse(self.check("marketing", "whatsapp"))
        self.assertEqual(self.consent("give", "marketing", "whatsapp")["status"], "granted")
        self.consent("give", "service", "sms")
        self.assertTrue(self.check("marketing", "whatsapp"))
        self.assertFalse(self.check("marketing", "sms"))
        self.consent("withdraw", "marketing", "whatsapp")
        self.assertFalse(self.check("marketing", "whatsapp"))
        self.assertTrue(self.check("service", "sms"))
        r = self.ops.request("GET", BASE + "/customers/cus_it1/consents", key=self.agent)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(len(r.json()["history"]), 3)
        # The in-memory index is rebuilt from the projection at start-up.
        self.ops.stop()
        self.ops.start()
        self.assertFalse(self.check("marketing", "whatsapp"))
        self.assertTrue(self.check("service", "sms"))

    def test_consent_input_errors_name_the_field(self):
        r = self.ops.request("POST", BASE + "/customers/cus_it1/consents",
                             {"purpose": "spam", "channel": "sms", "source": "ivr",
                              "notice_version": "1"}, key=self.agent)
        self.assertProblem(r, 400, field="purpose", rule="enum")
        r = self.ops.request("GET", BASE + "/consent/check?customer_id=cus_it1&purpose=service"
                             "&channel=fax", key=self.agent)
        self.assertProblem(r, 400, field="channel")

    def test_unmask_needs_permission_known_field_and_reason(self):
        body = {"record_type": "no_such_type", "record_id": "x_1", "field": "phone",
                "reason": "customer verification call"}
        r = self.ops.request("POST", BASE + "/privacy/unmask", body, key=self.agent)
        self.assertProblem(r, 403)
        r = self.ops.request("POST", BASE + "/privacy/unmask", body, key=self.lead)
        self.assertProblem(r, 400, field="record_type", rule="unknown_record_type")
        types = [e["type"] for e in self.ops.events("acme", self.key)]
        self.assertNotIn("field_unmasked", types)

    def test_break_glass_is_listed_and_reviewed_by_someone_else(self):
        r = self.ops.request("POST", BASE + "/privacy/break-glass",
                             {"reason": "suspected account takeover", "duration_min": 15},
                             key=self.compliance)
        self.assertEqual(r.status, 201, r.body)
        grant = r.json()["grant_id"]
        r = self.ops.request("GET", BASE + "/privacy/break-glass", key=self.compliance)
        self.assertEqual(r.status, 200, r.body)
        grants = r.json()["grants"]
        self.assertEqual([g["grant_id"] for g in grants], [grant])
        self.assertFalse(grants[0]["can_review"])
        review = {"outcome": "justified", "notes": "confirmed"}
        r = self.ops.request("POST", BASE + "/privacy/break-glass/%s/review" % grant, review,
                             key=self.compliance)
        self.assertProblem(r, 403, rule="reviewer_is_grantee")
        other = self.ops.create_api_key("acme", "compliance_officer")
        r = self.ops.request("POST", BASE + "/privacy/break-glass/%s/review" % grant, review,
                             key=other)
        self.assertEqual(r.status, 200, r.body)
        r = self.ops.request("GET", BASE + "/privacy/break-glass", key=other)
        self.assertEqual(r.json()["grants"], [])
        r = self.ops.request("POST", BASE + "/privacy/break-glass",
                             {"reason": "too long a window", "duration_min": 241}, key=self.lead)
        self.assertProblem(r, 400, field="duration_min", rule="range")

    def test_retention_minimum_dry_run_and_reports(self):
        r = self.ops.request("PUT", BASE + "/privacy/retention-policies/access_log",
                             {"retain_days": 30, "action": "anonymise"}, key=self.compliance)
        p = self.assertProblem(r, 400, field="retain_days")
        self.assertIn("dpdp_rules_2025", p["rule"])
        r = self.ops.request("PUT", BASE + "/privacy/retention-policies/access_log",
                             {"retain_days": 400, "action": "anonymise"}, key=self.compliance)
        self.assertEqual(r.status, 200, r.body)
        r = self.ops.request("POST", BASE + "/privacy/retention-runs", {"dry_run": True},
                             key=self.compliance)
        self.assertEqual(r.status, 201, r.body)
        run = r.json()
        self.assertTrue(run["dry_run"])
        self.assertEqual(run["items"][0]["record_type"], "access_log")
        r = self.ops.request("GET", BASE + "/privacy/retention-runs", key=self.compliance)
        self.assertEqual([x["run_id"] for x in r.json()["runs"]], [run["run_id"]])
        types = [e["type"] for e in self.ops.events("acme", self.key)]
        self.assertNotIn("retention_applied", types)
        for report in ("access-review", "unmasks", "sensitive-data-exceptions", "erasures",
                       "retention-runs"):
            r = self.ops.request("GET", BASE + "/privacy/reports/" + report, key=self.compliance)
            self.assertEqual(r.status, 200, report + ": " + r.body)
            r = self.ops.request("GET", BASE + "/privacy/reports/" + report, key=self.agent)
            self.assertProblem(r, 403)
        r = self.ops.request("GET", BASE + "/privacy/reports/access-review", key=self.compliance)
        keys = {k["name"]: k for k in r.json()["api_keys"]}
        self.assertIn("key-compliance_officer", keys)
        self.assertIsNotNone(keys["key-compliance_officer"]["last_used_at"])


if __name__ == "__main__":
    import unittest
    unittest.main()
