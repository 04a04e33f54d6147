"""Goal: the automation boundary over HTTP on the real binary, on SQLite and PostgreSQL (issue
#12): the built-in policy puts fraud and unknown off limits; compliance declares a new version,
effective now or later, recorded on the ledger with the version; an inbound chat message records
the boundary of its intent with the policy version that decided it, on conversation_opened and
on the routed task; a bot's session events build a handoff packet whose transcript is masked
on arrival; a handoff missing a field its intent requires is refused with 422 naming the field
and records nothing; a complete handoff creates a routed task carrying the packet's summary,
offered to the agent, who reads the packet and reviews it; the acceptance rate per intent
counts the reviews."""
import os
import subprocess
import tempfile
import unittest

from harness import BIN, OpsboxTestCase, wait_for

A = "/api/v1/tenants/acme/automation"
R = "/api/v1/tenants/acme/routing"
FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "intents",
                       "small.csv")
MODEL_DIR = tempfile.mkdtemp(prefix="opsbox-automation-")
MODEL = os.path.join(MODEL_DIR, "small.model")


def setUpModule():
    r = subprocess.run([BIN, "intents", "train", "--data", FIXTURE, "--out", MODEL,
                        "--validation-share", "0.2"], capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        raise AssertionError("training the fixture model failed: " + r.stderr)


def tearDownModule():
    for name in os.listdir(MODEL_DIR):
        os.remove(os.path.join(MODEL_DIR, name))
    os.rmdir(MODEL_DIR)


POLICY = {"rules": [{"intent": "card_arrival", "channel": "*", "boundary": "self_serve",
                     "required_slots": ["card_last4"]},
                    {"intent": "card_arrival", "channel": "voice", "boundary": "human_review"}],
          "reason": "pilot: card delivery questions on chat"}


class AutomationTest(OpsboxTestCase):
    config_text = '[intents]\nmodel_path = "%s"\n' % MODEL

    def setUp(self):
        super().setUp()
        self.compliance = self.ops.create_api_key("acme", "compliance_officer")
        self.bot = self.ops.create_api_key("acme", "integration")
        self.agent = self.ops.create_api_key("acme", "agent")
        self.supervisor = self.ops.create_api_key("acme", "supervisor")
        self.ops.start()

    def call(self, method, path, body=None, key=None):
        return self.ops.request(method, path, body, key=key)

    def session(self, channel="chat"):
        r = self.call("POST", A + "/sessions", {"platform": "acme-bot", "channel": channel},
                      key=self.bot)
        self.assertEqual(r.status, 201, r.body)
        return r.json()["session_id"]

    def event(self, session, body, status=201):
        r = self.call("POST", A + "/sessions/%s/events" % session, body, key=self.bot)
        self.assertEqual(r.status, status, r.body)
        return r

    def test_a_policy_change_is_a_new_version_on_the_ledger_effective_from_its_instant(self):
        r = self.call("GET", A + "/policy", key=self.compliance)
        self.assertEqual(r.status, 200, r.body)
        builtin = r.json()["policy"]
        self.assertEqual(builtin["version"], 0)
        for intent in ("fraud", "complaint", "bereavement", "unknown", "lost_or_stolen_card"):
            self.assertIn(intent, builtin["exclusion_intents"])
        # An agent reads the policy but cannot change it; the bot cannot either.
        self.assertProblem(self.call("PUT", A + "/policy", POLICY, key=self.agent), 403)
        self.assertProblem(self.call("PUT", A + "/policy", POLICY, key=self.bot), 403)
        r = self.call("PUT", A + "/policy", POLICY, key=self.compliance)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["version"], 1)
        later = dict(POLICY, rules=[], reason="pause", effective_at="2099-01-01T00:00:00Z")
        self.assertEqual(self.call("PUT", A + "/policy", later, key=self.compliance).json()
                         ["version"], 2)
        now = self.call("GET", A + "/policy", key=self.agent).json()
        self.assertEqual(now["policy"]["version"], 1)
        self.assertEqual([p["version"] for p in now["scheduled"]], [2])
        at = self.call("GET", A + "/policy?at=2099-01-02T00:00:00Z", key=self.agent).json()
        self.assertEqual(at["policy"]["version"], 2)
        changed = [e for e in self.ops.events("acme", self.key)
                   if e["type"] == "automation_policy_changed"]
        self.assertEqual([e["payload"]["version"] for e in changed], [1, 2])
        self.assertEqual(changed[0]["payload"]["approval"], "pending_maker_checker")
        self.assertEqual(changed[0]["payload"]["reason"], POLICY["reason"])

    def test_bad_policies_are_refused_naming_the_field_and_rule(self):
        def put(body):
            return self.call("PUT", A + "/policy", body, key=self.compliance)
        self.assertProblem(put({"rules": [{"intent": "x", "boundary": "sometimes"}],
                                "reason": "r"}), 400, field="rules[0].boundary", rule="enum")
        self.assertProblem(put({"rules": [], "reason": "r",
                                "effective_at": "2020-01-01T00:00:00Z"}), 400,
                           field="effective_at", rule="not_in_past")
        self.assertProblem(put({"rules": []}), 400, field="reason", rule="required")
        rules = [{"intent": "i%d" % i, "boundary": "self_serve"} for i in range(1000)]
        self.assertEqual(put({"rules": rules, "reason": "many"}).status, 200)
        self.assertProblem(put({"rules": rules + [{"intent": "x", "boundary": "self_serve"}],
                                "reason": "too many"}), 400, field="rules", rule="max_items")

    def test_an_inbound_message_records_its_boundary_and_the_deciding_policy_version(self):
        self.assertEqual(self.call("PUT", A + "/policy", POLICY, key=self.compliance).status, 200)
        r = self.call("PUT", R + "/queues/general", {"name": "general"}, key=self.supervisor)
        self.assertEqual(r.status, 200, r.body)
        r = self.call("PUT", R + "/workflows/default",
                      {"filters": [], "default_filter": {"targets": [{"queue_id": "general"}]}},
                      key=self.supervisor)
        self.assertEqual(r.status, 200, r.body)
        for i, text in enumerate(["my card still has not arrived", "Someone stole my card"]):
            r = self.call("POST", "/api/v1/tenants/acme/channels/chat/messages",
                          {"provider_message_id": "chat-b-%d" % i, "text": text,
                           "from": {"external_id": "crm-%d" % i}}, key=self.bot)
            self.assertEqual(r.status, 200, r.body)

        def tasks():
            return [e for e in self.ops.events("acme", self.key) if e["type"] == "task_created"]
        self.assertTrue(wait_for(lambda: len(tasks()) == 2), tasks())
        opened = {e["payload"]["intent"]: e["payload"] for e in self.ops.events("acme", self.key)
                  if e["type"] == "conversation_opened"}
        self.assertEqual(opened["card_arrival"]["automation_boundary"], "self_serve")
        self.assertEqual(opened["card_arrival"]["automation_policy_version"], 1)
        self.assertEqual(opened["lost_or_stolen_card"]["automation_boundary"], "off_limits")
        by_intent = {t["payload"]["attributes"]["intent"]: t["payload"]["attributes"]
                     for t in tasks()}
        self.assertEqual(by_intent["lost_or_stolen_card"]["automation_boundary"], "off_limits")
        self.assertEqual(by_intent["card_arrival"]["automation_policy_version"], 1)

    def test_a_handoff_creates_a_task_whose_packet_the_agent_reads_first_and_reviews(self):
        self.assertEqual(self.call("PUT", A + "/policy", POLICY, key=self.compliance).status, 200)
        me = self.call("GET", "/api/v1/tenants/acme/me", key=self.agent).json()
        agent_id = me["actor_id"]
        for path, body in (
                ("/workers/" + agent_id, {"name": "Asha", "capacity": {"chat": 1}}),
                ("/queues/cards", {"name": "Cards"}),
                ("/workflows/default", {"filters": [], "default_filter":
                                        {"targets": [{"queue_id": "cards"}]}})):
            r = self.call("PUT", R + path, body, key=self.supervisor)
            self.assertEqual(r.status, 200, r.body)
        r = self.call("POST", R + "/workers/me/activity", {"activity": "available"},
                      key=self.agent)
        self.assertEqual(r.status, 200, r.body)

        s = self.session()
        r = self.event(s, {"type": "intent", "intent": "card_arrival", "confidence": 0.93})
        self.assertEqual(r.json()["boundary"], "self_serve")
        self.assertEqual(r.json()["policy_version"], 1)
        self.event(s, {"type": "utterance", "speaker": "customer",
                       "text": "my card 4111 1111 1111 1111 never came, phone +91 98765 43210"})
        self.event(s, {"type": "step", "name": "track_delivery", "result": "failed"})
        self.event(s, {"type": "sentiment", "score": -0.4})
        handoff = {"type": "outcome", "outcome": "failed", "reason": "courier system down"}
        # Refused until the packet holds what the intent needs; nothing is recorded meanwhile.
        before = len(self.ops.events("acme", self.key))
        self.assertProblem(self.call("POST", A + "/sessions/%s/events" % s, handoff,
                                     key=self.bot), 422, field="authentication_status",
                           rule="required_for_handoff")
        self.event(s, {"type": "authentication", "status": "verified", "method": "otp"})
        self.assertProblem(self.call("POST", A + "/sessions/%s/events" % s, handoff,
                                     key=self.bot), 422, field="slots.card_last4",
                           rule="required_for_handoff")
        self.assertEqual(len(self.ops.events("acme", self.key)), before + 1)
        self.event(s, {"type": "slot", "name": "card_last4", "value": "1111"})
        r = self.event(s, handoff)
        self.assertEqual(r.json()["status"], "handed_off")
        task_id = r.json()["task_id"]

        def offers():
            return self.call("GET", R + "/me", key=self.agent).json()["reservations"]
        self.assertTrue(wait_for(offers), "the handoff was not offered to the agent")
        offer = offers()[0]
        self.assertEqual(offer["task_id"], task_id)
        task = self.call("GET", R + "/tasks/" + task_id, key=self.supervisor).json()
        attributes = task["attributes"]
        self.assertEqual(attributes["type"], "automation_handoff")
        self.assertEqual(attributes["session_id"], s)
        self.assertEqual(attributes["intent"], "card_arrival")
        self.assertEqual(attributes["authentication_status"], "verified")

        packet = self.call("GET", A + "/sessions/" + s, key=self.agent)
        self.assertEqual(packet.status, 200, packet.body)
        p = packet.json()
        self.assertEqual(p["status"], "handed_off")
        self.assertEqual(p["steps"], [{"name": "track_delivery", "result": "failed"}])
        self.assertEqual(p["outcome"], "failed")
        line = p["transcript"][0]["text"]
        self.assertNotIn("4111", line)
        self.assertNotIn("98765", line)
        self.assertIn("[CARD]", line)
        ledger_text = "".join(str(e["payload"]) for e in self.ops.events("acme", self.key))
        self.assertNotIn("4111 1111 1111 1111", ledger_text)

        review = A + "/sessions/%s/review" % s
        self.assertProblem(self.call("POST", review, {"useful": True}, key=self.bot), 403)
        self.assertProblem(self.call("POST", review, {"useful": False}, key=self.agent), 400,
                           field="missing", rule="required")
        r = self.call("POST", review, {"useful": False, "missing": ["slots.delivery_address"]},
                      key=self.agent)
        self.assertEqual(r.status, 201, r.body)
        self.assertProblem(self.call("POST", review, {"useful": True}, key=self.agent), 409,
                           rule="already_reviewed")
        kpi = self.call("GET", A + "/handoff-acceptance", key=self.supervisor)
        self.assertEqual(kpi.status, 200, kpi.body)
        row = kpi.json()["intents"][0]
        self.assertEqual((row["intent"], row["handoffs"], row["reviewed"], row["useful"]),
                         ("card_arrival", 1, 1, 0))
        self.assertEqual(row["acceptance_rate"], 0)
        self.assertEqual(row["missing"], {"slots.delivery_address": 1})

    def test_session_input_is_checked_at_the_limit_and_one_past(self):
        s = self.session()
        at_limit = "a" * 4096
        self.event(s, {"type": "utterance", "speaker": "customer", "text": at_limit})
        self.assertProblem(self.call("POST", A + "/sessions/%s/events" % s,
                                     {"type": "utterance", "speaker": "customer",
                                      "text": at_limit + "a"}, key=self.bot), 400, field="text")
        self.assertProblem(self.call("POST", A + "/sessions/%s/events" % s,
                                     {"type": "mood"}, key=self.bot), 400, field="type",
                           rule="enum")
        self.assertProblem(self.call("POST", A + "/sessions/auto_missing/events",
                                     {"type": "sentiment", "score": 0}, key=self.bot), 404)
        self.assertProblem(self.call("POST", A + "/sessions", {"platform": "x",
                                                               "channel": "Chat Web"},
                                     key=self.bot), 400, field="channel", rule="format")
        self.assertProblem(self.call("GET", A + "/sessions/auto_missing", key=self.agent), 404)


if __name__ == "__main__":
    unittest.main()
