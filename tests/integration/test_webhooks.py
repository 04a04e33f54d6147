"""Goal: webhooks leave through the outbox: a matching ledger event is delivered to a real HTTP
receiver on loopback, signed with HMAC-SHA256 over timestamp and body; a receiver that is down
or answers 500 is retried with backoff, then dead-lettered, listed, and replayed through the
API; pending deliveries survive a restart."""

import hashlib
import hmac
import http.server
import json
import threading
import time

import harness


class Receiver:
    """A real HTTP server on a free loopback port that records deliveries."""

    def __init__(self):
        self.status = 500
        self.received = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.lock:
                    outer.received.append((dict(self.headers), body, outer.status))
                    status = outer.status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self):
        return "http://127.0.0.1:%d/hooks" % self.port

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def delivered(self, status=200):
        with self.lock:
            return [(h, b) for h, b, s in self.received if s == status]


def check_signature(secret, headers, body):
    parts = dict(p.split("=", 1) for p in headers["Opsbox-Signature"].split(","))
    expected = hmac.new(secret.encode(), (parts["t"] + ".").encode() + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - int(parts["t"])) < 300


class Webhooks(harness.OpsboxTestCase):
    config_text = ("[webhooks]\nretry_max = 3\nretry_delay_ms_initial = 50\n"
                   "retry_delay_ms_max = 200\npoll_interval_ms = 50\ntimeout_ms = 2000\n")

    def setUp(self):
        super().setUp()
        self.receiver = Receiver()
        self.addCleanup(self.receiver.close)
        self.ops.start()
        r = self.ops.request("POST", "/api/v1/tenants/acme/webhooks",
                             {"url": self.receiver.url(),
                              "event_types": ["external_event_recorded"]}, key=self.key)
        self.assertEqual(r.status, 201, r.body)
        self.sub = r.json()
        self.secret = self.sub["secret"]

    def post_event(self, xid):
        r = self.ops.request("POST", "/api/v1/tenants/acme/external-events",
                             harness.external_event(xid), key=self.key)
        self.assertEqual(r.status, 201, r.body)
        return int(r.header("Opsbox-Ledger-Seq"))

    def deliveries(self, status):
        r = self.ops.request("GET", "/api/v1/tenants/acme/webhooks/deliveries?status=" + status,
                             key=self.key)
        self.assertEqual(r.status, 200, r.body)
        return r.json()["items"]

    def test_a_failing_target_is_retried_then_dead_lettered_then_replayed(self):
        self.receiver.status = 500
        seq = self.post_event("w-1")
        dead = harness.wait_for(lambda: self.deliveries("dead"), timeout=30)
        self.assertEqual(len(dead), 1, dead)
        self.assertEqual(dead[0]["attempts"], 3)
        self.assertEqual(len(self.receiver.received), 3)  # exactly retry_max attempts
        # Nothing was dropped silently: the dead letter names the event and the last answer.
        self.assertEqual(dead[0]["event_seq"], seq)
        self.receiver.status = 200
        r = self.ops.request("POST", "/api/v1/tenants/acme/webhooks/%s/deliveries/%d/replay" %
                             (self.sub["subscription_id"], seq), key=self.key)
        self.assertEqual(r.status, 200, r.body)
        got = harness.wait_for(lambda: self.receiver.delivered(200), timeout=30)
        self.assertEqual(len(got), 1)
        headers, body = got[0]
        self.assertTrue(check_signature(self.secret, headers, body))
        event = json.loads(body)
        self.assertEqual(event["seq"], seq)
        self.assertEqual(headers["Opsbox-Event-Id"], event["event_id"])
        self.assertEqual(self.deliveries("dead"), [])
        # The replay itself is on the ledger.
        types = [e["type"] for e in self.ops.events("acme", self.key)]
        self.assertIn("webhook_delivery_replayed", types)

    def test_a_healthy_target_gets_each_matching_event_once_and_signed(self):
        self.receiver.status = 200
        seqs = [self.post_event("h-%d" % i) for i in range(5)]
        got = harness.wait_for(lambda: len(self.receiver.delivered()) >= 5 and
                               self.receiver.delivered(), timeout=30)
        self.assertEqual(sorted(json.loads(b)["seq"] for _, b in got), seqs)
        for headers, body in got:
            self.assertTrue(check_signature(self.secret, headers, body))
            self.assertFalse(check_signature("whsec_wrong", headers, body))
        # A non-matching event type is not delivered.
        self.ops.request("POST", "/api/v1/tenants/acme/api-keys",
                         {"name": "n", "roles": ["agent"]}, key=self.key)
        time.sleep(0.3)
        self.assertEqual(len(self.receiver.delivered()), 5)



class WebhooksAcrossRestart(Webhooks):
    """Long retry delays, so a failed delivery is still pending when the server restarts."""

    config_text = ("[webhooks]\nretry_max = 3\nretry_delay_ms_initial = 600000\n"
                   "retry_delay_ms_max = 600000\npoll_interval_ms = 50\ntimeout_ms = 2000\n")

    test_a_failing_target_is_retried_then_dead_lettered_then_replayed = None
    test_a_healthy_target_gets_each_matching_event_once_and_signed = None

    def test_pending_deliveries_survive_a_restart(self):
        self.receiver.close()  # the target is down: the first attempt fails
        seq = self.post_event("r-1")
        harness.wait_for(lambda: harness.sql(
            self.ops.db, "SELECT attempts FROM webhook_outbox WHERE event_seq = %d" % seq
        ).strip() == "1", timeout=30)
        self.ops.stop()
        self.assertEqual(harness.sql(self.ops.db, "SELECT status FROM webhook_outbox "
                                                  "WHERE event_seq = %d" % seq).strip(), "pending")
        self.receiver = Receiver()
        self.receiver.status = 200
        self.addCleanup(self.receiver.close)
        # The target comes back on another port (the operator updates the URL) and the retry
        # falls due (time passes): only these two facts change in the stored outbox state.
        harness.sql(self.ops.db, "UPDATE webhook_subscriptions SET url = '%s'" %
                    self.receiver.url())
        harness.sql(self.ops.db, "UPDATE webhook_outbox SET next_attempt_at_us = 0")
        self.ops.start()
        got = harness.wait_for(lambda: self.receiver.delivered(), timeout=30)
        self.assertEqual(json.loads(got[0][1])["seq"], seq)
        self.assertEqual(got[0][0]["Opsbox-Delivery-Attempt"], "2")


if __name__ == "__main__":
    import unittest
    unittest.main()
