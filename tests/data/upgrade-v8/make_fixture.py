"""Makes the upgrade fixture in this folder with a given opsbox binary (the previous release):
a SQLite database with tenant acme, an admin API key, ledger events, a customer whose personal
data intake sealed, an erased customer and signed checkpoints, plus the two key files.

    python3 tests/data/upgrade-v8/make_fixture.py /path/to/previous/opsbox

Writes opsbox.db, privacy-keys.json, ledger-signing.key and fixture.json (the API key and the
ids the test reads) next to itself. Run once per release; tests/integration/test_upgrade.py
uses the result."""

import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "integration"))
os.environ["OPSBOX_TEST_BACKEND"] = "sqlite"
os.environ["OPSBOX_BIN"] = os.path.abspath(sys.argv[1])
import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ops = harness.Opsbox()
    try:
        ops.create_tenant("acme")
        key = ops.create_api_key("acme", "admin")
        maker = ops.create_api_key("acme", "compliance_officer")
        ops.start()
        for i in range(25):
            r = ops.request("POST", "/api/v1/tenants/acme/external-events",
                            harness.external_event("fx-%d" % i), key=key)
            assert r.status == 201, r.body
        ids = {}
        for label, name in (("kept", "Ottoline Vanderpump"), ("erased", "Bartholomew Quince")):
            r = ops.request("POST", "/api/v1/tenants/acme/channels/chat/messages",
                            {"provider_message_id": "fx-" + label,
                             "from": {"external_id": "web-" + label, "name": name},
                             "text": "hello"}, key=key)
            assert r.status == 200, r.body
            ids[label] = r.json()["items"][0]["customer_id"]
        r = ops.request("POST", "/api/v1/tenants/acme/privacy/subject-requests",
                        {"subject_id": ids["erased"], "kind": "erasure", "reason": "asked"},
                        key=maker)
        assert r.status == 201, r.body
        r = ops.request("POST", "/api/v1/tenants/acme/privacy/subject-requests/%s/approve"
                        % r.json()["request_id"], key=key)
        assert r.status == 200, r.body
        assert ops.stop() == 0
        v = ops.verify("acme")
        assert v.returncode == 0, v.stdout + v.stderr
        version = harness.sql(ops.db, "SELECT MAX(version) FROM schema_migrations").strip()
        for name in ("opsbox.db", "privacy-keys.json", "ledger-signing.key"):
            shutil.copyfile(os.path.join(ops.dir, name), os.path.join(HERE, name))
        with open(os.path.join(HERE, "fixture.json"), "w") as f:
            json.dump({"schema_version": int(version), "tenant": "acme", "admin_api_key": key,
                       "customer_kept": ids["kept"], "customer_erased": ids["erased"],
                       "name_kept": "Ottoline Vanderpump", "name_erased": "Bartholomew Quince",
                       "external_events": 25}, f, indent=1)
            f.write("\n")
        print("fixture at schema version", version)
    finally:
        ops.close()


if __name__ == "__main__":
    main()
