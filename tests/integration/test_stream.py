"""Goal: the live stream at /api/v1/tenants/{tenant}/stream is a WebSocket that authenticates
like every route (API key in the Authorization header or ?access_token=, or the session cookie
from this server's Origin), refuses topics the caller's roles do not allow, acknowledges a
subscription, and carries published updates: a worker's activity change reaches an
agent_activities subscriber, and a task offered to an agent reaches that agent's
my_reservations (its worker id is the user id, actor_id of GET /me). The client is a minimal
RFC 6455 implementation on a socket."""

import base64
import hashlib
import json
import os
import socket
import struct
import unittest

import harness

PASSWORD = "correct horse battery staple"
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WsClient:
    """Masked text frames out, frames in; 10 s timeout on every read."""

    def __init__(self, port, path, headers=None, wrap=None):
        """`wrap`: turns the TCP socket into another (an ssl.SSLSocket for WSS)."""
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        if wrap is not None:
            self.sock = wrap(self.sock)
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % port, "Upgrade: websocket",
                 "Connection: Upgrade", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: " + key]
        lines += ["%s: %s" % kv for kv in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        self.head = head.decode("latin-1")
        self.status = int(self.head.split(" ", 2)[1])
        expected = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.accept_ok = ("sec-websocket-accept: " + expected.lower()) in self.head.lower()

    def close(self):
        self.sock.close()

    def send_json(self, obj):
        payload = json.dumps(obj).encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        else:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk

    def read_frame(self):
        self._need(2)
        opcode = self.buf[0] & 0x0F
        length = self.buf[1] & 0x7F
        pos = 2
        if length == 126:
            self._need(4)
            length = struct.unpack("!H", self.buf[2:4])[0]
            pos = 4
        elif length == 127:
            self._need(10)
            length = struct.unpack("!Q", self.buf[2:10])[0]
            pos = 10
        self._need(pos + length)
        payload = self.buf[pos:pos + length]
        self.buf = self.buf[pos + length:]
        return opcode, payload

    def read_json(self):
        """The next text message as JSON (pings are skipped; close raises)."""
        while True:
            opcode, payload = self.read_frame()
            if opcode == 0x1:
                return json.loads(payload)
            if opcode == 0x8:
                raise ConnectionError("closed by the server: %r" % payload)

    def read_close(self):
        """Skips messages until the server's close frame: (code, reason). A read that waits
        longer than the socket timeout raises."""
        while True:
            opcode, payload = self.read_frame()
            if opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                return code, payload[2:].decode("utf-8", "replace")

    def read_until(self, predicate, limit=50):
        for _ in range(limit):
            message = self.read_json()
            if predicate(message):
                return message
        raise AssertionError("no matching message in %d" % limit)


class Stream(harness.OpsboxTestCase):
    def setUp(self):
        super().setUp()
        self.supervisor = self.ops.create_api_key("acme", "supervisor")
        self.agent_key = self.ops.create_api_key("acme", "agent")
        self.ops.create_tenant("other")
        self.ops.start()
        self.path = "/api/v1/tenants/acme/stream"

    def connect(self, path=None, headers=None):
        client = WsClient(self.ops.port, path or self.path, headers)
        self.addCleanup(client.close)
        return client

    def test_handshake_with_an_api_key_then_subscription_is_acknowledged(self):
        c = self.connect(headers={"Authorization": "Bearer " + self.supervisor})
        self.assertEqual(c.status, 101, c.head)
        self.assertTrue(c.accept_ok, c.head)
        c.send_json({"subscribe": ["queue_stats", "agent_activities"]})
        ack = c.read_json()
        self.assertEqual(ack, {"type": "subscribed", "topics": ["queue_stats", "agent_activities"]})

    def test_access_token_in_the_query_authenticates(self):
        c = self.connect(self.path + "?access_token=" + self.supervisor)
        self.assertEqual(c.status, 101, c.head)

    def test_forbidden_without_credentials_or_for_another_tenant(self):
        self.assertEqual(self.connect().status, 401)
        self.assertEqual(self.connect(self.path + "?access_token=obx_bogus").status, 401)
        other = self.connect("/api/v1/tenants/other/stream",
                             {"Authorization": "Bearer " + self.supervisor})
        self.assertIn(other.status, (401, 403, 404))

    def test_a_plain_get_is_told_to_upgrade(self):
        r = self.ops.request("GET", self.path, key=self.supervisor)
        self.assertProblem(r, 426, rule="websocket_upgrade")

    def test_topics_need_their_permission(self):
        c = self.connect(headers={"Authorization": "Bearer " + self.agent_key})
        self.assertEqual(c.status, 101, c.head)
        c.send_json({"subscribe": ["my_reservations", "queue_stats"]})
        error = c.read_json()
        self.assertEqual(error["type"], "error")
        self.assertEqual((error["field"], error["rule"]), ("subscribe[1]", "permission"))
        c.send_json({"subscribe": ["my_reservations"]})
        self.assertEqual(c.read_json(), {"type": "subscribed", "topics": ["my_reservations"]})
        c.send_json({"subscribe": ["nonsense"]})
        self.assertEqual(c.read_json()["rule"], "topic")
        c.send_json({"subscribe": "queue_stats", "extra": 1})
        self.assertEqual(c.read_json()["rule"], "unknown_field")

    def test_session_cookie_needs_this_servers_origin(self):
        self.ops.create_user("acme", "sam", PASSWORD, "supervisor")
        r = self.ops.request("POST", "/api/v1/tenants/acme/sessions",
                             {"username": "sam", "password": PASSWORD})
        self.assertEqual(r.status, 201, r.body)
        cookie = r.header("Set-Cookie").split(";")[0]
        evil = self.connect(headers={"Cookie": cookie, "Origin": "https://evil.example"})
        self.assertEqual(evil.status, 403, evil.head)
        good = self.connect(headers={"Cookie": cookie,
                                     "Origin": "http://127.0.0.1:%d" % self.ops.port})
        self.assertEqual(good.status, 101, good.head)

    def test_revoking_the_api_key_closes_its_stream_with_4001(self):
        doomed = self.ops.create_api_key("acme", "supervisor")
        c = self.connect(headers={"Authorization": "Bearer " + doomed})
        self.assertEqual(c.status, 101, c.head)
        c.send_json({"subscribe": ["queue_stats"]})
        self.assertEqual(c.read_json()["type"], "subscribed")
        other = self.connect(headers={"Authorization": "Bearer " + self.supervisor})
        self.assertEqual(other.status, 101, other.head)
        key_id = doomed[len("obx_"):-44]
        r = self.ops.request("DELETE", "/api/v1/tenants/acme/api-keys/" + key_id, key=self.key)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(c.read_close(), (4001, "credential revoked"))
        other.send_json({"subscribe": ["agent_activities"]})
        self.assertEqual(other.read_json()["type"], "subscribed")
        self.assertEqual(self.connect(headers={"Authorization": "Bearer " + doomed}).status, 401)

    def test_logging_out_closes_the_sessions_stream_with_4001(self):
        self.ops.create_user("acme", "sam", PASSWORD, "supervisor")
        origin = "http://127.0.0.1:%d" % self.ops.port
        sessions = []
        for _ in range(2):
            r = self.ops.request("POST", "/api/v1/tenants/acme/sessions",
                                 {"username": "sam", "password": PASSWORD})
            self.assertEqual(r.status, 201, r.body)
            sessions.append((r.header("Set-Cookie").split(";")[0], r.json()["csrf_token"]))
        streams = [self.connect(headers={"Cookie": cookie, "Origin": origin})
                   for cookie, _ in sessions]
        self.assertEqual([s.status for s in streams], [101, 101])
        cookie, csrf = sessions[0]
        out = self.ops.request("DELETE", "/api/v1/tenants/acme/sessions/current",
                               headers={"Cookie": cookie, "X-CSRF-Token": csrf})
        self.assertEqual(out.status, 200, out.body)
        self.assertEqual(streams[0].read_close(), (4001, "credential revoked"))
        streams[1].send_json({"subscribe": ["queue_stats"]})
        self.assertEqual(streams[1].read_json()["type"], "subscribed")

    def agent_worker(self):
        """Logs the agent ann in and registers her as a routing worker: (cookie, csrf, id)."""
        self.ops.create_user("acme", "ann", PASSWORD, "agent")
        login = self.ops.request("POST", "/api/v1/tenants/acme/sessions",
                                 {"username": "ann", "password": PASSWORD})
        self.assertEqual(login.status, 201, login.body)
        cookie = login.header("Set-Cookie").split(";")[0]
        csrf = login.json()["csrf_token"]
        me = self.ops.request("GET", "/api/v1/tenants/acme/me", headers={"Cookie": cookie}).json()
        worker_id = me["actor_id"]
        put = self.ops.request("PUT", "/api/v1/tenants/acme/routing/workers/" + worker_id,
                               {"name": "Ann", "attributes": {"languages": ["en"]},
                                "capacity": {"chat": 1}}, key=self.key)
        self.assertEqual(put.status, 200, put.body)
        return cookie, csrf, worker_id

    def set_available(self, cookie, csrf):
        r = self.ops.request("POST", "/api/v1/tenants/acme/routing/workers/me/activity",
                             {"activity": "available"},
                             headers={"Cookie": cookie, "X-CSRF-Token": csrf})
        self.assertEqual(r.status, 200, r.body)

    def test_a_workers_activity_change_reaches_agent_activities_subscribers(self):
        cookie, csrf, worker_id = self.agent_worker()
        c = self.connect(headers={"Authorization": "Bearer " + self.supervisor})
        c.send_json({"subscribe": ["agent_activities"]})
        self.assertEqual(c.read_json()["type"], "subscribed")
        self.set_available(cookie, csrf)
        update = c.read_until(lambda m: m.get("type") == "agent_activity"
                              and m.get("worker_id") == worker_id
                              and m.get("activity") == "available")
        self.assertEqual(update["name"], "Ann")
        self.assertTrue(update["since"].endswith("Z"), update)

    def test_an_offer_reaches_the_agents_own_reservations_then_its_acceptance(self):
        cookie, csrf, worker_id = self.agent_worker()
        for path, body in (("/routing/queues/support",
                            {"name": "Support", "target_expression": "true"}),
                           ("/routing/workflows/default",
                            {"default_filter": {"targets": [{"queue_id": "support"}]}})):
            r = self.ops.request("PUT", "/api/v1/tenants/acme" + path, body, key=self.key)
            self.assertEqual(r.status, 200, r.body)
        c = self.connect(headers={"Cookie": cookie,
                                  "Origin": "http://127.0.0.1:%d" % self.ops.port})
        self.assertEqual(c.status, 101, c.head)
        c.send_json({"subscribe": ["my_reservations"]})
        self.assertEqual(c.read_json(), {"type": "subscribed", "topics": ["my_reservations"]})
        self.set_available(cookie, csrf)
        task = self.ops.request("POST", "/api/v1/tenants/acme/routing/tasks",
                                {"channel": "chat", "attributes": {"language": "en"}},
                                key=self.key)
        self.assertEqual(task.status, 201, task.body)
        offer = c.read_until(lambda m: m.get("type") == "reservation")
        self.assertEqual(offer["status"], "pending")
        self.assertEqual(offer["task"]["channel"], "chat")
        self.assertEqual(offer["task"]["queue_id"], "support")
        self.assertTrue(offer["reservation_id"].startswith(offer["task_id"] + ".r"), offer)
        self.assertTrue(offer["expires_at"].endswith("Z"), offer)
        r = self.ops.request("POST", "/api/v1/tenants/acme/routing/reservations/%s/accept"
                             % offer["reservation_id"], {},
                             headers={"Cookie": cookie, "X-CSRF-Token": csrf})
        self.assertEqual(r.status, 200, r.body)
        accepted = c.read_until(lambda m: m.get("type") == "reservation"
                                and m.get("status") != "pending")
        self.assertEqual((accepted["reservation_id"], accepted["status"]),
                         (offer["reservation_id"], "accepted"))


if __name__ == "__main__":
    unittest.main()
