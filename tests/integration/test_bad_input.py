"""Goal: bad input gets a 4xx problem naming the field and the rule, and writes nothing."""

import harness


class BadInput(harness.OpsboxTestCase):
    config_text = "[server]\nbody_bytes_max = 4096\n"

    def setUp(self):
        super().setUp()
        self.ops.start()
        self.path = "/api/v1/tenants/acme/external-events"

    def count(self):
        return len(self.ops.events("acme", self.key))

    def test_each_kind_of_bad_input_is_named_and_nothing_is_written(self):
        before = self.count()
        cases = [
            (dict(raw=b'{"source": "x",', headers={"Content-Type": "application/json"}),
             400, "body", "json_syntax"),
            (dict(raw=b'{"source": "\xff"}', headers={"Content-Type": "application/json"}),
             400, "body", "utf8"),
            (dict(raw=b'{"a":1,"a":2}', headers={"Content-Type": "application/json"}),
             400, "body", "duplicate_key"),
            (dict(raw=b"[1,2]", headers={"Content-Type": "application/json"}), 400, "body", "type"),
            (dict(raw=b"source=x", headers={"Content-Type": "application/x-www-form-urlencoded"}),
             415, "Content-Type", "media_type"),
            (dict(body=dict(harness.external_event("b-1"), colour="red")), 400, "colour",
             "unknown_field"),
            (dict(body=dict(harness.external_event("b-2"), source=7)), 400, "source", "type"),
            (dict(body={k: v for k, v in harness.external_event("b-3").items() if k != "type"}),
             400, "type", "required"),
            (dict(body=dict(harness.external_event("b-4"), occurred_at="yesterday")), 400,
             "occurred_at", "rfc3339"),
            (dict(body=dict(harness.external_event("b-5"), occurred_at="2099-01-01T00:00:00Z")),
             400, "occurred_at", "future"),
            (dict(body=dict(harness.external_event("b-6"), payload=[1])), 400, "payload", "type"),
            (dict(body=dict(harness.external_event("b-7"), source="Bad Source")), 400, "source",
             "format"),
            (dict(raw=b'{"x":"' + b"a" * 5000 + b'"}', headers={"Content-Type": "application/json"}),
             413, "body", "max_bytes"),
        ]
        for kwargs, status, field, rule in cases:
            with self.subTest(field=field, rule=rule):
                r = self.ops.request("POST", self.path, key=self.key, **kwargs)
                self.assertProblem(r, status, field=field, rule=rule)
        self.assertEqual(self.count(), before)


class PayloadLimit(harness.OpsboxTestCase):
    def setUp(self):
        super().setUp()
        self.ops.start()

    def test_payload_at_the_limit_is_accepted_and_one_byte_over_is_refused(self):
        limit = 64 * 1024
        overhead = len('{"d":""}')
        ok = harness.external_event("lim-1", payload={"d": "a" * (limit - overhead)})
        r = self.ops.request("POST", "/api/v1/tenants/acme/external-events", ok, key=self.key)
        self.assertEqual(r.status, 201, r.body[:300])
        over = harness.external_event("lim-2", payload={"d": "a" * (limit - overhead + 1)})
        r = self.ops.request("POST", "/api/v1/tenants/acme/external-events", over, key=self.key)
        self.assertProblem(r, 400, field="payload", rule="max_bytes")

    def test_unknown_routes_and_methods_are_problems(self):
        self.assertProblem(self.ops.request("GET", "/api/v1/nope"), 404)
        r = self.ops.request("PUT", "/api/v1/tenants/acme/external-events", key=self.key)
        self.assertProblem(r, 405)
        self.assertIn("POST", r.header("Allow"))

    def test_page_limits_are_checked_at_the_edge(self):
        base = "/api/v1/tenants/acme/events?limit="
        self.assertEqual(self.ops.request("GET", base + "1000", key=self.key).status, 200)
        self.assertProblem(self.ops.request("GET", base + "1001", key=self.key), 400,
                           field="limit", rule="range")
        self.assertProblem(self.ops.request("GET", base + "0", key=self.key), 400, field="limit")


if __name__ == "__main__":
    import unittest
    unittest.main()
