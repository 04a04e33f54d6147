"""Goal: the intent classifier served by the real binary (issue #12, "Serving"), on SQLite and
PostgreSQL: POST /intents/classify answers the contract fields with the model named by
intents.model_path, refuses a text one byte past the limit naming the field, and answers 409
for a tenant without a model; an inbound chat message that opens a conversation carries its
intent into conversation_opened and into the routed task's attributes. The model is trained
on tests/data/intents/small.csv by `opsbox intents train` (well under a second)."""
import os
import subprocess
import tempfile
import unittest

from harness import BIN, OpsboxTestCase, wait_for

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "intents",
                       "small.csv")
MODEL_DIR = tempfile.mkdtemp(prefix="opsbox-intents-")
MODEL = os.path.join(MODEL_DIR, "small.model")
TEXT_BYTES_MAX = 4096
T = "/api/v1/tenants/acme"


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


class IntentsServingTest(OpsboxTestCase):
    config_text = '[intents]\nmodel_path = "%s"\n' % MODEL

    def setUp(self):
        super().setUp()
        self.agent = self.ops.create_api_key("acme", "agent")
        self.integration = self.ops.create_api_key("acme", "integration")
        self.ops.start()

    def classify(self, body, key=None):
        return self.ops.request("POST", T + "/intents/classify", body, key=key or self.agent)

    def test_classify_answers_intent_confidence_and_alternatives(self):
        r = self.classify({"text": "my card still has not arrived", "alternatives": 2})
        self.assertEqual(r.status, 200, r.body)
        body = r.json()
        self.assertEqual(sorted(body.keys()), ["alternatives", "confidence", "intent"])
        self.assertEqual(body["intent"], "card_arrival")
        self.assertEqual(len(body["alternatives"]), 2)
        self.assertEqual(self.classify({"text": "zqxj vvkw"}).json()["intent"], "unknown")

    def test_classify_reads_a_text_at_the_limit_and_refuses_one_byte_more(self):
        at_limit = ("top up " * TEXT_BYTES_MAX)[:TEXT_BYTES_MAX]
        self.assertEqual(self.classify({"text": at_limit}).status, 200)
        self.assertProblem(self.classify({"text": at_limit + "x"}), 400, field="text")
        self.assertProblem(self.classify({"text": "hi", "alternatives": 11}), 400,
                           field="alternatives", rule="range")
        self.assertProblem(self.classify({"words": "hi"}), 400)

    def test_an_inbound_chat_message_routes_a_task_carrying_its_intent(self):
        # Stolen cards go to their own queue by the task's intent attribute.
        supervisor = self.ops.create_api_key("acme", "supervisor")
        for queue in ("cards_fraud", "general"):
            r = self.ops.request("PUT", T + "/routing/queues/" + queue, {"name": queue},
                                 key=supervisor)
            self.assertEqual(r.status, 200, r.body)
        r = self.ops.request("PUT", T + "/routing/workflows/default", {
            "filters": [{"name": "stolen", "expression": 'task.intent == "lost_or_stolen_card"',
                         "targets": [{"queue_id": "cards_fraud"}]}],
            "default_filter": {"targets": [{"queue_id": "general"}]}}, key=supervisor)
        self.assertEqual(r.status, 200, r.body)
        r = self.ops.request("POST", T + "/channels/chat/messages",
                             {"provider_message_id": "chat-intent-1",
                              "text": "Someone stole my card yesterday",
                              "from": {"external_id": "crm-1"}}, key=self.integration)
        self.assertEqual(r.status, 200, r.body)

        def task_created():
            for e in self.ops.events("acme", self.key):
                if e["type"] == "task_created":
                    return e
            return None

        self.assertTrue(wait_for(lambda: task_created() is not None), "no task was created")
        opened = [e for e in self.ops.events("acme", self.key)
                  if e["type"] == "conversation_opened"]
        self.assertEqual(len(opened), 1)
        self.assertEqual(opened[0]["payload"]["intent"], "lost_or_stolen_card")
        confidence_bp = opened[0]["payload"]["intent_confidence_bp"]
        self.assertTrue(0 <= confidence_bp <= 10000)
        attributes = task_created()["payload"]["attributes"]
        self.assertEqual(attributes["intent"], "lost_or_stolen_card")
        self.assertEqual(attributes["intent_confidence_bp"], confidence_bp)
        self.assertEqual(task_created()["payload"]["queue_id"], "cards_fraud")


class IntentsWithoutModelTest(OpsboxTestCase):
    def test_classify_answers_409_when_the_tenant_has_no_model(self):
        self.ops.start()
        r = self.ops.request("POST", T + "/intents/classify", {"text": "hello"}, key=self.key)
        self.assertProblem(r, 409, rule="intent_model_missing")


class IntentsBadModelPathTest(OpsboxTestCase):
    """Regression: a bad intents.model_path made every CLI command fail, because the CLI's
    shared module registration loaded the model. Only `serve`, which classifies, needs it."""
    config_text = '[intents]\nmodel_path = "%s"\n' % os.path.join(MODEL_DIR, "missing.model")

    def test_cli_commands_run_with_a_bad_model_path_and_serve_refuses_it_by_key(self):
        # setUp already created the tenant and an API key through the CLI with this config.
        self.ops.create_api_key("acme", "agent")
        self.assertEqual(self.ops.cli("ledger", "event-types").returncode, 0)
        r = subprocess.run([BIN, "serve", "--db", self.ops.db, "--config", self.ops.config,
                            "--listen", "127.0.0.1:0"], capture_output=True, text=True,
                           timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("intents.model_path", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
