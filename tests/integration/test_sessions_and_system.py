"""Goal: browser sessions work as a bank's security team expects (HttpOnly SameSite=Strict
cookie, CSRF token on unsafe methods, lockout after repeated failures, every attempt on the
ledger), and the operational endpoints answer: health, readiness, Prometheus metrics, the
OpenAPI document and the web page. With metrics.bearer_token_file set, /metrics answers only
the bearer of that token, and a token file that cannot be read stops start-up (issue #9)."""

import json
import os
import subprocess

import harness

PASSWORD = "correct horse battery staple"


class Sessions(harness.OpsboxTestCase):
    config_text = "[login]\nfailures_max = 3\nlockout_s = 600\n"

    def setUp(self):
        super().setUp()
        self.ops.create_user("acme", "alice", PASSWORD, "supervisor", "admin")
        self.ops.start()

    def login(self, password, username="alice"):
        return self.ops.request("POST", "/api/v1/tenants/acme/sessions",
                                {"username": username, "password": password})

    def test_login_sets_a_strict_httponly_cookie_and_csrf_guards_writes(self):
        r = self.login(PASSWORD)
        self.assertEqual(r.status, 201, r.body)
        cookie = r.header("Set-Cookie")
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Strict", cookie)
        token = cookie.split(";")[0]
        csrf = r.json()["csrf_token"]
        me = self.ops.request("GET", "/api/v1/tenants/acme/me", headers={"Cookie": token})
        self.assertEqual(me.status, 200, me.body)
        self.assertEqual(me.json()["name"], "alice")
        body = {"name": "from-browser", "roles": ["agent"]}
        self.assertProblem(self.ops.request("POST", "/api/v1/tenants/acme/api-keys", body,
                                            headers={"Cookie": token}), 403, rule="csrf")
        ok = self.ops.request("POST", "/api/v1/tenants/acme/api-keys", body,
                              headers={"Cookie": token, "X-CSRF-Token": csrf})
        self.assertEqual(ok.status, 201, ok.body)
        out = self.ops.request("DELETE", "/api/v1/tenants/acme/sessions/current",
                               headers={"Cookie": token, "X-CSRF-Token": csrf})
        self.assertEqual(out.status, 200, out.body)
        self.assertProblem(self.ops.request("GET", "/api/v1/tenants/acme/me",
                                            headers={"Cookie": token}), 401)

    def test_repeated_failures_lock_the_account_and_every_attempt_is_on_the_ledger(self):
        for _ in range(3):
            self.assertProblem(self.login("wrong password!"), 401, rule="invalid_credentials")
        # Locked: even the right password fails now, with the same answer.
        self.assertProblem(self.login(PASSWORD), 401, rule="invalid_credentials")
        self.assertProblem(self.login(PASSWORD, username="nobody"), 401,
                           rule="invalid_credentials")
        events = self.ops.events("acme", self.key)
        types = [e["type"] for e in events]
        self.assertEqual(types.count("login_failed"), 5)
        self.assertEqual(types.count("account_locked"), 1)
        reasons = [e["payload"].get("reason") for e in events if e["type"] == "login_failed"]
        self.assertEqual(reasons, ["bad_password"] * 3 + ["locked", "unknown_user"])
        self.assertNotIn(PASSWORD, json.dumps(events))

    def test_a_user_can_be_created_and_log_in(self):
        r = self.ops.request("POST", "/api/v1/tenants/acme/users",
                             {"username": "bob", "password": "another long password",
                              "roles": ["agent"]}, key=self.key)
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(self.login("another long password", "bob").status, 201)
        short = self.ops.request("POST", "/api/v1/tenants/acme/users",
                                 {"username": "carol", "password": "short", "roles": ["agent"]},
                                 key=self.key)
        self.assertProblem(short, 400, field="password")
        users = self.ops.request("GET", "/api/v1/tenants/acme/users", key=self.key).json()
        self.assertEqual(sorted(u["username"] for u in users["items"]), ["alice", "bob"])
        self.assertNotIn("argon2", json.dumps(users))


class System(harness.OpsboxTestCase):
    def setUp(self):
        super().setUp()
        self.ops.start()

    def test_health_readiness_metrics_openapi_and_page(self):
        self.assertEqual(self.ops.request("GET", "/healthz").json()["status"], "ok")
        self.assertEqual(self.ops.request("GET", "/readyz").json()["status"], "ready")
        self.ops.request("POST", "/api/v1/tenants/acme/external-events",
                         harness.external_event("m-1"), key=self.key)
        metrics = self.ops.request("GET", "/metrics").body
        for needle in ['opsbox_http_requests_total{method="POST",'
                       'route="/api/v1/tenants/{tenant}/external-events",status="201"}',
                       "opsbox_http_request_duration_seconds_bucket",
                       "opsbox_ledger_commits_total", "opsbox_ledger_batch_size_bucket",
                       "opsbox_outbox_backlog"]:
            self.assertIn(needle, metrics)
        doc = self.ops.request("GET", "/api/v1/openapi.json").json()
        self.assertTrue(doc["openapi"].startswith("3.1"))
        self.assertIn("/api/v1/tenants/{tenant}/external-events", doc["paths"])
        page = self.ops.request("GET", "/")
        self.assertEqual(page.status, 200)
        self.assertIn("<div id=\"app\">", page.body)
        self.assertIn("/app.js", page.body)
        self.assertIn("default-src 'self'", page.header("Content-Security-Policy"))
        self.assertEqual(self.ops.request("GET", "/app.js").status, 200)


METRICS_TOKEN = "m3trics-token-for-prometheus-0123456789"


class MetricsToken(harness.OpsboxTestCase):
    def setUp(self):
        super().setUp()
        token_file = os.path.join(self.ops.dir, "metrics.token")
        with open(token_file, "w") as f:
            f.write(METRICS_TOKEN + "\n")
        with open(self.ops.config, "a") as f:
            f.write('[metrics]\nbearer_token_file = "%s"\n' % token_file)

    def test_metrics_answer_only_the_bearer_of_the_configured_token(self):
        self.ops.start()
        self.assertProblem(self.ops.request("GET", "/metrics"), 401, field="Authorization",
                           rule="metrics_token")
        wrong = self.ops.request("GET", "/metrics",
                                 headers={"Authorization": "Bearer " + METRICS_TOKEN + "x"})
        self.assertProblem(wrong, 401, rule="metrics_token")
        self.assertProblem(self.ops.request("GET", "/metrics", key=self.key), 401)
        ok = self.ops.request("GET", "/metrics",
                              headers={"Authorization": "Bearer " + METRICS_TOKEN})
        self.assertEqual(ok.status, 200, ok.body)
        self.assertIn("opsbox_http_requests_total", ok.body)
        self.assertNotIn("acme", ok.body)
        self.assertEqual(self.ops.request("GET", "/healthz").status, 200)

    def test_a_token_file_that_cannot_be_read_stops_start_up_naming_the_key(self):
        text = open(self.ops.config).read().replace("metrics.token", "missing.token")
        with open(self.ops.config, "w") as f:
            f.write(text)
        r = subprocess.run([harness.BIN, "serve", "--db", self.ops.db, "--config",
                            self.ops.config, "--listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("metrics.bearer_token_file", r.stderr + r.stdout)


if __name__ == "__main__":
    import unittest
    unittest.main()
