#!/usr/bin/env python3
"""Fills in missing examples in the OpenAPI source files (src/api/openapi.json and
src/api/openapi/*.json) from what the integration tests really sent and received: the samples
tests/integration/contract.py keeps in build/<preset>/contract/samples-*.json (the first
successful exchange of each operation, bodies of at most 1500 bytes). Only adds: an example
already written by hand stays. Every sample passed the response check when it was taken, and
Redocly's no-invalid-media-type-examples rule checks them again in contract.redocly_lint.

Usage: tools/openapi/add-examples.py build/release/contract
"""

import glob
import json
import os
import sys

API = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "api")
METHODS = ("get", "put", "post", "delete", "patch")


def has_example(media):
    return "example" in media or "examples" in media


def main(folder):
    samples = {}
    for name in sorted(glob.glob(os.path.join(folder, "samples-*.json"))):
        with open(name) as f:
            for key, sample in json.load(f).items():
                samples.setdefault(key, sample)
    added = 0
    files = [os.path.join(API, "openapi.json")] + sorted(glob.glob(os.path.join(API, "openapi", "*.json")))
    for path in files:
        with open(path) as f:
            doc = json.load(f)
        changed = False
        for item in doc.get("paths", {}).values():
            for method, op in item.items():
                if method not in METHODS:
                    continue
                for status, response in op.get("responses", {}).items():
                    sample = samples.get("%s %s" % (op.get("operationId"), status))
                    if not sample:
                        continue
                    media = response.get("content", {}).get("application/json")
                    if media is not None and "response" in sample and not has_example(media):
                        media["example"] = sample["response"]
                        changed, added = True, added + 1
                    body = op.get("requestBody", {}).get("content", {}).get("application/json")
                    if body is not None and "request" in sample and not has_example(body):
                        body["example"] = sample["request"]
                        changed, added = True, added + 1
        if changed:
            with open(path, "w") as f:
                json.dump(doc, f, indent=1)
                f.write("\n")
    print("added %d examples from %d samples" % (added, len(samples)))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
