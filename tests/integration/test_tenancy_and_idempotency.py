"""Goal: every query is scoped to the tenant in the path (another tenant's objects answer 404),
and a retried command returns its first result without a second event."""

import harness


class TenancyAndIdempotency(harness.OpsboxTestCase):
    def setUp(self):
        super().setUp()
        self.ops.create_tenant("globex")
        self.other_key = self.ops.create_api_key("globex", "admin")
        self.ops.start()

    def test_another_tenants_objects_answer_404(self):
        r = self.ops.request("POST", "/api/v1/tenants/acme/external-events",
                             harness.external_event("p-1"), key=self.key)
        self.assertEqual(r.status, 201, r.body)
        xid = r.json()["external_event_id"]
        seq = int(r.header("Opsbox-Ledger-Seq"))
        # The other tenant's key cannot see acme's routes at all ...
        for path in ["/api/v1/tenants/acme/external-events/" + xid,
                     "/api/v1/tenants/acme/events/%d" % seq, "/api/v1/tenants/acme/me",
                     "/api/v1/tenants/acme/events"]:
            self.assertProblem(self.ops.request("GET", path, key=self.other_key), 404)
        # ... and in its own tenant the object does not exist.
        self.assertProblem(self.ops.request(
            "GET", "/api/v1/tenants/globex/external-events/" + xid, key=self.other_key), 404)
        listed = self.ops.request("GET", "/api/v1/tenants/globex/external-events",
                                  key=self.other_key).json()
        self.assertEqual(listed["items"], [])
        # A write with acme's key to globex's path is refused as not found, and writes nothing.
        before = len(self.ops.events("globex", self.other_key))
        self.assertProblem(self.ops.request("POST", "/api/v1/tenants/globex/external-events",
                                            harness.external_event("p-2"), key=self.key), 404)
        self.assertEqual(len(self.ops.events("globex", self.other_key)), before)

    def test_missing_or_bad_credentials_answer_401(self):
        self.assertProblem(self.ops.request("GET", "/api/v1/tenants/acme/me"), 401)
        self.assertProblem(self.ops.request("GET", "/api/v1/tenants/acme/me", key="obx_nope"), 401)
        forged = self.key[:-4] + ("AAAA" if not self.key.endswith("AAAA") else "BBBB")
        self.assertProblem(self.ops.request("GET", "/api/v1/tenants/acme/me", key=forged), 401)

    def test_a_role_without_the_permission_gets_403(self):
        agent_key = self.ops.create_api_key("acme", "agent")
        p = self.assertProblem(self.ops.request("POST", "/api/v1/tenants/acme/external-events",
                                                harness.external_event("p-3"), key=agent_key),
                               403, rule="permission")
        self.assertIn("external_events.write", p["detail"])
        auditor = self.ops.create_api_key("acme", "auditor")
        self.assertEqual(self.ops.request("GET", "/api/v1/tenants/acme/events",
                                          key=auditor).status, 200)
        self.assertProblem(self.ops.request("POST", "/api/v1/tenants/acme/api-keys",
                                            {"name": "x", "roles": ["admin"]}, key=auditor), 403)

    def test_retry_with_the_same_idempotency_key_returns_the_first_result(self):
        headers = {"Idempotency-Key": "retry-1"}
        first = self.ops.request("POST", "/api/v1/tenants/acme/external-events",
                                 harness.external_event("p-9"), key=self.key, headers=headers)
        self.assertEqual(first.status, 201, first.body)
        count = len(self.ops.events("acme", self.key))
        again = self.ops.request("POST", "/api/v1/tenants/acme/external-events",
                                 harness.external_event("p-9"), key=self.key, headers=headers)
        self.assertEqual(again.status, 200, again.body)
        self.assertEqual(again.header("Idempotent-Replayed"), "true")
        self.assertEqual(again.json()["external_event_id"], first.json()["external_event_id"])
        self.assertEqual(len(self.ops.events("acme", self.key)), count)
        # The same key for a different request is a conflict, not a silent replay.
        other = self.ops.request("POST", "/api/v1/tenants/acme/api-keys",
                                 {"name": "n", "roles": ["agent"]}, key=self.key, headers=headers)
        self.assertProblem(other, 409, rule="idempotency_key_reused")

    def test_the_same_external_fact_is_recorded_once(self):
        body = harness.external_event("p-10")
        self.assertEqual(self.ops.request("POST", "/api/v1/tenants/acme/external-events", body,
                                          key=self.key).status, 201)
        count = len(self.ops.events("acme", self.key))
        body["payload"] = {"amount_minor": 1}  # a resend with a different body
        again = self.ops.request("POST", "/api/v1/tenants/acme/external-events", body, key=self.key)
        self.assertEqual(again.status, 200, again.body)
        self.assertEqual(again.json()["payload"]["amount_minor"], 125000)
        self.assertEqual(len(self.ops.events("acme", self.key)), count)

    def test_revoked_key_stops_working_at_once(self):
        created = self.ops.request("POST", "/api/v1/tenants/acme/api-keys",
                                   {"name": "temp", "roles": ["auditor"]}, key=self.key)
        self.assertEqual(created.status, 201, created.body)
        temp = created.json()["key"]
        self.assertEqual(self.ops.request("GET", "/api/v1/tenants/acme/me", key=temp).status, 200)
        listed = self.ops.request("GET", "/api/v1/tenants/acme/api-keys", key=self.key)
        self.assertNotIn(temp, listed.body)  # the secret is shown once only
        r = self.ops.request("DELETE", "/api/v1/tenants/acme/api-keys/" + created.json()["key_id"],
                             key=self.key)
        self.assertEqual(r.status, 200, r.body)
        self.assertProblem(self.ops.request("GET", "/api/v1/tenants/acme/me", key=temp), 401)


if __name__ == "__main__":
    import unittest
    unittest.main()
