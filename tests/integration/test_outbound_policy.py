"""Goal: with the default configuration (issue #17) no tenant-supplied URL makes opsbox send a
request to loopback: webhook URLs and channel settings naming a loopback literal in any spelling
are refused when saved (422 naming the field and the rule), plain http is refused, and nothing
reaches a listener on loopback. With the test-only allowance (outbound.allow_loopback) a
receiver that answers with a redirect to another loopback listener is not followed.
Non-loopback addresses are tested by netns_outbound_policy.py, inside a network namespace."""

import socket
import threading

import harness

BASE = "/api/v1/tenants/acme"


class ConnectionCounter:
    """A TCP listener on loopback that counts the connections made to it and closes them."""

    def __init__(self, host="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.count += 1
            conn.close()

    def connections(self):
        with self.lock:
            return self.count

    def close(self):
        self.sock.close()


def read_request(conn):
    """Reads one HTTP/1.1 request (header and Content-Length body) and returns its body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return body


class RawServer:
    """An HTTP/1.1 server on one address that records request bodies and gives one answer."""

    def __init__(self, host, answer):
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.answer = answer
        self.received = []
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            body = read_request(conn)
            with self.lock:
                self.received.append(body)
            conn.sendall(self.answer)
            conn.close()

    def bodies(self):
        with self.lock:
            return list(self.received)

    def close(self):
        self.sock.close()


class DefaultPolicy(harness.OpsboxTestCase):
    loopback_receivers = False

    def setUp(self):
        super().setUp()
        self.counter = ConnectionCounter()
        self.addCleanup(self.counter.close)
        self.ops.start()

    def subscribe(self, url):
        return self.ops.request("POST", BASE + "/webhooks", {"url": url, "event_types": ["*"]},
                                key=self.key)

    def test_webhook_urls_naming_loopback_are_refused_with_422_naming_field_and_rule(self):
        for host in ["127.0.0.1", "127.0.0.2", "127.1", "2130706433", "0x7f000001", "[::1]",
                     "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "localhost", "hooks.localhost",
                     "0.0.0.0", "[::]"]:
            url = "https://%s:%d/hooks" % (host, self.counter.port)
            with self.subTest(url=url):
                self.assertProblem(self.subscribe(url), 422, field="url",
                                   rule="forbidden_destination")
        self.assertProblem(self.subscribe("http://crm.example.com/hooks"), 422, field="url",
                           rule="https_required")
        r = self.ops.request("GET", BASE + "/webhooks", key=self.key)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["items"], [])
        self.assertEqual(self.counter.connections(), 0)

    def test_channel_api_base_url_naming_loopback_is_refused_with_422(self):
        for url in ["https://127.0.0.1:%d/v20.0" % self.counter.port, "https://[::1]/v20.0",
                    "https://localhost/v20.0", "http://graph.example.com/v20.0"]:
            with self.subTest(url=url):
                r = self.ops.request("PUT", BASE + "/channels/whatsapp/config",
                                     {"settings": {"phone_number_id": "1", "api_base_url": url}},
                                     key=self.key)
                rule = "https_required" if url.startswith("http:") else "forbidden_destination"
                self.assertProblem(r, 422, field="settings.api_base_url", rule=rule)
        self.assertEqual(self.counter.connections(), 0)


class RedirectsAreNotFollowed(harness.OpsboxTestCase):
    config_text = ("[webhooks]\nretry_max = 2\nretry_delay_ms_initial = 50\n"
                   "retry_delay_ms_max = 100\npoll_interval_ms = 50\ntimeout_ms = 2000\n")

    def test_a_redirect_to_another_loopback_listener_is_not_followed(self):
        target = ConnectionCounter()
        self.addCleanup(target.close)
        location = "http://127.0.0.1:%d/internal-admin" % target.port
        redirector = RawServer("127.0.0.1", ("HTTP/1.1 302 Found\r\nLocation: %s\r\n"
                                             "Content-Length: 0\r\nConnection: close\r\n\r\n"
                                             % location).encode())
        self.addCleanup(redirector.close)
        self.ops.start()
        r = self.ops.request("POST", BASE + "/webhooks",
                             {"url": "http://127.0.0.1:%d/hooks" % redirector.port,
                              "event_types": ["external_event_recorded"]}, key=self.key)
        self.assertEqual(r.status, 201, r.body)
        r = self.ops.request("POST", BASE + "/external-events", harness.external_event("x1"),
                             key=self.key)
        self.assertEqual(r.status, 201, r.body)

        def dead():
            r = self.ops.request("GET", BASE + "/webhooks/deliveries?status=dead", key=self.key)
            return r.json()["items"]

        items = harness.wait_for(dead, timeout=30)
        self.assertEqual(len(items), 1, items)
        self.assertEqual(items[0]["last_status"], 302)
        self.assertEqual(items[0]["attempts"], 2)
        self.assertEqual(len(redirector.bodies()), 2, "each attempt went to the subscribed url")
        self.assertEqual(target.connections(), 0, "the redirect was not followed")


if __name__ == "__main__":
    import unittest
    unittest.main()
