"""Goal: collections on the real binary (issue #11), on SQLite and PostgreSQL. `opsbox collections
import` loads a portfolio file as chunk commands: bad rows are reported by line, field and rule
without stopping the import, the same file twice appends nothing, a changed snapshot records
roll-forward and roll-back, and an import killed mid-way resumes on the next run with every row
landing once. The API lists accounts with personal fields masked and scoped to the tenant,
answers "can contact now?" with every reason, refuses a blocked attempt with 409 naming every
rule (the 8th call in 7 days under Regulation F), records allowed ones into the history the
policy counts, and orders the worklist with its reasons."""
import csv
import datetime
import io
import json
import os
import signal
import subprocess
import time
import unittest

from harness import BIN, OpsboxTestCase, sql, wait_for

T = "/api/v1/tenants/acme/collections"
HEADER = ["account_id", "customer_id", "product", "currency", "outstanding", "overdue",
          "days_past_due", "zone", "phones", "email", "name", "flags", "consent_sms"]


def csv_text(rows):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(HEADER)
    for r in rows:
        w.writerow([r.get(k, "") for k in HEADER])
    return out.getvalue()


def row(i, dpd=0, **kw):
    r = {"account_id": "A%d" % i, "customer_id": "C%d" % i, "product": "card",
         "currency": "INR", "outstanding": "1000.00", "overdue": "%d.00" % (100 + i),
         "days_past_due": str(dpd), "zone": "Asia/Kolkata", "phones": "+9198000%05d" % i,
         "email": "c%d@example.com" % i, "name": "Customer Number %d" % i}
    r.update(kw)
    return r


def afternoon_zone():
    """An IANA fixed-offset zone where it is 14:00–15:00 now, so calls made in the last three
    hours fall inside every preset's calling window whatever the time of the run."""
    now = datetime.datetime.now(datetime.timezone.utc)
    offset = (14 - now.hour) % 24
    if offset > 12:
        offset -= 24  # Etc/GMT zones reach -12..+14
    # POSIX sign: Etc/GMT-5 is UTC+5.
    return "Etc/GMT%+d" % (-offset) if offset != 0 else "Etc/UTC"


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class CollectionsTest(OpsboxTestCase):

    def write(self, name, text):
        path = os.path.join(self.ops.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def import_file(self, path, tenant="acme", *extra):
        r = self.ops.cli("collections", "import", "--tenant", tenant, "--json", path, *extra)
        return json.loads(r.stdout)

    def scalar(self, statement):
        return int(sql(self.ops.db, statement).strip())

    # --- import (CLI) ---

    def test_import_reports_bad_rows_and_the_same_file_twice_appends_nothing(self):
        path = self.write("day1.csv", csv_text([row(1), row(2, 45), row(3, outstanding="12,5"),
                                                row(4, customer_id="C 4"), row(5, 95)]))
        errors = os.path.join(self.ops.dir, "errors.csv")
        first = self.import_file(path, "acme", "--errors", errors)
        self.assertEqual((first["rows_read"], first["rows_rejected"], first["accounts_changed"]),
                         (5, 2, 3))
        self.assertEqual([(e["line"], e["field"], e["rule"]) for e in first["first_errors"]],
                         [(4, "outstanding", "decimal"), (5, "customer_id", "identifier")])
        with open(errors) as f:
            written = list(csv.DictReader(f))
        self.assertEqual([(r["line"], r["field"]) for r in written],
                         [("4", "outstanding"), ("5", "customer_id")])
        events = self.scalar("SELECT COUNT(*) FROM ledger_events WHERE tenant_id = 'acme'")
        again = self.import_file(path)
        self.assertNotEqual(again["import_id"], first["import_id"])
        self.assertEqual(again["accounts_changed"], 0)
        self.assertEqual(self.scalar("SELECT COUNT(*) FROM ledger_events WHERE tenant_id = 'acme'"),
                         events)
        # Nothing personal in clear on the ledger.
        payloads = sql(self.ops.db, "SELECT payload FROM ledger_events WHERE tenant_id = 'acme'")
        self.assertNotIn("c1@example.com", payloads)
        self.assertNotIn("+919800000001", payloads)
        self.assertNotIn("Customer Number 1", payloads)
        self.assertEqual(self.ops.verify("acme").returncode, 0)

    def test_a_changed_snapshot_records_roll_forward_and_roll_back(self):
        self.import_file(self.write("d1.csv", csv_text([row(1, 0), row(2, 45), row(3, 10)])))
        day2 = self.import_file(self.write("d2.csv", csv_text([row(1, 20), row(2, 0), row(3, 11)])))
        self.assertEqual((day2["roll_forward"], day2["roll_back"], day2["accounts_changed"]),
                         (1, 1, 3))
        moved = sql(self.ops.db, "SELECT account_id || ':' || movement FROM "
                                 "collections_bucket_movements ORDER BY account_id").split()
        self.assertEqual(moved, ["A1:roll_forward", "A2:roll_back"])

    def test_an_import_killed_mid_way_resumes_and_every_row_lands_once(self):
        rows = 60000
        path = self.write("big.csv", csv_text([row(i, i % 200) for i in range(rows)]))
        cmd = [BIN, "collections", "import", "--db", self.ops.db, "--config", self.ops.config,
               "--tenant", "acme", path]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        recorded = "SELECT COUNT(*) FROM ledger_commands WHERE command_type = 'import_portfolio_chunk'"
        try:
            self.assertTrue(wait_for(lambda: self.scalar(recorded) >= 3, timeout=120, interval=0.02))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        before = self.scalar(recorded)
        self.assertLess(before, rows // 1000, "the import finished before it was killed")
        resumed = self.import_file(path)
        self.assertTrue(resumed["resumed"])
        self.assertEqual(resumed["chunks"], rows // 1000)
        self.assertGreaterEqual(resumed["chunks_replayed"], before)
        self.assertEqual(self.scalar("SELECT COUNT(*) FROM collections_accounts"), rows)
        self.ops.start()
        seen = {}
        for e in self.ops.events("acme", self.key):
            if e["type"] == "portfolio_accounts_upserted":
                for a in e["payload"]["accounts"]:
                    seen[a["account_id"]] = seen.get(a["account_id"], 0) + 1
        self.assertEqual(len(seen), rows)
        self.assertEqual(set(seen.values()), {1})

    # --- API ---

    def start_with_portfolio(self):
        self.zone = afternoon_zone()
        self.import_file(self.write("acme.csv", csv_text([
            row(1, 10, zone=self.zone, overdue="500.00"),
            row(2, 40, zone=self.zone, overdue="900.00", flags="dispute"),
            row(3, 5, zone=self.zone, overdue="100.00", consent_sms="false"),
        ])))
        self.ops.create_tenant("beta")
        self.import_file(self.write("beta.csv", csv_text([row(7, 3)])), "beta")
        self.agent = self.ops.create_api_key("acme", "agent")
        self.auditor = self.ops.create_api_key("acme", "auditor")
        self.ops.start()

    def test_accounts_are_masked_and_scoped_to_the_tenant(self):
        self.start_with_portfolio()
        r = self.ops.request("GET", T + "/accounts", key=self.agent)
        self.assertEqual(r.status, 200, r.body)
        items = r.json()["items"]
        self.assertEqual([a["account_id"] for a in items], ["A1", "A2", "A3"])
        a1 = items[0]
        self.assertEqual(a1["overdue"], {"amount_minor": 50000, "currency": "INR"})
        # The privacy policy's defaults: an agent sees names in clear, phones and e-mail masked;
        # an auditor sees none of them.
        self.assertEqual(a1["contact"]["phones"], ["+91******0001"])
        self.assertEqual(a1["contact"]["email"], "c***@example.com")
        self.assertNotIn("c1@example.com", r.body)
        audited = self.ops.request("GET", T + "/accounts/A1", key=self.auditor)
        self.assertEqual(audited.status, 200, audited.body)
        self.assertNotIn("Customer Number", audited.body)
        self.assertNotIn("9800000001", audited.body)
        self.assertEqual(self.ops.request("GET", T + "/accounts/A2", key=self.agent).json()["flags"],
                         ["dispute"])
        self.assertProblem(self.ops.request("GET", T + "/accounts/A7", key=self.agent), 404,
                           rule="not_found")
        # Another tenant's account is not there for this key (not found, like any other path).
        self.assertEqual(self.ops.request("GET", "/api/v1/tenants/beta/collections/accounts/A7",
                                          key=self.agent).status, 404)

    def test_can_contact_names_every_blocking_rule(self):
        self.start_with_portfolio()
        r = self.ops.request("GET", T + "/accounts/A2/can-contact?channel=voice", key=self.agent)
        self.assertEqual(r.status, 200, r.body)
        self.assertFalse(r.json()["allowed"])
        self.assertEqual([x["rule"] for x in r.json()["reasons"]], ["dispute_hold"])
        self.assertIsNone(r.json()["next_allowed_at"])
        r = self.ops.request("GET", T + "/accounts/A3/can-contact?channel=sms", key=self.agent)
        self.assertEqual([x["rule"] for x in r.json()["reasons"]], ["consent"])
        r = self.ops.request("GET", T + "/accounts/A1/can-contact?channel=voice", key=self.agent)
        self.assertTrue(r.json()["allowed"], r.body)
        self.assertProblem(self.ops.request("GET", T + "/accounts/A1/can-contact?channel=fax",
                                            key=self.agent), 400, field="channel", rule="one_of")

    def test_the_eighth_call_in_seven_days_is_refused_with_its_rule_and_nothing_is_recorded(self):
        self.start_with_portfolio()
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        path = T + "/accounts/A1/attempts"
        for i in range(7):
            at = now - datetime.timedelta(minutes=140 - 20 * i)
            r = self.ops.request("POST", path, {"channel": "voice", "direction": "outbound",
                                                "outcome": "no_answer", "at": rfc3339(at)},
                                 key=self.agent)
            self.assertEqual(r.status, 201, r.body)
        r = self.ops.request("POST", path, {"channel": "voice", "direction": "outbound",
                                            "outcome": "no_answer"}, key=self.agent)
        p = self.assertProblem(r, 409, field="account_id", rule="contact_policy")
        self.assertEqual([x["rule"] for x in p["reasons"]], ["reg_f_7_in_7"])
        self.assertIsNotNone(p["next_allowed_at"])
        # Inbound calls are not refused (and do not count).
        r = self.ops.request("POST", path, {"channel": "voice", "direction": "inbound",
                                            "outcome": "right_party_contact", "note": "asked for a callback"},
                             key=self.agent)
        self.assertEqual(r.status, 201, r.body)
        attempts = self.ops.request("GET", path, key=self.agent).json()["items"]
        self.assertEqual(len(attempts), 8)
        self.assertEqual(attempts[0]["direction"], "inbound")
        self.assertEqual(attempts[0]["note"], "asked for a callback")  # agents read free text
        audited = self.ops.request("GET", path, key=self.auditor).json()["items"]
        self.assertNotIn("asked for a callback", json.dumps(audited))
        # A disputed account's attempt is refused with its hold; an auditor records nothing.
        r = self.ops.request("POST", T + "/accounts/A2/attempts",
                             {"channel": "voice", "direction": "outbound", "outcome": "no_answer"},
                             key=self.agent)
        self.assertEqual([x["rule"] for x in self.assertProblem(r, 409)["reasons"]], ["dispute_hold"])
        self.assertProblem(self.ops.request("POST", T + "/accounts/A3/attempts",
                                            {"channel": "voice", "direction": "outbound",
                                             "outcome": "no_answer"}, key=self.auditor), 403)
        self.assertProblem(self.ops.request("POST", T + "/accounts/A3/attempts",
                                            {"channel": "voice", "direction": "outbound",
                                             "outcome": "no_answer", "note": "x" * 2001},
                                            key=self.agent), 400, field="note")

    def test_the_worklist_is_ordered_with_whether_each_account_can_be_contacted_and_why(self):
        self.start_with_portfolio()
        r = self.ops.request("GET", T + "/worklist?channel=voice", key=self.agent)
        self.assertEqual(r.status, 200, r.body)
        items = r.json()["items"]
        self.assertEqual([i["account_id"] for i in items], ["A2", "A1", "A3"])
        self.assertEqual([i["can_contact_now"] for i in items], [False, True, True])
        self.assertEqual(items[0]["reasons"][0]["rule"], "dispute_hold")
        page = self.ops.request("GET", T + "/worklist?channel=voice&limit=2", key=self.agent).json()
        self.assertEqual(len(page["items"]), 2)
        rest = self.ops.request("GET", T + "/worklist?channel=voice&limit=2&cursor=" +
                                page["next_cursor"], key=self.agent).json()
        self.assertEqual([i["account_id"] for i in rest["items"]], ["A3"])


if __name__ == "__main__":
    unittest.main()
