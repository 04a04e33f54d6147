"""Goal (issue #9, item 1): no credential leaves the server in an event. A subscription for "*"
(a real HTTP receiver on loopback) and `opsbox ledger export` see, for every event type the
modules can emit (listed by `opsbox ledger event-types`, from the registry: a new type that this
scenario does not produce fails the test), no payload field named as a secret with a value other
than "[redacted]", and none of the secrets the scenario knows (passwords, API keys, session and
CSRF tokens, webhook and channel secrets, their SHA-256 hashes, the argon2id hash). The stored
ledger itself holds no usable hash: the credential fields are sealed before hashing, and the
chain still verifies."""

import datetime
import hashlib
import json
import os
import time
import unittest
import urllib.parse

import harness
import test_channels
import test_intake
import test_webhooks
from test_wfm import history_rows, small_schedule_problem

T = "/api/v1/tenants/acme"
R = T + "/routing"
PASSWORD = "correct horse battery staple"
SECRET_FIELDS = {"secret", "password_hash", "token_hash", "csrf_hash", "secret_hash",
                 "app_secret", "access_token", "verify_token", "signing_secret", "auth_token"}

# Event types this scenario cannot produce on the real binary in a test's time, each with the
# reason. Every name must still be a declared type (checked), so the list cannot go stale.
NOT_PRODUCED = {
    # Emitted in the new tenant's ledger before any subscription of that tenant can exist:
    # checked in the export only.
    "tenant_created": "export only",
    # Needs records older than the shortest retention a policy allows (DPDP rules: a year).
    "retention_applied": "needs a year-old conversation",
}


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


class SecretsOut(harness.OpsboxTestCase):
    config_text = ("[webhooks]\nretry_max = 1\nretry_delay_ms_initial = 50\n"
                   "retry_delay_ms_max = 100\npoll_interval_ms = 50\ntimeout_ms = 2000\n")

    def setUp(self):
        super().setUp()
        self.secrets = {self.key, self.key.rsplit("_", 1)[1], PASSWORD}
        self.receiver = test_webhooks.Receiver()
        self.receiver.status = 200
        self.addCleanup(self.receiver.close)
        self.ops.create_user("acme", "alice", PASSWORD, "admin", "supervisor")
        self.ops.start()
        self.sub = self.call("POST", "/webhooks", {"url": self.receiver.url(),
                                                  "event_types": ["*"]}, status=201)
        self.secrets.add(self.sub["secret"])

    # --- helpers ---
    def call(self, method, path, body=None, key=None, status=None, headers=None):
        r = self.ops.request(method, T + path, body, key=key or self.key, headers=headers)
        if status is not None:  # a success: 200 or 201, as the route answers
            self.assertIn(r.status, (200, 201), "%s %s: %s" % (method, path, r.body))
        try:
            return r.json() or {}
        except ValueError:
            return {}

    def new_key(self, *roles):
        key = self.ops.create_api_key("acme", *roles)
        self.secrets.update({key, key.rsplit("_", 1)[1]})
        return key

    def types_so_far(self):
        return {e["type"] for e in self.ops.events("acme", self.key)}

    def wait_for_type(self, event_type, timeout=15):
        ok = harness.wait_for(lambda: event_type in self.types_so_far(), timeout=timeout)
        self.assertTrue(ok, "no %s event within %d s" % (event_type, timeout))

    # --- the scenario, one module at a time ---
    def identity(self):
        r = self.ops.request("POST", T + "/sessions", {"username": "alice", "password": PASSWORD})
        self.assertEqual(r.status, 201, r.body)
        token = r.header("Set-Cookie").split(";")[0].split("=", 1)[1]
        csrf = r.json()["csrf_token"]
        self.secrets.update({token, csrf})
        cookie = {"Cookie": "opsbox_session=" + token, "X-CSRF-Token": csrf}
        r = self.ops.request("POST", T + "/api-keys", {"name": "browser-made",
                                                       "roles": ["agent"]}, headers=cookie)
        self.assertEqual(r.status, 201, r.body)
        created = r.json()
        self.secrets.update({created["key"], created["key"].rsplit("_", 1)[1]})
        self.call("DELETE", "/api-keys/" + created["key_id"], status=200)
        self.call("POST", "/users", {"username": "bob", "display_name": "Bob",
                                     "password": "another long password", "roles": ["agent"]},
                  status=201)
        self.secrets.add("another long password")
        self.call("POST", "/users/bob/roles", {"role": "auditor"}, status=201)
        self.call("DELETE", "/users/bob/roles/auditor", status=200)
        for _ in range(5):
            self.ops.request("POST", T + "/sessions", {"username": "bob", "password": "wrong!"})
        self.assertEqual(self.ops.request("DELETE", T + "/sessions/current",
                                          headers=cookie).status, 200)

    def integrations(self):
        self.call("POST", "/external-events", harness.external_event("X-1"), status=201)
        dead = test_webhooks.Receiver()  # answers 500: the delivery dies after one attempt
        self.addCleanup(dead.close)
        other = self.call("POST", "/webhooks", {"url": dead.url(),
                                                "event_types": ["external_event_recorded"]},
                          status=201)
        self.secrets.add(other["secret"])
        self.call("POST", "/external-events", harness.external_event("X-2"), status=201)

        def dead_seq():
            r = self.call("GET", "/webhooks/deliveries?status=dead")
            items = [d for d in r.get("items", []) if d["subscription_id"] ==
                     other["subscription_id"]]
            return items[0]["event_seq"] if items else None
        seq = harness.wait_for(dead_seq, timeout=15)
        self.assertIsNotNone(seq, "the delivery to the failing receiver did not die")
        dead.status = 200
        self.call("POST", "/webhooks/%s/deliveries/%d/replay" % (other["subscription_id"], seq),
                  status=200)
        self.call("DELETE", "/webhooks/" + other["subscription_id"], status=200)

    def wfm(self):
        first = datetime.date(2026, 3, 2)
        self.call("POST", "/wfm/forecasts", {"queue": "cards", "interval_min": 60, "zone": "UTC",
                                             "history": history_rows(first, 14),
                                             "horizon_days": 1}, status=201)
        self.call("PUT", "/wfm/targets/cards", {"service_level": 0.9, "target_answer_s": 15,
                                                "shrinkage": 0.25}, status=200)
        self.call("POST", "/wfm/schedules", {"queue": "cards", "start_date": "2026-03-23",
                                             "problem": small_schedule_problem(),
                                             "time_limit_s": 5}, status=201)

    def privacy(self, customer_id):
        officer = self.new_key("compliance_officer")
        lead = self.new_key("team_lead")
        p = "/privacy"
        self.call("POST", p + "/keys/rotate", status=201)
        opened = self.call("POST", p + "/subject-requests",
                           {"subject_id": "cus_gone", "kind": "erasure", "reason": "asked"},
                           key=officer, status=201)
        self.call("POST", p + "/subject-requests/%s/extend" % opened["request_id"],
                  {"extension_months": 1, "reason": "complex"}, key=officer, status=200)
        hold = self.call("POST", p + "/legal-holds", {"subject_id": "cus_other", "reason": "x",
                                                      "case_ref": "C-1"}, status=201)
        self.call("POST", p + "/legal-holds/%s/release" % hold["hold_id"], {"reason": "done"},
                  status=200)
        self.call("POST", p + "/subject-requests/%s/approve" % opened["request_id"], status=200)
        access = self.call("POST", p + "/subject-requests",
                           {"subject_id": "cus_asks", "kind": "access", "reason": "asked"},
                           key=officer, status=201)
        self.call("POST", p + "/subject-requests/%s/complete" % access["request_id"],
                  {"note": "sent"}, key=officer, status=200)
        consent = {"purpose": "marketing", "channel": "sms", "source": "ivr",
                   "notice_version": "2026-01", "evidence": "rec_1"}
        self.call("POST", "/customers/cus_it1/consents", consent, status=201)
        self.call("POST", "/customers/cus_it1/consents/withdraw", consent, status=201)
        self.call("POST", p + "/unmask", {"record_type": "customer", "record_id": customer_id,
                                          "field": "phone", "reason": "verification call"},
                  key=lead, status=200)
        grant = self.call("POST", p + "/break-glass", {"reason": "account takeover",
                                                       "duration_min": 15}, key=lead, status=201)
        self.call("POST", p + "/break-glass/%s/review" % grant["grant_id"],
                  {"outcome": "justified", "notes": "ok"}, key=officer, status=200)
        self.call("PUT", p + "/retention-policies/access_log",
                  {"retain_days": 400, "action": "anonymise"}, key=officer, status=200)
        self.call("POST", p + "/retention-runs", {"dry_run": True}, key=officer, status=201)

    def intake(self):
        wa = {"verify_token": test_intake.VERIFY_TOKEN, "app_secret": test_intake.APP_SECRET,
              "access_token": test_intake.ACCESS_TOKEN}
        self.secrets.update(wa.values())
        self.call("PUT", "/channels/whatsapp/config",
                  {"settings": {"phone_number_id": "1122334455667"}, "secrets": wa}, status=200)
        forged = test_intake.whatsapp_text("wamid.f-1", "972501234567")
        r = self.ops.request("POST", T + "/channels/whatsapp/webhook", raw=forged,
                             headers={"Content-Type": "application/json",
                                      "X-Hub-Signature-256": "sha256=" + "0" * 64})
        self.assertEqual(r.status, 401, r.body)
        for name in ("whatsapp_inbound_text.json", "whatsapp_status_delivered.json"):
            body = test_intake.sample(name)
            r = self.ops.request("POST", T + "/channels/whatsapp/webhook", raw=body,
                                 headers={"Content-Type": "application/json",
                                          "X-Hub-Signature-256": test_intake.wa_signature(body)})
            self.assertEqual(r.status, 200, r.body)
        msg = {"provider_message_id": "chat-1", "text": "card %s" % test_intake.CARD,
               "from": {"phone": "+972 50-123-4567", "name": "Test Name"}}
        r = self.call("POST", "/channels/chat/messages", msg, status=200)
        first = r["items"][0]
        msg2 = {"provider_message_id": "chat-2", "text": "again",
                "from": {"phone": "+972 50-123-4567", "external_id": "crm-77"}}
        self.call("POST", "/channels/chat/messages", msg2, status=200)
        conv = first["conversation_id"]
        agent = self.new_key("agent")
        self.call("POST", "/conversations/%s/messages" % conv, {"text": "on it"}, key=agent,
                  status=201)
        self.call("POST", "/conversations/%s/close" % conv, {}, key=agent, status=200)
        self.sms()
        return first["customer_id"]

    def sms(self):
        """Issue #14: an SMS reply the provider refuses (a dead letter), retried."""
        twilio = test_channels.FakeTwilio()
        self.addCleanup(twilio.close)
        twilio.refuse = 10
        self.secrets.add(test_channels.AUTH_TOKEN)
        self.call("PUT", "/channels/sms/config", {
            "settings": {"account_sid": test_channels.ACCOUNT_SID, "api_base_url": twilio.url(),
                         "from_number": test_channels.FROM_NUMBER,
                         "public_base_url": test_channels.PUBLIC_BASE},
            "secrets": {"auth_token": test_channels.AUTH_TOKEN}}, status=200)
        path = T + "/channels/sms/inbound"
        fields = [("MessageSid", "SM" + "0" * 32), ("From", "+14155550199"),
                  ("To", test_channels.FROM_NUMBER), ("Body", "hello")]
        r = self.ops.request("POST", path, raw=urllib.parse.urlencode(fields).encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": test_channels.signature(test_channels.PUBLIC_BASE + path,
                                                          fields)})
        self.assertEqual(r.status, 200, r.body)
        conv = r.json()["items"][0]["conversation_id"]
        supervisor = self.new_key("supervisor")
        mid = self.call("POST", "/conversations/%s/messages" % conv, {"text": "hi"},
                        key=supervisor, status=201)["message_id"]

        def failed():
            items = self.call("GET", "/conversations/%s/messages" % conv, key=supervisor)["items"]
            return [m for m in items if m["message_id"] == mid and m["status"] == "failed"]
        self.assertTrue(harness.wait_for(failed, timeout=15))
        self.call("POST", "/conversations/%s/messages/%s/retry" % (conv, mid), key=supervisor,
                  status=200)

    def routing(self):
        agent = self.new_key("agent")
        me = self.ops.request("GET", T + "/me", key=agent).json()["actor_id"]
        self.call("PUT", "/routing/workers/" + me,
                  {"name": "Asha", "attributes": {"skills": {"billing": 4}},
                   "capacity": {"chat": 1, "voice": 1}}, status=200)
        for q in ("q1", "q2"):
            self.call("PUT", "/routing/queues/" + q,
                      {"name": q, "target_expression": "worker.skills.billing >= 2",
                       "reservation_timeout_s": 1, "wrap_up_s": 60}, status=200)
        self.call("PUT", "/routing/workflows/default",
                  {"filters": [], "default_filter": {"targets": [{"queue_id": "q1",
                                                                  "timeout_s": 1},
                                                                 {"queue_id": "q2"}]}},
                  status=200)

        def task(channel="chat"):
            return self.call("POST", "/routing/tasks", {"channel": channel, "attributes": {}},
                             status=201)["task_id"]

        def activity(name):
            self.call("POST", "/routing/workers/me/activity", {"activity": name}, key=agent,
                      status=200)

        def offer_for(task_id):
            def find():
                res = self.ops.request("GET", R + "/me", key=agent).json()["reservations"]
                mine = [x["reservation_id"] for x in res if x["task_id"] == task_id]
                return mine[0] if mine else None
            found = harness.wait_for(find, timeout=15)
            self.assertIsNotNone(found, "no offer for " + task_id)
            return found

        # The agent is offline: a waiting task escalates past its first target's deadline.
        t0 = task()
        self.wait_for_type("task_escalated")
        self.call("POST", "/routing/tasks/%s/cancel" % t0, {"reason": "test"}, status=200)
        tcb = task("voice")
        at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2)
        self.call("POST", "/routing/tasks/%s/callback" % tcb,
                  {"at": at.strftime("%Y-%m-%dT%H:%M:%SZ")}, status=200)
        self.wait_for_type("callback_released")
        self.call("POST", "/routing/tasks/%s/cancel" % tcb, {"reason": "test"}, status=200)
        # Offers: one times out, one is rejected, one is accepted and worked, one is cancelled.
        activity("available")
        offer_for(task())
        self.wait_for_type("reservation_timed_out")
        activity("available")
        rejected = offer_for(task())
        self.call("POST", "/routing/reservations/%s/reject" % rejected, {}, key=agent, status=200)
        t3 = task()
        self.call("POST", "/routing/reservations/%s/accept" % offer_for(t3), {}, key=agent,
                  status=200)
        self.call("POST", "/routing/tasks/%s/complete" % t3, {}, key=agent, status=200)
        self.call("POST", "/routing/tasks/%s/wrap-up" % t3, {}, key=agent, status=200)
        t4 = task()
        offer_for(t4)
        self.call("POST", "/routing/tasks/%s/cancel" % t4, {"reason": "test"}, status=200)
        # On a break, a task transferred to the agent keeps it only for its sticky time.
        activity("break")
        t5 = task()
        self.call("POST", "/routing/tasks/%s/transfer" % t5,
                  {"to_worker_id": me, "sticky_timeout_s": 1}, key=self.new_key("supervisor"),
                  status=200)
        self.wait_for_type("task_sticky_expired")

    def cases(self):
        # Issue #19: a complaint with second-long targets: at risk, breached, moved and noted;
        # approvals requested, approved and rejected.
        self.call("PUT", "/case-settings",
                  {"calendar": {"zone": "UTC"},
                   "sla_policies": [{"type": "complaint", "first_response_s": 1,
                                     "resolution_s": 2, "business_time": False}]}, status=200)
        agent = self.new_key("agent")
        case_id = self.call("POST", "/cases", {"type": "complaint", "category": "cards",
                                               "subject": "Card blocked", "customer_id": "cus_x1",
                                               "description": "blocked abroad"},
                            key=agent, status=201)["case_id"]
        self.call("POST", "/cases/%s/notes" % case_id, {"text": "called back"}, key=agent,
                  status=201)
        self.call("POST", "/cases/%s/transitions" % case_id, {"to": "open"}, key=agent,
                  status=200)
        self.wait_for_type("case_sla_at_risk")
        self.wait_for_type("case_sla_breached")
        # Maker-checker: one request approved (its action runs), one rejected.
        maker, checker = self.new_key("supervisor"), self.new_key("supervisor")
        ids = [self.call("POST", "/approvals", {"action": "refund", "amount_minor": 100 + i,
                                                "currency": "INR", "target": case_id,
                                                "reason": "charged twice"},
                         key=maker, status=201)["approval_id"] for i in range(2)]
        self.call("POST", "/approvals/%s/approve" % ids[0], None, key=checker, status=200)
        self.call("POST", "/approvals/%s/reject" % ids[1], {"reason": "not charged twice"},
                  key=checker, status=200)

    def collections(self):
        # Issue #11: two snapshots through `opsbox collections import` (accounts upserted, a
        # bucket moved) and an inbound contact attempt through the API.
        header = "account_id,customer_id,product,currency,outstanding,days_past_due,phones\n"
        for day, dpd in (("1", 0), ("2", 40)):
            path = os.path.join(self.ops.dir, "portfolio-%s.csv" % day)
            with open(path, "w") as f:
                f.write(header + "A1,C1,card,INR,10.00,%d,+919800000001\n" % dpd)
            self.ops.cli("collections", "import", "--tenant", "acme", path)
        self.call("POST", "/collections/accounts/A1/attempts",
                  {"channel": "voice", "direction": "inbound", "outcome": "callback_requested"},
                  key=self.new_key("agent"), status=201)

    def automation(self):
        # Issue #12: a policy change, a session with every event type, a handoff and a review.
        self.call("PUT", "/automation/policy", {"rules": [], "reason": "scenario"}, status=200)
        bot = self.new_key("integration")
        s = self.call("POST", "/automation/sessions", {"platform": "bot", "channel": "chat"},
                      key=bot, status=201)["session_id"]
        for event in ({"type": "intent", "intent": "card_arrival", "confidence": 0.9},
                      {"type": "authentication", "status": "verified"},
                      {"type": "slot", "name": "card_last4", "value": "1234"},
                      {"type": "step", "name": "track", "result": "failed"},
                      {"type": "sentiment", "score": -0.2},
                      {"type": "utterance", "speaker": "customer", "text": "where is my card"},
                      {"type": "outcome", "outcome": "failed", "reason": "courier down"}):
            self.call("POST", "/automation/sessions/%s/events" % s, event, key=bot, status=201)
        self.call("POST", "/automation/sessions/%s/review" % s, {"useful": True},
                  key=self.new_key("agent"), status=201)

    def kpis(self):
        # Issue #13: the KPI aggregates rebuilt from the ledger (an administrator's repair).
        self.call("POST", "/kpis/rebuild", {}, status=200)
        # Issue #13: a client contract.
        self.call("PUT", "/billing/contract",
                  {"client_name": "Acme Bank", "currency": "INR",
                   "effective_month": time.strftime("%Y-%m", time.gmtime()),
                   "pricing": {"per_contact_minor": 1000}}, status=200)

    # --- checks ---
    def assertNoSecret(self, where, event):
        payload = event.get("payload")
        if isinstance(payload, dict):
            for field in SECRET_FIELDS & set(payload):
                self.assertEqual(payload[field], "[redacted]",
                                 "%s: %s carries %s" % (where, event["type"], field))
        text = json.dumps(event)
        for secret in self.known_secrets():
            self.assertNotIn(secret, text, "%s: %s carries a known secret" % (where,
                                                                              event["type"]))

    def known_secrets(self):
        out = set(self.secrets)
        out.update(sha256_hex(s) for s in self.secrets)
        for row in harness.sql(self.ops.db, "SELECT password_hash FROM users").split():
            out.add(row.strip())
        return {s for s in out if len(s) >= 8}

    def test_no_event_type_carries_a_secret_to_a_star_subscriber_or_the_export(self):
        self.identity()
        self.integrations()
        self.wfm()
        customer = self.intake()
        self.privacy(customer)
        self.routing()
        self.cases()
        self.collections()
        self.automation()
        self.kpis()

        declared = set(self.ops.cli("ledger", "event-types").stdout.split())
        self.assertIn("user_created", declared)
        self.assertLessEqual(set(NOT_PRODUCED), declared, "NOT_PRODUCED names unknown types")
        exported = [json.loads(line) for line in
                    self.ops.cli("ledger", "export", "--tenant", "acme").stdout.splitlines()]
        count = len(exported)

        def all_delivered():
            bodies = [json.loads(b) for _, b in self.receiver.delivered()]
            seqs = {b["seq"] for b in bodies}
            return bodies if seqs >= {e["seq"] for e in exported
                                      if e["seq"] > self.sub_seq(exported)} else None
        bodies = harness.wait_for(all_delivered, timeout=30)
        self.assertIsNotNone(bodies, "not every event after the subscription was delivered")
        delivered_types = {b["type"] for b in bodies}
        exported_types = {e["type"] for e in exported}
        missing = declared - delivered_types - set(NOT_PRODUCED)
        self.assertEqual(missing, set(), "declared event types the scenario did not deliver")
        self.assertEqual(declared - exported_types - {"retention_applied"}, set())
        for e in exported:
            self.assertNoSecret("export", e)
        for b in bodies:
            self.assertNoSecret("webhook", b)
        self.assertGreater(count, len(declared))

        # The stored ledger holds no usable credential: sealed values only, chain intact.
        stored = harness.sql(self.ops.db, "SELECT payload FROM ledger_events WHERE type IN "
                                          "('user_created', 'api_key_created', "
                                          "'login_succeeded', 'webhook_subscription_created')")
        self.assertNotIn("$argon2id$", stored)
        for secret in self.known_secrets():
            self.assertNotIn(secret, stored)
        for line in stored.splitlines():
            payload = json.loads(line)
            for field in SECRET_FIELDS & set(payload):
                self.assertTrue(payload[field].startswith("pii:v1:"), line)
        self.assertEqual(self.ops.verify("acme").returncode, 0)

    def sub_seq(self, exported):
        for e in exported:
            if (e["type"] == "webhook_subscription_created" and
                    e["payload"]["subscription_id"] == self.sub["subscription_id"]):
                return e["seq"]
        raise AssertionError("the subscription's own event is missing")


if __name__ == "__main__":
    unittest.main()
