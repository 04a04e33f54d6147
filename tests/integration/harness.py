"""Test harness: runs the real opsbox binary on a free loopback port, on SQLite or on the
throwaway PostgreSQL (scripts/pg-tmp, started by the CTest fixture), and talks to it over HTTP
with nothing but Python's standard library."""

import hashlib
import http.client
import http.server
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

import contract

BIN = os.environ.get("OPSBOX_BIN", "opsbox")
BACKEND = os.environ.get("OPSBOX_TEST_BACKEND", "sqlite")


def pg_admin_url():
    path = os.environ.get("OPSBOX_PG_URL_FILE", "")
    if not path or not os.path.exists(path):
        raise RuntimeError("OPSBOX_PG_URL_FILE must name the url file of scripts/pg-tmp "
                           "(run the tests under ctest)")
    with open(path) as f:
        return f.read().strip()


def sql(db_url, statement):
    """Runs SQL directly against the database (for tamper tests); returns stdout."""
    if db_url.startswith("sqlite:"):
        cmd = ["sqlite3", db_url[len("sqlite:"):], statement]
    else:
        cmd = ["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", db_url, "-c", statement]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body) if self.body else None

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


class Opsbox:
    """One database and (when started) one server process over it."""

    # The test configuration's outbound allowance: the fakes of webhook receivers and providers
    # are plain-http servers on loopback, which the default outbound policy refuses (issue
    # #17). Tests of the policy itself pass loopback_receivers=False.
    TEST_OUTBOUND = "[outbound]\nallow_http = true\nallow_loopback = true\n"

    def __init__(self, config_text="", loopback_receivers=True):
        self.dir = tempfile.mkdtemp(prefix="opsbox-it-")
        if BACKEND == "sqlite":
            self.db = "sqlite:" + os.path.join(self.dir, "opsbox.db")
        else:
            admin = pg_admin_url()
            name = "opsbox_it_" + uuid.uuid4().hex[:12]
            sql(admin, "CREATE DATABASE " + name)
            self.db = admin.rsplit("/", 1)[0] + "/" + name
        self.config = os.path.join(self.dir, "opsbox.toml")
        with open(self.config, "w") as f:
            f.write('data_dir = "%s"\n' % self.dir)
            f.write("[ledger]\ncheckpoint_interval_ms = 200\n")
            # Tests send bursts from one loopback address and one key: budgets out of the way,
            # except in the tests of the budgets themselves (which bring their own section).
            if "[rate_limit]" not in config_text:
                f.write("[rate_limit]\n" + "".join(
                    "%s_%s = 1000000\n" % (who, what)
                    for who in ("api_key", "session", "address", "provider")
                    for what in ("per_s", "burst")))
            if loopback_receivers:
                f.write(self.TEST_OUTBOUND)
            f.write(config_text)
        self.proc = None
        self.port = None
        self.log = os.path.join(self.dir, "server.log")

    # --- CLI ---
    def cli(self, *args, stdin=None, check=True):
        cmd = [BIN] + list(args[:2]) + ["--db", self.db, "--config", self.config] + list(args[2:])
        if args and args[0] in ("migrate",):
            cmd = [BIN, args[0], "--db", self.db, "--config", self.config] + list(args[1:])
        r = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
        if check and r.returncode != 0:
            raise AssertionError("%s failed (%d): %s %s" % (cmd, r.returncode, r.stdout, r.stderr))
        return r

    def create_tenant(self, tenant):
        self.cli("admin", "create-tenant", "--tenant", tenant, "--name", tenant.title())

    def create_api_key(self, tenant, *roles):
        args = ["admin", "create-api-key", "--tenant", tenant, "--name", "key-" + "-".join(roles)]
        for r in roles:
            args += ["--role", r]
        out = self.cli(*args).stdout
        return json.loads(out)["key"]

    def create_user(self, tenant, username, password, *roles):
        args = ["admin", "create-user", "--tenant", tenant, "--username", username,
                "--password-stdin"]
        for r in roles:
            args += ["--role", r]
        self.cli(*args, stdin=password + "\n")

    def verify(self, tenant=None):
        args = [BIN, "ledger", "verify", "--db", self.db, "--config", self.config]
        if tenant:
            args += ["--tenant", tenant]
        return subprocess.run(args, capture_output=True, text=True)

    # --- server ---
    def start(self, *extra_args):
        with open(self.log, "a") as logf:
            self.proc = subprocess.Popen(
                [BIN, "serve", "--db", self.db, "--config", self.config, "--listen",
                 "127.0.0.1:0"] + list(extra_args), stdout=subprocess.PIPE, stderr=logf,
                text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening on port "):
            self.proc.kill()
            raise AssertionError("server did not start: %r\n%s" % (line, self.read_log()))
        self.port = int(line.split()[-1])
        return self

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=timeout)
        self.proc.stdout.close()
        self.proc = None
        return rc

    def read_log(self):
        with open(self.log) as f:
            return f.read()

    def close(self):
        if self.proc is not None:
            self.stop(signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)
        if BACKEND != "sqlite":
            admin = pg_admin_url()
            name = self.db.rsplit("/", 1)[1]
            try:
                sql(admin, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
            except subprocess.CalledProcessError:
                pass

    # --- HTTP ---
    def request(self, method, path, body=None, key=None, headers=None, raw=None, timeout=30,
                source=None):
        """`source`: a loopback address to send from (127.0.0.2, …), so a test can act as a
        client address of its own (per-address budgets and throttles)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout,
                                          source_address=(source, 0) if source else None)
        h = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        if key:
            h["Authorization"] = "Bearer " + key
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        resp = Response(r.status, r.getheaders(), r.read().decode("utf-8", "replace"))
        conn.close()
        # Every response is checked against the served OpenAPI document (contract.py).
        checked = contract.contract_for(self._openapi_text).check(
            method, path, resp.status, resp.header("Content-Type"), resp.body)
        if checked:
            contract.record(*checked, request_body=data, response_body=resp.body)
        return resp

    def _openapi_text(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("GET", "/api/v1/openapi.json")
        r = conn.getresponse()
        text = r.read().decode()
        conn.close()
        if r.status != 200:
            raise AssertionError("GET /api/v1/openapi.json answered %d" % r.status)
        return text

    def events(self, tenant, key, after=0):
        out = []
        while True:
            r = self.request("GET", "/api/v1/tenants/%s/events?limit=1000&after=%d" % (tenant, after),
                             key=key)
            assert r.status == 200, r.body
            page = r.json()
            out += page["items"]
            if not page["next_cursor"]:
                return out
            after = int(page["next_cursor"])


def external_event(external_id, source="core-banking", payload=None):
    return {"source": source, "type": "payment.received", "external_id": external_id,
            "occurred_at": "2026-11-22T10:00:00Z",
            "payload": payload if payload is not None else {"amount_minor": 125000,
                                                            "currency": "INR"}}


class OpsboxTestCase(unittest.TestCase):
    """Gives each test a fresh database with tenant 'acme' and an admin API key."""

    config_text = ""
    loopback_receivers = True

    def setUp(self):
        self.ops = Opsbox(self.config_text, self.loopback_receivers)
        self.addCleanup(self.ops.close)
        self.ops.create_tenant("acme")
        self.key = self.ops.create_api_key("acme", "admin")

    def assertProblem(self, resp, status, field=None, rule=None):
        self.assertEqual(resp.status, status, resp.body)
        self.assertEqual(resp.header("Content-Type"), "application/problem+json", resp.body)
        p = resp.json()
        self.assertEqual(p["status"], status)
        if field is not None:
            self.assertEqual(p.get("field"), field, resp.body)
        if rule is not None:
            self.assertEqual(p.get("rule"), rule, resp.body)
        return p



class LoopbackFake:
    """A third-party provider's fake: a threaded HTTP server on 127.0.0.1 whose handler (set up
    by the subclass before calling serve) appends what it receives to self.requests."""

    def serve(self, handler):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def root(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def recorded(self):
        with self.lock:
            return list(self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()

def wait_for(predicate, timeout=10.0, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(interval)
    return predicate()


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()
