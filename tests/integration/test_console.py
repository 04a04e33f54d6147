"""Goal: the server side of the console (issue #10) holds on SQLite and PostgreSQL: every console
path (a deep link or a reload) answers the console's page with its Content-Security-Policy, and
other paths still answer 404 problems; GET /me lists the permissions the roles give, so the
console shows only what they allow; POST /routing/expressions/validate answers with the routing
engine's own verdict (a problem naming the field, the column and the rule), records nothing, and
needs routing.manage."""

import harness


class Console(harness.OpsboxTestCase):
    def setUp(self):
        super().setUp()
        self.ops.start()

    def test_every_console_path_answers_the_console_page_and_others_stay_404(self):
        home = self.ops.request("GET", "/")
        self.assertEqual(home.status, 200)
        for path in ["/home", "/desktop", "/wallboard", "/wfm", "/workforce", "/audit/12",
                     "/customers/cust_01ABC", "/settings/api-keys", "/sign-in",
                     "/conversations/conv_1/messages", "/cases", "/cases/case_01ABC"]:
            page = self.ops.request("GET", path)
            self.assertEqual(page.status, 200, path)
            self.assertEqual(page.body, home.body, path)
            self.assertIn("default-src 'self'", page.header("Content-Security-Policy"))
        for path in ["/nothing-here", "/api/v1", "/api/v1/nothing", "/settings/a/b/c"]:
            self.assertProblem(self.ops.request("GET", path), 404)
        self.assertEqual(self.ops.request("GET", "/healthz").json()["status"], "ok")
        self.assertEqual(self.ops.request("GET", "/app.css").status, 200)

    def test_me_lists_the_permissions_of_the_roles(self):
        agent = self.ops.create_api_key("acme", "agent")
        me = self.ops.request("GET", "/api/v1/tenants/acme/me", key=agent).json()
        self.assertIn("routing.work", me["permissions"])
        self.assertNotIn("api_keys.manage", me["permissions"])
        self.assertNotIn("users.read", me["permissions"])
        admin = self.ops.request("GET", "/api/v1/tenants/acme/me", key=self.key).json()
        self.assertIn("api_keys.manage", admin["permissions"])

    def test_expressions_are_validated_by_the_routing_compiler_without_a_record(self):
        path = "/api/v1/tenants/acme/routing/expressions/validate"
        agent = self.ops.create_api_key("acme", "agent")
        before = self.ops.events("acme", self.key)
        ok = self.ops.request("POST", path, {"expression": "language == 'en' AND priority > 2"},
                              key=self.key)
        self.assertEqual(ok.status, 200, ok.body)
        self.assertEqual(ok.json(), {"valid": True})
        bad = self.assertProblem(self.ops.request("POST", path, {"expression": "language = 'en'"},
                                                  key=self.key), 400, field="expression")
        self.assertTrue(bad["detail"].startswith("column 10: "), bad)
        # routing::kExpressionTextBytesMax = 4096 bytes: at the limit, then one past it.
        at_limit = " " * 4092 + "true"
        self.assertEqual(self.ops.request("POST", path, {"expression": at_limit},
                                          key=self.key).status, 200)
        self.assertProblem(self.ops.request("POST", path, {"expression": " " + at_limit},
                                            key=self.key), 400, field="expression")
        self.assertProblem(self.ops.request("POST", path, {"text": "true"}, key=self.key), 400)
        self.assertProblem(self.ops.request("POST", path, {"expression": "true"}, key=agent), 403)
        self.assertEqual(len(self.ops.events("acme", self.key)), len(before))


if __name__ == "__main__":
    import unittest
    unittest.main()
