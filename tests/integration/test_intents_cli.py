"""Goal: `opsbox intents train` and `opsbox intents classify` keep the contract of issue #12:
the flags, the model file and its card, one JSON object per input line with exactly the fields
intent, confidence and alternatives, and a model file of another format version refused.
Trains on the small fixture tests/data/intents/small.csv (well under a second)."""
import json
import os
import subprocess
import tempfile
import unittest

BIN = os.environ.get("OPSBOX_BIN", "../../build/release/src/app/opsbox")
FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "intents",
                       "small.csv")


class IntentsCliTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.model = os.path.join(self.dir.name, "small.model")

    def tearDown(self):
        self.dir.cleanup()

    def run_cli(self, *args, stdin=""):
        return subprocess.run([BIN, "intents"] + list(args), input=stdin, capture_output=True,
                              text=True, timeout=120)

    def train(self):
        r = self.run_cli("train", "--data", FIXTURE, "--out", self.model,
                         "--validation-share", "0.2")
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def test_train_writes_a_model_and_its_card_naming_classes_and_validation_accuracy(self):
        r = self.train()
        self.assertIn("trained 4 intents", r.stdout)
        with open(self.model + ".card.json") as f:
            card = json.load(f)
        self.assertEqual(sorted(card["classes"]),
                         ["card_arrival", "change_pin", "lost_or_stolen_card", "top_up"])
        self.assertEqual(card["data"]["sources"], [FIXTURE])
        self.assertIn("top1_accuracy", card["validation"])
        self.assertEqual(len(card["calibration"]["reliability_after"]), 10)

    def test_classify_json_prints_one_object_per_line_with_the_contract_fields(self):
        self.train()
        lines = ["my card has still not arrived", "I want to top up", "zqxj vvkw"]
        r = self.run_cli("classify", "--model", self.model, "--json",
                         stdin="\n".join(lines) + "\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual(len(out), 3)
        for o in out:
            self.assertEqual(list(o.keys()), ["intent", "confidence", "alternatives"])
            self.assertGreaterEqual(o["confidence"], 0.0)
            self.assertLessEqual(o["confidence"], 1.0)
            for a in o["alternatives"]:
                self.assertEqual(sorted(a.keys()), ["confidence", "intent"])
        self.assertEqual(out[0]["intent"], "card_arrival")
        self.assertEqual(out[1]["intent"], "top_up")
        self.assertEqual(out[2]["intent"], "unknown")

    def test_classify_refuses_a_model_file_of_another_format_version(self):
        self.train()
        with open(self.model, "rb") as f:
            data = f.read()
        with open(self.model, "wb") as f:
            f.write(data.replace(b"format_version 1\n", b"format_version 9\n", 1))
        r = self.run_cli("classify", "--model", self.model, "--json", stdin="hello\n")
        self.assertEqual(r.returncode, 2)
        self.assertIn("format_version", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_train_refuses_a_csv_without_a_category_column_naming_the_rule(self):
        bad = os.path.join(self.dir.name, "bad.csv")
        with open(bad, "w") as f:
            f.write("text,label\nhello,top_up\n")
        r = self.run_cli("train", "--data", bad, "--out", self.model)
        self.assertEqual(r.returncode, 2)
        self.assertIn("rule header", r.stderr)
        self.assertFalse(os.path.exists(self.model))


if __name__ == "__main__":
    unittest.main()
