"""The API document as a contract in the tests: every response the integration tests receive is
checked against the schema the served OpenAPI document gives for that operation and status
(JSON Schema 2020-12 through python3-jsonschema). A status the operation does not document, a
body that does not match, or an event type the document's `webhooks` do not list raises
ContractError, which fails the test. Each checked (operationId, status) is tallied into
$OPSBOX_CONTRACT_DIR (one file per test process; tests/contract/coverage_report.py adds them up).
"""

import json
import os
import uuid

import jsonschema

DOC_ID = "urn:opsbox:openapi"
METHODS = ("get", "put", "post", "delete", "patch")


class ContractError(AssertionError):
    pass


def _pointer(*parts):
    return "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


class Contract:
    """The served document, its routes, and a validator per schema location."""

    def __init__(self, text):
        self.doc = json.loads(text)
        self.doc["$id"] = DOC_ID
        self.routes = []  # (method, segments, template)
        for path, item in self.doc.get("paths", {}).items():
            for method in item:
                if method in METHODS:
                    self.routes.append((method.upper(), path.strip("/").split("/"), path))
        self.event_types = set(self.doc.get("webhooks", {}).keys())
        self._validators = {}
        cls = jsonschema.validators.Draft202012Validator
        try:
            import referencing
            import referencing.jsonschema
            resource = referencing.Resource.from_contents(
                self.doc, default_specification=referencing.jsonschema.DRAFT202012)
            registry = referencing.Registry().with_resource(DOC_ID, resource)
            self._make = lambda ref: cls({"$ref": ref}, registry=registry,
                                         format_checker=cls.FORMAT_CHECKER)
        except ImportError:  # Debian bookworm's python3-jsonschema 4.10 predates `referencing`
            resolver = jsonschema.RefResolver(DOC_ID, self.doc)
            self._make = lambda ref: cls({"$ref": ref}, resolver=resolver,
                                         format_checker=cls.FORMAT_CHECKER)

    def find(self, method, path):
        """(template, operation) for the request, preferring literal segments like the router;
        (None, None) when no operation matches."""
        segs = path.split("?", 1)[0].strip("/").split("/")
        best = None
        for m, tsegs, template in self.routes:
            if m != method or len(tsegs) != len(segs):
                continue
            key = []
            for t, s in zip(tsegs, segs):
                if t.startswith("{") and t.endswith("}"):
                    key.append(1)
                elif t == s:
                    key.append(0)
                else:
                    break
            else:
                if best is None or key < best[0]:
                    best = (key, template)
        if best is None:
            return None, None
        return best[1], self.doc["paths"][best[1]][method.lower()]

    def _resolve(self, obj, pointer):
        while isinstance(obj, dict) and "$ref" in obj:
            ref = obj["$ref"]
            assert ref.startswith("#/"), ref
            pointer = ref[1:]
            obj = self.doc
            for part in ref[2:].split("/"):
                obj = obj[part.replace("~1", "/").replace("~0", "~")]
        return obj, pointer

    def validate(self, schema_pointer, value):
        v = self._validators.get(schema_pointer)
        if v is None:
            v = self._validators[schema_pointer] = self._make(DOC_ID + "#" + schema_pointer)
        errors = sorted(v.iter_errors(value), key=lambda e: list(e.absolute_path))
        return errors

    def check(self, method, path, status, content_type, body):
        """Checks one response; returns (operationId, status key) or raises ContractError."""
        template, op = self.find(method, path)
        if op is None:
            # No operation: the router's own answers (404 no route, 405 other method) must still
            # be problem details.
            if content_type == "application/problem+json":
                self._check_body("/components/schemas/Problem", body,
                                 "%s %s -> %d" % (method, path, status))
            return None
        responses = op.get("responses", {})
        key = str(status)
        if key not in responses:
            key = str(status)[0] + "XX"
        if key not in responses and status >= 500:
            key = "default"  # the document's `default` is the server-error problem
        if key not in responses:
            raise ContractError("%s %s (%s) answered %d, which the document does not list (%s)"
                                % (method, template, op.get("operationId"), status,
                                   ", ".join(responses)))
        response, rpointer = self._resolve(
            responses[key], _pointer("", "paths", template, method.lower(), "responses", key))
        where = "%s %s (%s) -> %d" % (method, template, op.get("operationId"), status)
        content = response.get("content", {})
        if status in (101, 204, 304) or (not body and not content):
            return op.get("operationId"), key
        media = (content_type or "").split(";")[0].strip().lower()
        if media not in content:
            raise ContractError("%s: Content-Type %r is not documented (%s)"
                                % (where, content_type, ", ".join(content) or "no body"))
        if "schema" in content[media] and (media.endswith("json")):
            try:
                value = json.loads(body)
            except ValueError as e:
                raise ContractError("%s: the body is not JSON: %s" % (where, e))
            self._check_body(rpointer + _pointer("", "content", media, "schema"), value, where)
            if 200 <= status < 300:
                self._check_event_types(op.get("operationId"), value, where)
        return op.get("operationId"), key

    def _check_body(self, schema_pointer, value, where):
        if isinstance(value, (str, bytes)):
            try:
                value = json.loads(value)
            except ValueError as e:
                raise ContractError("%s: the body is not JSON: %s" % (where, e))
        errors = self.validate(schema_pointer, value)
        if errors:
            lines = ["%s: the body does not match %s:" % (where, schema_pointer)]
            for e in errors[:10]:
                lines.append("  at /%s: %s" % ("/".join(map(str, e.absolute_path)),
                                                e.message[:300]))
            raise ContractError("\n".join(lines))

    def _check_event_types(self, operation_id, value, where):
        if operation_id not in ("ledger.listEvents", "ledger.getEvent"):
            return
        events = value.get("items", []) if operation_id == "ledger.listEvents" else [value]
        for e in events:
            if isinstance(e, dict) and e.get("type") not in self.event_types:
                raise ContractError("%s: event type %r is not documented under webhooks"
                                    % (where, e.get("type")))


_contract = None
_tally = {}
_tally_file = None


def contract_for(fetch):
    """The contract of the served document; `fetch()` returns the document's text. Loaded once
    per test process (every server of the run serves the same document)."""
    global _contract
    if _contract is None:
        _contract = Contract(fetch())
    return _contract


_samples = {}
SAMPLE_BYTES_MAX = 1500  # larger bodies make poor examples


def record(operation_id, status_key, request_body=None, response_body=None):
    """Tallies a checked response. The first successful exchange of each operation with small
    JSON bodies is kept as a sample (tools/openapi/add-examples.py turns samples into the
    document's examples)."""
    global _tally_file
    if operation_id is None:
        return
    _tally[operation_id + " " + status_key] = _tally.get(operation_id + " " + status_key, 0) + 1
    if status_key.startswith("2") and operation_id + " " + status_key not in _samples:
        sample = {}
        for name, body in (("request", request_body), ("response", response_body)):
            if body and len(body) <= SAMPLE_BYTES_MAX:
                try:
                    sample[name] = json.loads(body)
                except ValueError:
                    pass
        if sample:
            _samples[operation_id + " " + status_key] = sample
    out = os.environ.get("OPSBOX_CONTRACT_DIR")
    if not out:
        return
    if _tally_file is None:
        os.makedirs(out, exist_ok=True)
        _tally_file = os.path.join(out, "checked-%d-%s.json" % (os.getpid(), uuid.uuid4().hex[:8]))
    for name, value in ((_tally_file, _tally),
                        (_tally_file.replace("checked-", "samples-"), _samples)):
        with open(name + ".tmp", "w") as f:
            json.dump(value, f)
        os.replace(name + ".tmp", name)


def documented_statuses(doc):
    """{operationId: [status keys]} of the document's paths."""
    out = {}
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if method in METHODS:
                out[op["operationId"]] = sorted(op.get("responses", {}).keys())
    return out

