"""Goal (issue #9): `opsbox serve --tls-cert FILE --tls-key FILE` serves HTTPS and WSS only, with
TLS 1.2 or newer, Strict-Transport-Security on every response and Secure session cookies; a
missing or mismatched key stops start-up naming the file. The certificate is made at test time
with the openssl command (a throwaway self-signed one for 127.0.0.1)."""

import http.client
import os
import socket
import ssl
import subprocess
import unittest

import harness
from test_stream import WsClient

PASSWORD = "correct horse battery staple 7"


def make_certificate(folder, name="server"):
    cert = os.path.join(folder, name + "-cert.pem")
    key = os.path.join(folder, name + "-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    "/CN=opsbox test", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


class Tls(harness.OpsboxTestCase):
    def setUp(self):
        super().setUp()
        self.cert, self.key_file = make_certificate(self.ops.dir)
        self.ops.create_user("acme", "alice", PASSWORD, "supervisor")
        self.ops.start("--tls-cert", self.cert, "--tls-key", self.key_file)
        self.trust = ssl.create_default_context(cafile=self.cert)

    def https(self, method, path, body=None, headers=None, context=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.ops.port, timeout=10,
                                           context=context or self.trust)
        h = dict(headers or {})
        data = None
        if body is not None:
            data = harness.json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        out = harness.Response(r.status, r.getheaders(), r.read().decode())
        version = conn.sock.version()
        conn.close()
        return out, version

    def test_https_answers_with_hsts_and_a_modern_protocol(self):
        r, version = self.https("GET", "/healthz")
        self.assertEqual(r.status, 200, r.body)
        self.assertIn(version, ("TLSv1.2", "TLSv1.3"))
        self.assertTrue(r.header("Strict-Transport-Security").startswith("max-age="), r.headers)
        api, _ = self.https("GET", "/api/v1/tenants/acme/me",
                            headers={"Authorization": "Bearer " + self.key})
        self.assertEqual(api.status, 200, api.body)
        self.assertIsNotNone(api.header("Strict-Transport-Security"))

    def test_tls_1_2_is_accepted_and_older_protocols_are_refused(self):
        only_12 = ssl.create_default_context(cafile=self.cert)
        only_12.maximum_version = ssl.TLSVersion.TLSv1_2
        r, version = self.https("GET", "/healthz", context=only_12)
        self.assertEqual((r.status, version), (200, "TLSv1.2"))
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.load_verify_locations(self.cert)
        old.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        try:
            old.set_ciphers("ALL:@SECLEVEL=0")
        except ssl.SSLError:
            pass
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            self.https("GET", "/healthz", context=old)

    def test_plain_http_to_the_tls_listener_gets_no_answer(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.ops.port, timeout=10)
        with self.assertRaises((http.client.HTTPException, ConnectionError, socket.timeout)):
            conn.request("GET", "/healthz")
            conn.getresponse()
        conn.close()
        # The server carries on serving TLS clients.
        self.assertEqual(self.https("GET", "/healthz")[0].status, 200)

    def test_session_cookies_are_secure_under_tls(self):
        r, _ = self.https("POST", "/api/v1/tenants/acme/sessions",
                          {"username": "alice", "password": PASSWORD})
        self.assertEqual(r.status, 201, r.body)
        cookie = r.header("Set-Cookie")
        for attribute in ("Secure", "HttpOnly", "SameSite=Strict"):
            self.assertIn(attribute, cookie)

    def test_the_live_stream_speaks_wss(self):
        def wrap(sock):
            return self.trust.wrap_socket(sock, server_hostname="127.0.0.1")
        client = WsClient(self.ops.port, "/api/v1/tenants/acme/stream",
                          {"Authorization": "Bearer " + self.key}, wrap=wrap)
        self.addCleanup(client.close)
        self.assertEqual(client.status, 101, client.head)
        self.assertTrue(client.accept_ok, client.head)
        client.send_json({"subscribe": ["queue_stats"]})
        self.assertEqual(client.read_json(), {"type": "subscribed", "topics": ["queue_stats"]})


class TlsMisconfiguration(harness.OpsboxTestCase):
    def test_a_key_that_does_not_match_the_certificate_stops_start_up_naming_it(self):
        cert, _ = make_certificate(self.ops.dir, "one")
        _, other_key = make_certificate(self.ops.dir, "two")
        r = subprocess.run([harness.BIN, "serve", "--db", self.ops.db, "--config",
                            self.ops.config, "--listen", "127.0.0.1:0", "--tls-cert", cert,
                            "--tls-key", other_key], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("server.tls_key_file", r.stderr + r.stdout)
        missing = subprocess.run([harness.BIN, "serve", "--db", self.ops.db, "--config",
                                  self.ops.config, "--listen", "127.0.0.1:0", "--tls-cert",
                                  os.path.join(self.ops.dir, "absent.pem"), "--tls-key",
                                  other_key], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn("server.tls_cert_file", missing.stderr + missing.stdout)


if __name__ == "__main__":
    unittest.main()
