"""Goal: the OpenAPI document a running opsbox serves passes Redocly CLI's recommended ruleset
with no error and no warning (tools/openapi/redocly.yaml; the only exceptions are in
tools/openapi/.redocly.lint-ignore.yaml, each with its reason). Lints what the server serves,
after the fragments are merged, not the files in the source tree."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import harness  # noqa: E402

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "openapi")
REDOCLY = os.path.join(TOOLS, "node_modules", ".bin", "redocly")


class ServedDocument(unittest.TestCase):
    def test_served_document_passes_redocly_recommended_rules_without_warnings(self):
        self.assertTrue(os.path.exists(REDOCLY), "run scripts/install-deps (tools/openapi)")
        ops = harness.Opsbox()
        self.addCleanup(ops.close)
        ops.start()
        r = ops.request("GET", "/api/v1/openapi.json")
        self.assertEqual(r.status, 200, r.body)
        work = tempfile.mkdtemp(prefix="opsbox-lint-")
        self.addCleanup(shutil.rmtree, work, True)
        with open(os.path.join(work, "openapi.json"), "w") as f:
            f.write(r.body)
        for name in ("redocly.yaml", ".redocly.lint-ignore.yaml"):
            shutil.copy(os.path.join(TOOLS, name), work)
        env = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true")
        out = subprocess.run([REDOCLY, "lint", "openapi.json", "--format=stylish",
                              "--max-problems=1000"],
                             cwd=work, env=env, capture_output=True, text=True, timeout=300)
        report = out.stdout + out.stderr
        self.assertEqual(out.returncode, 0, report)
        # "valid" with warnings still exits 0: a warning fails this test too.
        self.assertNotRegex(report, r"\b(warning|error)\s+[a-z0-9-]+\s", report)
        self.assertRegex(report, r"Your API description is valid", report)


if __name__ == "__main__":
    unittest.main()
