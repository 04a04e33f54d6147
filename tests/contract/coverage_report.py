"""Goal: report how much of the API document the test suite holds the server to. Adds up the
(operationId, status) pairs whose responses tests/integration/contract.py (and the browser
tests' web/tests/lib/contract.mjs) checked against the served document during this ctest run,
writes coverage.json and coverage.txt beside them ($OPSBOX_CONTRACT_DIR) and prints the summary.
Fails when nothing was checked: then the response check is not hooked in."""

import glob
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import contract  # noqa: E402
import harness  # noqa: E402

OUT = os.environ.get("OPSBOX_CONTRACT_DIR", "")


def is_success(status_key):
    return status_key.startswith("2") or status_key == "101"


class Coverage(unittest.TestCase):
    def test_the_suite_checked_responses_against_the_document_and_reports_its_coverage(self):
        self.assertTrue(OUT, "OPSBOX_CONTRACT_DIR names the folder of the tallies")
        checked = {}
        for name in glob.glob(os.path.join(OUT, "checked-*.json")):
            with open(name) as f:
                for pair, n in json.load(f).items():
                    checked[pair] = checked.get(pair, 0) + n
        self.assertTrue(checked, "no response was checked against the document in " + OUT)
        ops = harness.Opsbox()
        self.addCleanup(ops.close)
        ops.start()
        doc = json.loads(ops.request("GET", "/api/v1/openapi.json").body)
        documented = contract.documented_statuses(doc)
        pairs = {(p.split(" ")[0], p.split(" ")[1]) for p in checked}
        ops_hit = {op for op, _ in pairs}
        success = {(op, s) for op, ss in documented.items() for s in ss if is_success(s)}
        allst = {(op, s) for op, ss in documented.items() for s in ss if s != "default"}
        lines = [
            "operations with a checked response: %d of %d" % (len(ops_hit & set(documented)),
                                                            len(documented)),
            "documented success statuses checked: %d of %d" % (len(pairs & success), len(success)),
            "documented statuses checked (all, without default): %d of %d"
            % (len(pairs & allst), len(allst)),
            "responses checked: %d" % sum(checked.values()),
            "",
            "operations never exercised:",
        ]
        lines += ["  " + op for op in sorted(set(documented) - ops_hit)]
        lines += ["", "success statuses never exercised:"]
        lines += ["  %s %s" % p for p in sorted(success - pairs) if p[0] in ops_hit]
        report = "\n".join(lines) + "\n"
        with open(os.path.join(OUT, "coverage.txt"), "w") as f:
            f.write(report)
        with open(os.path.join(OUT, "coverage.json"), "w") as f:
            json.dump({"checked": checked, "documented": documented}, f, indent=1, sort_keys=True)
        print(report)


if __name__ == "__main__":
    unittest.main()
