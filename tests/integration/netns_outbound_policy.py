"""Goal: the outbound request policy (issue #17) against non-loopback addresses, with the real
binary: literal private, shared, link-local (cloud metadata), unique-local, multicast and
reserved addresses, and their IPv4-mapped and NAT64 forms, are refused when a webhook or a
channel's api_base_url is saved (422, field and rule); names that resolve to forbidden
addresses are dead-lettered at the first delivery with a reason naming the address, and no
connection is made; the operator's outbound.allow_networks lets exactly its network through.

This file names addresses other than loopback, so it runs only inside network and mount
namespaces of its own (tests/CMakeLists.txt: `unshare -rnm`, loopback up, 10.20.0.5 and
10.21.0.5 added to lo, tests/data/outbound-hosts bind-mounted over /etc/hosts): a guard that
failed could not send a packet off the machine. It refuses to run anywhere else."""

import json
import socket
import unittest

import harness
from test_outbound_policy import ConnectionCounter, RawServer

BASE = "/api/v1/tenants/acme"


def setUpModule():
    names = [name for _, name in socket.if_nameindex()]
    if names != ["lo"]:
        raise RuntimeError("netns_outbound_policy.py names non-loopback addresses and runs only "
                           "in a network namespace with loopback alone; interfaces here: %s" % names)


FORBIDDEN_LITERALS = [
    "10.0.0.8", "172.16.0.1", "172.31.255.254", "192.168.1.20", "100.64.0.9", "169.254.169.254",
    "169.254.0.1", "224.0.0.1", "240.0.0.1", "255.255.255.255", "198.18.0.1", "192.0.2.1",
    "[fe80::8]", "[fc00::1]", "[fd00::8]", "[ff02::1]", "[2001:db8::1]", "[::ffff:10.0.0.8]",
    "[::ffff:169.254.169.254]", "[::ffff:a9fe:a9fe]", "[64:ff9b::a9fe:a9fe]", "[2002:a00:8::1]",
    "0251.0376.0251.0376",  # 169.254.169.254 in octal
]


class DefaultPolicy(harness.OpsboxTestCase):
    loopback_receivers = False
    config_text = "[webhooks]\npoll_interval_ms = 50\ntimeout_ms = 2000\n"

    def setUp(self):
        super().setUp()
        self.ops.start()

    def test_forbidden_literal_addresses_are_refused_when_saved(self):
        for host in FORBIDDEN_LITERALS:
            url = "https://%s/hooks" % host
            with self.subTest(url=url):
                r = self.ops.request("POST", BASE + "/webhooks",
                                     {"url": url, "event_types": ["*"]}, key=self.key)
                self.assertProblem(r, 422, field="url", rule="forbidden_destination")
                r = self.ops.request("PUT", BASE + "/channels/whatsapp/config",
                                     {"settings": {"api_base_url": url}}, key=self.key)
                self.assertProblem(r, 422, field="settings.api_base_url",
                                   rule="forbidden_destination")

    def test_names_resolving_to_forbidden_addresses_are_dead_lettered_with_the_reason(self):
        loop = ConnectionCounter()
        self.addCleanup(loop.close)
        expected = {
            "https://metadata.test/latest/meta-data/": "169.254.169.254",
            "https://private.test/hooks": "10.0.0.8",
            "https://shared.test/hooks": "100.64.0.9",
            "https://home.test/hooks": "192.168.1.20",
            "https://ula.test/hooks": "fd00::8",
            "https://linklocal.test/hooks": "fe80::8",
            "https://loop.test:%d/hooks" % loop.port: "127.0.0.1",
        }
        subscriptions = {}
        for url in expected:
            r = self.ops.request("POST", BASE + "/webhooks",
                                 {"url": url, "event_types": ["external_event_recorded"]},
                                 key=self.key)
            self.assertEqual(r.status, 201, r.body)
            subscriptions[r.json()["subscription_id"]] = url
        r = self.ops.request("POST", BASE + "/external-events", harness.external_event("x1"),
                             key=self.key)
        self.assertEqual(r.status, 201, r.body)

        def dead():
            r = self.ops.request("GET", BASE + "/webhooks/deliveries?status=dead", key=self.key)
            items = r.json()["items"]
            return items if len(items) == len(expected) else None

        items = harness.wait_for(dead, timeout=30)
        self.assertIsNotNone(items, "every delivery is dead-lettered at once")
        for item in items:
            url = subscriptions[item["subscription_id"]]
            with self.subTest(url=url):
                self.assertEqual(item["attempts"], 1, "a forbidden destination is not retried")
                self.assertIn(expected[url], item["last_error"])
                self.assertIn("forbids", item["last_error"])
        self.assertEqual(loop.connections(), 0)


class OperatorAllowList(harness.OpsboxTestCase):
    loopback_receivers = False
    config_text = ("[webhooks]\npoll_interval_ms = 50\ntimeout_ms = 2000\n"
                   "[outbound]\nallow_http = true\nallow_networks = [\"10.20.0.0/16\"]\n")

    def test_allow_networks_lets_exactly_its_network_through(self):
        allowed = RawServer("10.20.0.5", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                                         b"Connection: close\r\n\r\n")
        self.addCleanup(allowed.close)
        refused = ConnectionCounter("10.21.0.5")
        self.addCleanup(refused.close)
        self.ops.start()
        r = self.ops.request("POST", BASE + "/webhooks",
                             {"url": "http://10.21.0.5:%d/hooks" % refused.port,
                              "event_types": ["*"]}, key=self.key)
        self.assertProblem(r, 422, field="url", rule="forbidden_destination")
        for url in ["http://allowed.test:%d/hooks" % allowed.port,
                    "http://notallowed.test:%d/hooks" % refused.port]:
            r = self.ops.request("POST", BASE + "/webhooks",
                                 {"url": url, "event_types": ["external_event_recorded"]},
                                 key=self.key)
            self.assertEqual(r.status, 201, r.body)
        r = self.ops.request("POST", BASE + "/external-events", harness.external_event("x2"),
                             key=self.key)
        self.assertEqual(r.status, 201, r.body)
        self.assertTrue(harness.wait_for(lambda: allowed.bodies(), timeout=30))
        self.assertEqual(json.loads(allowed.bodies()[0])["type"], "external_event_recorded")

        def dead():
            r = self.ops.request("GET", BASE + "/webhooks/deliveries?status=dead", key=self.key)
            return r.json()["items"]

        items = harness.wait_for(dead, timeout=30)
        self.assertEqual(len(items), 1, items)
        self.assertIn("10.21.0.5", items[0]["last_error"])
        self.assertEqual(refused.connections(), 0)


if __name__ == "__main__":
    unittest.main()
