"""Goal: a database made by the previous release (tests/data/upgrade-v8, with its keys; made by
make_fixture.py there) migrates with `opsbox migrate`, verifies, serves its sealed personal data
with its keys and keeps an erased subject unreadable; on PostgreSQL the same data arrives through
backup and restore. A database newer than the binary is refused and left as it was."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import harness

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "data", "upgrade-v8")


def run(*args, stdin=None):
    return subprocess.run([harness.BIN] + list(args), input=stdin, capture_output=True, text=True)


class Upgrade(unittest.TestCase):

    def setUp(self):
        with open(os.path.join(FIXTURE, "fixture.json")) as f:
            self.fx = json.load(f)
        self.dir = tempfile.mkdtemp(prefix="opsbox-upgrade-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        for name in ("opsbox.db", "privacy-keys.json", "ledger-signing.key"):
            shutil.copyfile(os.path.join(FIXTURE, name), os.path.join(self.dir, name))
        self.config = os.path.join(self.dir, "opsbox.toml")
        with open(self.config, "w") as f:
            f.write('data_dir = "%s"\n[backup]\ninterval_s = 0\n' % self.dir)
        self.sqlite = "sqlite:" + os.path.join(self.dir, "opsbox.db")

    def server_on(self, db):
        ops = harness.Opsbox.__new__(harness.Opsbox)
        ops.dir, ops.db, ops.config = self.dir, db, self.config
        ops.proc, ops.port, ops.log = None, None, os.path.join(self.dir, "server.log")
        return ops.start()

    def database(self):
        """The fixture on this run's backend: as is on SQLite; through backup and restore
        (with its keys) into a fresh database on PostgreSQL."""
        if harness.BACKEND == "sqlite":
            return self.sqlite
        target = harness.Opsbox()
        self.addCleanup(target.close)
        bundle = os.path.join(self.dir, "fixture.obk")
        r = run("backup", "--db", self.sqlite, "--config", self.config, "--out", bundle,
                "--include-keys", "--passphrase-stdin", stdin="fixture passphrase\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run("restore", "--from", bundle, "--db", target.db, "--config", self.config,
                "--passphrase-stdin", stdin="fixture passphrase\n")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return target.db

    def test_the_previous_releases_database_migrates_verifies_and_reads_with_its_keys(self):
        db = self.database()
        r = run("migrate", "--db", db, "--config", self.config)
        self.assertEqual(r.returncode, 0, r.stderr)
        v = run("ledger", "verify", "--db", db, "--config", self.config)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.assertIn("tenant acme: ok", v.stdout)
        ops = self.server_on(db)
        try:
            key = self.fx["admin_api_key"]
            events = [e for e in ops.events("acme", key) if e["type"] == "external_event_recorded"]
            self.assertEqual(len(events), self.fx["external_events"])
            kept = ops.request("GET", "/api/v1/tenants/acme/customers/" + self.fx["customer_kept"],
                               key=key)
            self.assertEqual(kept.status, 200, kept.body)
            self.assertNotIn("[erased]", kept.body)
            erased = ops.request("GET", "/api/v1/tenants/acme/customers/" +
                                 self.fx["customer_erased"], key=key)
            self.assertNotIn(self.fx["name_erased"], erased.body)
        finally:
            ops.stop()

    def test_a_database_newer_than_the_binary_is_refused_and_left_as_it_was(self):
        if harness.BACKEND != "sqlite":
            self.skipTest("the schema check is the store's, covered on PostgreSQL by "
                          "store_conformance_dbtest")
        harness.sql(self.sqlite, "INSERT INTO schema_migrations (version, name, applied_at_us) "
                                 "VALUES (9999, 'from_a_later_release', 0)")
        before = harness.sql(self.sqlite, "SELECT COUNT(*) FROM ledger_events")
        r = run("migrate", "--db", self.sqlite, "--config", self.config)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("newer than this binary", r.stderr)
        self.assertEqual(harness.sql(self.sqlite, "SELECT COUNT(*) FROM ledger_events"), before)
        self.assertEqual(harness.sql(self.sqlite, "SELECT MAX(version) FROM schema_migrations")
                         .strip(), "9999")


if __name__ == "__main__":
    unittest.main()
