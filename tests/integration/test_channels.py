"""Goal (issue #14): SMS end to end and delivery failures visible, through the real server over
HTTP on SQLite and PostgreSQL, against a fake Twilio on loopback (Python http.server speaking the
Messages resource's documented JSON). An inbound SMS signed with X-Twilio-Signature opens a
conversation that routing offers to the agent; the agent's reply reaches the fake (Basic auth,
form To/From/Body) and is "sent" with the provider's sid; the signed status callback makes it
"delivered" on the conversation, and an "undelivered" one "failed" with Twilio's error code. A
bad signature answers 401 and a replayed request 409. STOP (and the tenant's own keyword)
withdraws consent at once — the next reply is refused with a problem naming the rule and
nothing reaches the fake — and START opts back in. A reply the
provider refuses is a dead letter: "failed" with the provider's reason on the conversation and
in the failed-messages list, not retried by an agent without the task, retried by a supervisor
and then sent. Each outbound SMS carries its segment count as the fixtures say."""

import base64
import hashlib
import hmac
import http.server
import json
import os
import threading
import urllib.parse

import harness

BASE = "/api/v1/tenants/acme"
PUBLIC_BASE = "https://ops.example.test"
ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "sms-auth-token-1"
FROM_NUMBER = "+15005550006"
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                        "sms_segments.json")


def signature(url, fields):
    data = url + "".join(k + v for k, v in sorted(fields, key=lambda kv: kv[0]))
    mac = hmac.new(AUTH_TOKEN.encode(), data.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


class FakeTwilio(harness.LoopbackFake):
    """POST /2010-04-01/Accounts/{sid}/Messages.json as Twilio documents it: 201 with the
    message resource (sid, status "queued", …), or, for the next `refuse` requests, 400 with
    Twilio's error object (code 21211, invalid 'To' number)."""

    def __init__(self):
        self.requests = []
        self.refuse = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                form = dict(urllib.parse.parse_qsl(body.decode()))
                with outer.lock:
                    outer.requests.append((self.path, dict(self.headers), form))
                    n = len(outer.requests)
                    refuse = outer.refuse > 0
                    if refuse:
                        outer.refuse -= 1
                if refuse:
                    status, reply = 400, {
                        "code": 21211, "message": "The 'To' number is not a valid phone number.",
                        "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}
                else:
                    status, reply = 201, {
                        "sid": "SM%032d" % n, "account_sid": ACCOUNT_SID, "to": form.get("To"),
                        "from": form.get("From"), "body": form.get("Body"), "status": "queued",
                        "num_segments": "1", "direction": "outbound-api", "error_code": None,
                        "error_message": None, "api_version": "2010-04-01"}
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.serve(Handler)

    def url(self):
        return self.root()


class Channels(harness.OpsboxTestCase):
    """One server for the class; each test writes from its own phone number."""

    @classmethod
    def setUpClass(cls):
        cls.ops = harness.Opsbox()
        try:
            cls.ops.create_tenant("acme")
            cls.key = cls.ops.create_api_key("acme", "admin")
            cls.agent = cls.ops.create_api_key("acme", "agent")
            cls.other_agent = cls.ops.create_api_key("acme", "agent")
            cls.supervisor = cls.ops.create_api_key("acme", "supervisor")
            cls.twilio = FakeTwilio()
            cls.ops.start()
            r = cls.ops.request("PUT", BASE + "/channels/sms/config", {
                "settings": {"account_sid": ACCOUNT_SID, "from_number": FROM_NUMBER,
                             "api_base_url": cls.twilio.url(), "public_base_url": PUBLIC_BASE,
                             "default_region": "US", "opt_out_keywords": ["arret"]},
                "secrets": {"auth_token": AUTH_TOKEN}}, key=cls.key)
            if r.status != 200 or AUTH_TOKEN in r.body:
                raise AssertionError("configuring sms failed: %d %s" % (r.status, r.body))
            me = cls.ops.request("GET", BASE + "/me", key=cls.agent).json()
            cls.agent_id = me["actor_id"]
            routing = [("PUT", "/routing/workers/" + cls.agent_id,
                        {"name": "Asha", "attributes": {"languages": ["en"]},
                         "capacity": {"sms": 50}}),
                       ("PUT", "/routing/queues/texts",
                        {"name": "Texts", "target_expression": "true",
                         "reservation_timeout_s": 600, "wrap_up_s": 3600}),
                       ("PUT", "/routing/workflows/default",
                        {"default_filter": {"targets": [{"queue_id": "texts"}]}})]
            for method, path, body in routing:
                r = cls.ops.request(method, BASE + path, body, key=cls.key)
                if r.status not in (200, 201):
                    raise AssertionError("%s %s: %d %s" % (method, path, r.status, r.body))
            r = cls.ops.request("POST", BASE + "/routing/workers/me/activity",
                                {"activity": "available"}, key=cls.agent)
            if r.status != 200:
                raise AssertionError("activity: %d %s" % (r.status, r.body))
        except BaseException:
            cls.ops.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.twilio.close()
        cls.ops.close()

    def setUp(self):
        pass  # the class's server serves every test (not harness's server per test)

    # --- helpers ---
    def post_form(self, route, fields, sig=None, source=None):
        path = BASE + "/channels/sms/" + route
        raw = urllib.parse.urlencode(fields).encode()
        return self.ops.request("POST", path, raw=raw, source=source, headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sig or signature(PUBLIC_BASE + path, fields)})

    def inbound(self, sid, phone, body):
        return [("MessageSid", sid), ("SmsSid", sid), ("AccountSid", ACCOUNT_SID),
                ("From", phone), ("To", FROM_NUMBER), ("Body", body), ("NumMedia", "0")]

    def receive(self, sid, phone, body):
        r = self.post_form("inbound", self.inbound(sid, phone, body))
        self.assertEqual(r.status, 200, r.body)
        return r.json()["items"][0]

    def reply(self, conversation_id, text, key=None):
        return self.ops.request("POST", BASE + "/conversations/%s/messages" % conversation_id,
                                {"text": text}, key=key or self.agent)

    def message(self, conversation_id, message_id, key=None):
        r = self.ops.request("GET", BASE + "/conversations/%s/messages" % conversation_id,
                             key=key or self.supervisor)
        self.assertEqual(r.status, 200, r.body)
        for m in r.json()["items"]:
            if m["message_id"] == message_id:
                return m
        self.fail("message %s is not in %s" % (message_id, conversation_id))

    def wait_status(self, conversation_id, message_id, status):
        ok = harness.wait_for(
            lambda: self.message(conversation_id, message_id)["status"] == status, timeout=20)
        m = self.message(conversation_id, message_id)
        self.assertTrue(ok, m)
        return m

    def sent_to(self, phone):
        return [f for _, _, f in self.twilio.recorded() if f.get("To") == phone]

    def accept_offer(self, conversation_id):
        """Accepts the agent's pending offers (other tests' conversations are offered to the
        same agent) until the one of `conversation_id` was among them; returns its task."""
        found = []

        def accept_pending():
            me = self.ops.request("GET", BASE + "/routing/me", key=self.agent).json()
            for r in me.get("reservations", []):
                if r.get("status") != "pending":
                    continue
                a = self.ops.request("POST", BASE + "/routing/reservations/%s/accept" %
                                     r["reservation_id"], key=self.agent)
                self.assertEqual(a.status, 200, a.body)
                if r.get("task", {}).get("conversation_id") == conversation_id:
                    found.append(r["task_id"])
            return found
        self.assertTrue(harness.wait_for(accept_pending, timeout=20),
                        "no offer for " + conversation_id)
        return found[0]

    # --- tests ---
    def test_an_sms_conversation_is_routed_answered_sent_and_delivered(self):
        phone = "+14155550101"
        item = self.receive("SM" + "a" * 32, phone, "My card was declined")
        conv = item["conversation_id"]
        task_id = self.accept_offer(conv)
        r = self.reply(conv, "Sorry about that, let me check.")
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["status"], "queued")
        mid = r.json()["message_id"]
        self.assertTrue(harness.wait_for(lambda: self.sent_to(phone), timeout=20))
        path, headers, form = [x for x in self.twilio.recorded() if x[2].get("To") == phone][0]
        self.assertEqual(path, "/2010-04-01/Accounts/%s/Messages.json" % ACCOUNT_SID)
        expected = base64.b64encode(("%s:%s" % (ACCOUNT_SID, AUTH_TOKEN)).encode()).decode()
        self.assertEqual(headers.get("Authorization"), "Basic " + expected)
        self.assertEqual(form, {"To": phone, "From": FROM_NUMBER,
                                "Body": "Sorry about that, let me check."})
        sent = self.wait_status(conv, mid, "sent")
        self.assertEqual((sent["segments"], sent["encoding"]), (1, "gsm7"))
        statuses = [e["payload"] for e in self.ops.events("acme", self.key)
                    if e["type"] == "message_status_updated"
                    and e["payload"].get("message_id") == mid]
        provider_sid = statuses[0]["provider_message_id"]
        self.assertTrue(provider_sid.startswith("SM"), statuses)
        r = self.post_form("status", [("MessageSid", provider_sid), ("MessageStatus", "delivered"),
                                      ("AccountSid", ACCOUNT_SID), ("To", phone)])
        self.assertEqual(r.status, 200, r.body)
        delivered = self.wait_status(conv, mid, "delivered")
        self.assertIsNotNone(delivered["status_at"])
        self.assertFalse(delivered["retryable"])
        task = self.ops.request("GET", BASE + "/routing/tasks/" + task_id, key=self.supervisor)
        self.assertEqual(task.json()["status"], "assigned", task.body)
        # A later reply the handset never gets: Twilio's "undelivered" with its error code.
        r = self.reply(conv, "Your new card is on its way.")
        self.assertEqual(r.status, 201, r.body)
        second = r.json()["message_id"]
        self.wait_status(conv, second, "sent")
        sid = [e["payload"]["provider_message_id"] for e in self.ops.events("acme", self.key)
               if e["type"] == "message_status_updated"
               and e["payload"].get("message_id") == second][0]
        r = self.post_form("status", [("MessageSid", sid), ("MessageStatus", "undelivered"),
                                      ("ErrorCode", "30003"), ("AccountSid", ACCOUNT_SID)])
        self.assertEqual(r.status, 200, r.body)
        failed = self.wait_status(conv, second, "failed")
        self.assertEqual(failed["status_reason"], "30003: undelivered")
        self.assertEqual((failed["dead_letter"], failed["retryable"]), (False, True))

    def test_a_bad_signature_and_a_replay_are_refused(self):
        fields = self.inbound("SM" + "b" * 32, "+14155550102", "hello")
        r = self.post_form("inbound", fields, sig="AAAA" + signature("x", fields)[4:],
                           source="127.0.0.21")
        self.assertProblem(r, 401)
        r = self.post_form("inbound", fields[:-1] + [("NumMedia", "1")],
                           sig=signature(PUBLIC_BASE + BASE + "/channels/sms/inbound", fields),
                           source="127.0.0.21")
        self.assertProblem(r, 401)
        self.assertEqual(self.post_form("inbound", fields).status, 200)
        self.assertProblem(self.post_form("inbound", fields), 409, rule="replayed")
        # The same message sid in another (signed) body is a replay too.
        again = [(k, v + " again" if k == "Body" else v) for k, v in fields]
        self.assertProblem(self.post_form("inbound", again), 409, rule="replayed")
        status = [("MessageSid", "SM" + "c" * 32), ("MessageStatus", "sent")]
        self.assertEqual(self.post_form("status", status).status, 200)
        self.assertProblem(self.post_form("status", status), 409, rule="replayed")
        types = [e["type"] for e in self.ops.events("acme", self.key)]
        self.assertIn("channel_signature_rejected", types)

    def test_stop_refuses_the_next_reply_at_once_and_start_opts_back_in(self):
        phone = "+14155550103"
        conv = self.receive("SM" + "d" * 32, phone, "hi")["conversation_id"]
        stop = self.receive("SM" + "e" * 32, phone, "Stop")
        self.assertEqual(stop["conversation_id"], conv)
        r = self.reply(conv, "Are you still there?", key=self.supervisor)
        self.assertProblem(r, 409, rule="opted_out")
        customer = stop["customer_id"]
        consents = self.ops.request("GET", BASE + "/customers/%s/consents" % customer,
                                    key=self.supervisor).json()
        sms = {c["purpose"]: c["status"] for c in consents["current"] if c["channel"] == "sms"}
        self.assertEqual(sms, {"service": "withdrawn", "collections": "withdrawn",
                               "marketing": "withdrawn"})
        self.receive("SM" + "f" * 32, phone, "START")
        r = self.reply(conv, "Welcome back.", key=self.supervisor)
        self.assertEqual(r.status, 201, r.body)
        self.wait_status(conv, r.json()["message_id"], "sent")
        # The tenant's own keyword; a reply queued before it would die unsent ("opted out").
        self.receive("SM" + "g" * 32, phone, "ARRET")
        self.assertProblem(self.reply(conv, "Bye", key=self.supervisor), 409, rule="opted_out")
        self.assertEqual([f["Body"] for f in self.sent_to(phone)], ["Welcome back."])

    def test_a_refused_reply_is_a_visible_dead_letter_retried_by_a_supervisor(self):
        phone = "+14155550104"
        conv = self.receive("SM" + "h" * 32, phone, "call me")["conversation_id"]
        with self.twilio.lock:
            self.twilio.refuse = 1
        r = self.reply(conv, "We will call you today.", key=self.supervisor)
        self.assertEqual(r.status, 201, r.body)
        mid = r.json()["message_id"]
        failed = self.wait_status(conv, mid, "failed")
        self.assertTrue(failed["dead_letter"])
        self.assertTrue(failed["retryable"])
        self.assertIn("21211", failed["status_reason"])
        listed = self.ops.request("GET", BASE + "/conversations/failed-messages",
                                  key=self.supervisor).json()["items"]
        self.assertIn(mid, [m["message_id"] for m in listed])
        retry = BASE + "/conversations/%s/messages/%s/retry" % (conv, mid)
        self.assertProblem(self.ops.request("POST", retry, key=self.other_agent), 403,
                           rule="own_task")
        self.assertProblem(self.ops.request("POST", retry, key=self.key), 403)
        r = self.ops.request("POST", retry, key=self.supervisor)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["status"], "queued")
        sent = self.wait_status(conv, mid, "sent")
        self.assertFalse(sent["dead_letter"])
        self.assertIsNone(sent["status_reason"])
        self.assertProblem(self.ops.request("POST", retry, key=self.supervisor), 409,
                           rule="not_failed")
        self.assertEqual([f["Body"] for f in self.sent_to(phone)],
                         ["We will call you today.", "We will call you today."])
        types = [e["type"] for e in self.ops.events("acme", self.key)]
        self.assertIn("message_retry_requested", types)

    def test_an_agent_retries_a_dead_letter_on_their_own_task(self):
        phone = "+14155550105"
        conv = self.receive("SM" + "i" * 32, phone, "help")["conversation_id"]
        self.accept_offer(conv)
        with self.twilio.lock:
            self.twilio.refuse = 1
        mid = self.reply(conv, "On it.").json()["message_id"]
        self.wait_status(conv, mid, "failed")
        r = self.ops.request("POST", BASE + "/conversations/%s/messages/%s/retry" % (conv, mid),
                             key=self.agent)
        self.assertEqual(r.status, 200, r.body)
        self.wait_status(conv, mid, "sent")

    def test_each_outbound_sms_counts_its_segments_as_the_fixtures_say(self):
        with open(FIXTURES, encoding="utf-8") as f:
            cases = json.load(f)["cases"]
        phone = "+14155550106"
        conv = self.receive("SM" + "j" * 32, phone, "fixtures")["conversation_id"]
        for case in cases:
            r = self.reply(conv, case["text"], key=self.supervisor)
            self.assertEqual(r.status, 201, r.body)
            m = self.message(conv, r.json()["message_id"])
            self.assertEqual((m["encoding"], m["segments"]), (case["encoding"], case["segments"]),
                             case["name"])
        sent = [e["payload"] for e in self.ops.events("acme", self.key)
                if e["type"] == "message_sent" and e["payload"].get("conversation_id") == conv]
        self.assertEqual(len(sent), len(cases))
        self.assertTrue(all("segments" in p and "encoding" in p for p in sent))

