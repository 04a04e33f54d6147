"""Goal: routing over HTTP on the real binary, on SQLite and PostgreSQL: a supervisor defines a
worker, a queue and the default workflow; a task created through the API is offered to the
available agent without polling by the server (the offer appears in GET /routing/me); the agent
accepts, completes and wraps up; the statistics count the answer; malformed input is refused
naming the field and rule; and a restart keeps the waiting task and its offer."""

import unittest

from harness import OpsboxTestCase, wait_for

R = "/api/v1/tenants/acme/routing"


class RoutingTest(OpsboxTestCase):
    def setUp(self):
        super().setUp()
        self.ops.start()
        self.supervisor = self.ops.create_api_key("acme", "supervisor")
        self.agent = self.ops.create_api_key("acme", "agent")
        me = self.ops.request("GET", "/api/v1/tenants/acme/me", key=self.agent)
        self.assertEqual(me.status, 200, me.body)
        self.agent_id = me.json()["actor_id"]

    def call(self, method, path, body=None, key=None):
        return self.ops.request(method, R + path, body, key=key or self.supervisor)

    def configure(self):
        r = self.call("PUT", "/workers/" + self.agent_id,
                      {"name": "Asha", "attributes": {"skills": {"billing": 4}, "languages": ["en"]},
                       "capacity": {"chat": 1, "voice": 1}})
        self.assertEqual(r.status, 200, r.body)
        r = self.call("PUT", "/queues/billing",
                      {"name": "Billing", "target_expression": "worker.skills.billing >= 2",
                       "worker_selection": "longest_idle", "wrap_up_s": 60})
        self.assertEqual(r.status, 200, r.body)
        r = self.call("PUT", "/workflows/default",
                      {"filters": [], "default_filter": {"targets": [{"queue_id": "billing"}]}})
        self.assertEqual(r.status, 200, r.body)
        r = self.call("POST", "/workers/me/activity", {"activity": "available"}, key=self.agent)
        self.assertEqual(r.status, 200, r.body)

    def offer(self):
        def pending():
            me = self.call("GET", "/me", key=self.agent)
            self.assertEqual(me.status, 200, me.body)
            return me.json()["reservations"]
        return wait_for(pending)

    def test_agent_accepts_completes_and_wraps_up_while_stats_count_it(self):
        self.configure()
        r = self.call("POST", "/tasks", {"channel": "chat", "attributes": {"topic": "card"}})
        self.assertEqual(r.status, 201, r.body)
        task_id = r.json()["task_id"]
        offers = self.offer()
        self.assertEqual(len(offers), 1, offers)
        self.assertEqual(offers[0]["task_id"], task_id)
        res = offers[0]["reservation_id"]
        # The supervisor's key is not the agent: it may accept for anyone (routing.manage).
        r = self.call("POST", "/reservations/%s/accept" % res, key=self.agent)
        self.assertEqual(r.status, 200, r.body)
        r = self.call("GET", "/tasks/" + task_id)
        self.assertEqual(r.json()["status"], "assigned")
        r = self.call("POST", "/tasks/%s/complete" % task_id, key=self.agent)
        self.assertEqual(r.status, 200, r.body)
        me = self.call("GET", "/me", key=self.agent).json()
        self.assertEqual(me["activity"], "wrap_up")
        r = self.call("POST", "/tasks/%s/wrap-up" % task_id, key=self.agent)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.call("GET", "/tasks/" + task_id).json()["status"], "completed")
        self.assertEqual(self.call("GET", "/me", key=self.agent).json()["activity"], "available")
        stats = self.call("GET", "/stats").json()
        self.assertEqual(stats["type"], "queue_stats")
        billing = [q for q in stats["queues"] if q["queue_id"] == "billing"][0]
        self.assertEqual(billing["answered"], 1)
        self.assertEqual(billing["offered"], 1)
        self.assertEqual(billing["waiting"], 0)
        self.assertEqual(billing["agents"]["available"], 1)

    def test_malformed_input_names_the_field_and_rule(self):
        r = self.call("PUT", "/queues/bad", {"target_expression": "skills.billing >"})
        self.assertProblem(r, 400, field="target_expression", rule="syntax")
        r = self.call("POST", "/workers/me/activity", {"activity": "napping"}, key=self.agent)
        self.assertIn(r.status, (400, 404), r.body)
        r = self.call("POST", "/tasks", {"channel": "chat"})
        self.assertProblem(r, 409, rule="no_workflow")
        r = self.call("POST", "/workers/usr_other/activity", {"activity": "available"},
                      key=self.agent)
        self.assertProblem(r, 403)

    def test_restart_keeps_the_waiting_task_and_its_offer(self):
        self.configure()
        r = self.call("POST", "/tasks", {"channel": "voice", "attributes": {}})
        self.assertEqual(r.status, 201, r.body)
        task_id = r.json()["task_id"]
        first = self.offer()
        self.assertEqual(first[0]["task_id"], task_id)
        self.ops.stop()
        self.ops.start()
        again = self.offer()
        self.assertEqual([o["reservation_id"] for o in again],
                         [o["reservation_id"] for o in first])
        r = self.call("POST", "/reservations/%s/accept" % first[0]["reservation_id"],
                      key=self.agent)
        self.assertEqual(r.status, 200, r.body)


if __name__ == "__main__":
    unittest.main()
