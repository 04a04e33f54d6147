"""Goal: the ledger is verifiable from outside. Inclusion proofs check against the signed
checkpoint with nothing but SHA-256 (RFC 6962) here in Python; editing, deleting, inserting or
reordering rows directly in the database makes `opsbox ledger verify` fail naming the
sequence."""

import hashlib

import harness


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_proof(index, size, leaf, path):
    """RFC 9162 section 2.1.3.2."""
    fn, sn = index, size - 1
    r = leaf_hash(leaf)
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


class LedgerIntegrity(harness.OpsboxTestCase):
    def setUp(self):
        super().setUp()
        self.ops.start()
        for i in range(20):
            r = self.ops.request("POST", "/api/v1/tenants/acme/external-events",
                                 harness.external_event("i-%d" % i), key=self.key)
            self.assertEqual(r.status, 201, r.body)

    def test_inclusion_proofs_verify_against_the_signed_checkpoint(self):
        events = self.ops.events("acme", self.key)
        total = len(events)
        harness.wait_for(lambda: self.ops.request(
            "GET", "/api/v1/tenants/acme/ledger/checkpoint",
            key=self.key).json().get("tree_size", 0) >= total)
        for seq in (1, total // 2, total):
            proof = self.ops.request("GET", "/api/v1/tenants/acme/events/%d/proof" % seq,
                                     key=self.key).json()
            root = root_from_proof(seq - 1, proof["tree_size"],
                                   bytes.fromhex(proof["leaf_hash"]),
                                   [bytes.fromhex(h) for h in proof["audit_path"]])
            self.assertEqual(root.hex(), proof["checkpoint"]["root_hash"])
            self.assertEqual(proof["leaf_hash"], events[seq - 1]["hash"])
        r = self.ops.request("POST", "/api/v1/tenants/acme/ledger/verify", key=self.key,
                             raw=b"", headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.json()["ok"], r.body)

    def tamper(self, statement):
        self.ops.stop()
        self.assertEqual(self.ops.verify("acme").returncode, 0)
        harness.sql(self.ops.db, statement)
        return self.ops.verify("acme")

    def test_an_edited_payload_is_detected_at_its_sequence(self):
        v = self.tamper("UPDATE ledger_events SET payload = replace(payload, '125000', '925000') "
                        "WHERE tenant_id = 'acme' AND seq = 7")
        self.assertNotEqual(v.returncode, 0)
        self.assertIn("seq 7", v.stdout)
        self.assertIn("altered", v.stdout)

    def test_a_deleted_event_is_detected(self):
        v = self.tamper("DELETE FROM ledger_events WHERE tenant_id = 'acme' AND seq = 9")
        self.assertNotEqual(v.returncode, 0)
        self.assertIn("seq 9", v.stdout)

    def test_a_deleted_last_event_is_detected_by_the_checkpoint(self):
        last = int(harness.sql(self.ops.db, "SELECT MAX(seq) FROM ledger_events "
                                            "WHERE tenant_id = 'acme'").strip())
        v = self.tamper("DELETE FROM ledger_events WHERE tenant_id = 'acme' AND seq = %d" % last)
        self.assertNotEqual(v.returncode, 0)
        self.assertIn("seq %d" % last, v.stdout)

    def test_reordered_events_are_detected(self):
        # Swap the contents of events 5 and 6 (keeping their seq numbers).
        stmt = ("UPDATE ledger_events SET seq = -5 WHERE tenant_id = 'acme' AND seq = 5; "
                "UPDATE ledger_events SET seq = 5 WHERE tenant_id = 'acme' AND seq = 6; "
                "UPDATE ledger_events SET seq = 6 WHERE tenant_id = 'acme' AND seq = -5;")
        v = self.tamper(stmt)
        self.assertNotEqual(v.returncode, 0)
        self.assertIn("seq 5", v.stdout)

    def test_an_inserted_event_is_detected(self):
        stmt = ("UPDATE ledger_events SET seq = seq + 1000 WHERE tenant_id = 'acme' AND seq >= 4; "
                "UPDATE ledger_events SET seq = seq - 999 WHERE tenant_id = 'acme' AND seq >= 1004; "
                "INSERT INTO ledger_events SELECT tenant_id, 4, event_id || 'x', recorded_at_us, "
                "actor, command_id, type, payload, prev_hash, hash FROM ledger_events "
                "WHERE tenant_id = 'acme' AND seq = 3;")
        v = self.tamper(stmt)
        self.assertNotEqual(v.returncode, 0)
        self.assertIn("seq 4", v.stdout)


if __name__ == "__main__":
    import unittest
    unittest.main()
