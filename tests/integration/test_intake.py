"""Goal: intake through the real server over HTTP, on SQLite and PostgreSQL: channels are
configured per tenant; the WhatsApp verification handshake echoes the challenge for the right
token only; every WhatsApp sample payload signed with X-Hub-Signature-256 is accepted, a forged
signature answers 401 and leaves a channel_signature_rejected event, malformed payloads answer
400 naming the field, and a duplicate delivery creates nothing; Twilio voice calls and status
callbacks are verified with X-Twilio-Signature, and a form field that is not UTF-8 is refused
before anything is recorded; inbound e-mail replies join their thread's conversation; the chat
API and WhatsApp resolve the same phone number to one customer; a card number never reaches
the database (the SQLite file or every PostgreSQL table) while a sensitive-data exception is
recorded; customer reads are masked for an agent and clear for an integration key; and an agent's
WhatsApp reply reaches a local stand-in for the Cloud API, retried after a 5xx."""

import base64
import hashlib
import hmac
import http.server
import json
import os
import threading
import time
import urllib.parse

import harness

BASE = "/api/v1/tenants/acme"
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "webhooks")

APP_SECRET = "wa-app-secret-1"
VERIFY_TOKEN = "wa-verify-token-1"
ACCESS_TOKEN = "wa-access-token-1"
PHONE_NUMBER_ID = "1122334455667"
TWILIO_TOKEN = "twilio-auth-token-1"
PUBLIC_BASE = "https://ops.example.test"
EMAIL_SECRET = "email-signing-secret-1"
CARD = "4111 1111 1111 1111"


def sample(name):
    with open(os.path.join(DATA, name), "rb") as f:
        return f.read()


def wa_signature(body):
    return "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


def twilio_signature(url, fields):
    data = url + "".join(k + v for k, v in sorted(fields, key=lambda kv: kv[0]))
    mac = hmac.new(TWILIO_TOKEN.encode(), data.encode("utf-8", "surrogateescape"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def email_signature(body):
    t = str(int(time.time()))
    mac = hmac.new(EMAIL_SECRET.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return "t=%s,v1=%s" % (t, mac)


class FakeCloudApi(harness.LoopbackFake):
    """A local HTTP server standing in for the WhatsApp Cloud API: answers 503 to the first
    request and 200 with a message id to the next ones, recording all of them."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    outer.requests.append((self.path, dict(self.headers), body))
                    first = len(outer.requests) == 1
                reply = b'{"error":"try later"}' if first else json.dumps(
                    {"messaging_product": "whatsapp", "contacts": [],
                     "messages": [{"id": "wamid.out-1"}]}).encode()
                self.send_response(503 if first else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.serve(Handler)

    def url(self):
        return self.root() + "/v20.0"


def whatsapp_text(wamid, wa_id, body="Body Text"):
    """The text sample with its message id, sender and text replaced (one server serves every
    test of the class, so each test speaks for its own customer)."""
    payload = json.loads(sample("whatsapp_inbound_text.json"))
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = wa_id
    value["messages"][0].update({"id": wamid, "from": wa_id, "text": {"body": body}})
    return json.dumps(payload).encode()


class Intake(harness.OpsboxTestCase):
    """One database and server for the whole class (starting them is most of the cost on
    PostgreSQL); each test uses its own senders and ids and counts events from its start."""

    @classmethod
    def setUpClass(cls):
        cls.ops = harness.Opsbox()
        try:
            cls.ops.create_tenant("acme")
            cls.key = cls.ops.create_api_key("acme", "admin")
            cls.agent = cls.ops.create_api_key("acme", "agent")
            cls.integration = cls.ops.create_api_key("acme", "integration")
            cls.cloud = FakeCloudApi()
            cls.ops.start()
            cls.configure("whatsapp", {"phone_number_id": PHONE_NUMBER_ID,
                                       "api_base_url": cls.cloud.url()},
                          {"verify_token": VERIFY_TOKEN, "app_secret": APP_SECRET,
                           "access_token": ACCESS_TOKEN})
            cls.configure("voice", {"public_base_url": PUBLIC_BASE, "default_region": "US"},
                          {"auth_token": TWILIO_TOKEN})
            cls.configure("email", {}, {"signing_secret": EMAIL_SECRET})
        except BaseException:
            cls.ops.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.cloud.close()
        cls.ops.close()

    def setUp(self):
        events = self.ops.events("acme", self.key)
        self.after = events[-1]["seq"] if events else 0

    # --- helpers ---
    @classmethod
    def configure(cls, channel, settings, secrets):
        r = cls.ops.request("PUT", BASE + "/channels/%s/config" % channel,
                            {"settings": settings, "secrets": secrets}, key=cls.key)
        if r.status != 200 or sorted(r.json()["secrets"]) != sorted(secrets):
            raise AssertionError("configuring %s failed: %d %s" % (channel, r.status, r.body))
        if any(v in r.body for v in secrets.values()):
            raise AssertionError("a secret of %s was echoed: %s" % (channel, r.body))

    def events(self):
        """The events appended since this test began."""
        return self.ops.events("acme", self.key, after=self.after)

    def types(self):
        return [e["type"] for e in self.events()]

    # Forged requests of each test come from a loopback address of its own: rejections are
    # recorded once per source, channel and minute, and the tests share one server.
    def whatsapp(self, body, signature=None, source=None):
        return self.ops.request("POST", BASE + "/channels/whatsapp/webhook", raw=body,
                                headers={"Content-Type": "application/json",
                                         "X-Hub-Signature-256": signature or wa_signature(body)},
                                source=source)

    def voice(self, route, fields, signature=None, source=None):
        path = BASE + "/channels/voice/" + route
        raw = urllib.parse.urlencode(fields, encoding="utf-8", errors="surrogateescape").encode()
        sig = signature or twilio_signature(PUBLIC_BASE + path, fields)
        return self.ops.request("POST", path, raw=raw, headers={
            "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig},
            source=source)

    def email(self, raw, signature=None, source=None):
        return self.ops.request("POST", BASE + "/channels/email/inbound", raw=raw, headers={
            "Content-Type": "message/rfc822",
            "X-Opsbox-Signature": signature or email_signature(raw)}, source=source)

    def chat(self, body, key=None):
        return self.ops.request("POST", BASE + "/channels/chat/messages", body,
                                key=key or self.integration)

    def only_item(self, resp, status=200):
        self.assertEqual(resp.status, status, resp.body)
        items = resp.json()["items"]
        self.assertEqual(len(items), 1, resp.body)
        return items[0]

    # --- WhatsApp ---
    def test_channel_configuration_is_validated_naming_the_field(self):
        path = BASE + "/channels/whatsapp/config"
        r = self.ops.request("PUT", path, {"secrets": {"app_secret": ""}}, key=self.key)
        self.assertProblem(r, 400, field="secrets.app_secret")
        r = self.ops.request("PUT", path, {"settings": {"api_base_url": "ftp://x"}}, key=self.key)
        self.assertProblem(r, 400, field="settings.api_base_url")
        r = self.ops.request("PUT", path, {"settings": {"colour": "red"}}, key=self.key)
        self.assertProblem(r, 400, field="settings.colour", rule="unknown_field")
        r = self.ops.request("PUT", BASE + "/channels/fax/config", {}, key=self.key)
        self.assertProblem(r, 400, field="channel")
        self.assertProblem(self.ops.request("PUT", path, {}, key=self.agent), 403)
        self.assertEqual(self.types(), [])

    def test_whatsapp_handshake_answers_the_challenge_only_for_the_right_token(self):
        path = BASE + "/channels/whatsapp/webhook?hub.mode=subscribe&hub.challenge=1158201444"
        r = self.ops.request("GET", path + "&hub.verify_token=" + VERIFY_TOKEN)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.body, "1158201444")
        r = self.ops.request("GET", path + "&hub.verify_token=wrong", source="127.0.0.2")
        self.assertProblem(r, 401)
        self.assertIn("channel_signature_rejected", self.types())
        r = self.ops.request("GET", BASE + "/channels/whatsapp/webhook?hub.verify_token=x")
        self.assertProblem(r, 400, field="hub.mode")

    def test_whatsapp_samples_are_accepted_once_and_forgeries_are_refused(self):
        text = sample("whatsapp_inbound_text.json")
        first = self.only_item(self.whatsapp(text))
        self.assertFalse(first["duplicate"])
        for i, name in enumerate(["whatsapp_inbound_text_reply.json", "whatsapp_inbound_image.json",
                                  "whatsapp_inbound_document.json", "whatsapp_inbound_audio.json",
                                  "whatsapp_inbound_interactive_button_reply.json",
                                  "whatsapp_inbound_interactive_list_reply.json"]):
            payload = json.loads(sample(name))
            payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.it-%d" % i
            item = self.only_item(self.whatsapp(json.dumps(payload).encode()))
            self.assertFalse(item["duplicate"], name)
            self.assertEqual(item["customer_id"], first["customer_id"], name)
            self.assertEqual(item["conversation_id"], first["conversation_id"], name)
        for name in ["whatsapp_status_sent.json", "whatsapp_status_delivered.json",
                     "whatsapp_status_read.json", "whatsapp_status_failed.json"]:
            self.assertEqual(self.whatsapp(sample(name)).status, 200, name)
        msgs = self.ops.request("GET", BASE + "/conversations/%s/messages" %
                                first["conversation_id"], key=self.agent)
        self.assertEqual(msgs.status, 200, msgs.body)
        kinds = [m["content"]["type"] for m in msgs.json()["items"]]
        self.assertEqual(kinds, ["text", "text", "image", "document", "audio", "interactive",
                                 "interactive"])
        self.assertEqual(msgs.json()["items"][0]["text"], "Body Text")

        before = self.types()
        self.assertEqual(before.count("message_received"), 7)
        self.assertEqual(before.count("message_status_updated"), 4)
        # The same delivery again (a different body hash: a new command) creates nothing.
        again = json.loads(text)
        again["entry"][0]["id"] = "1234567890987654322"
        self.assertTrue(self.only_item(self.whatsapp(json.dumps(again).encode()))["duplicate"])
        self.assertEqual(self.whatsapp(text).status, 200)
        self.assertEqual(self.types().count("message_received"), 7)

        self.assertProblem(self.whatsapp(text, signature="sha256=" + "0" * 64,
                                         source="127.0.0.3"), 401)
        self.assertProblem(self.whatsapp(text, signature=wa_signature(text + b" "),
                                         source="127.0.0.3"), 401)
        after = self.types()
        # One event per source, channel and minute (the second forgery is counted, recorded
        # with the minute's count later): forgeries cannot grow the ledger at line rate.
        self.assertEqual(after.count("channel_signature_rejected"), 1)
        self.assertEqual(after.count("message_received"), 7)

        self.assertProblem(self.whatsapp(b'{"object": "whatsapp_business_account", "entry": ['),
                           400, field="body")
        broken = json.loads(text)
        del broken["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
        self.assertProblem(self.whatsapp(json.dumps(broken).encode()), 400,
                           field="entry[0].changes[0].value.messages[0].id", rule="required")
        broken = json.loads(text)
        broken["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = "soon"
        self.assertProblem(self.whatsapp(json.dumps(broken).encode()), 400,
                           field="entry[0].changes[0].value.messages[0].timestamp",
                           rule="format")

    # --- Twilio voice ---
    def test_voice_calls_are_verified_answered_with_twiml_and_closed_by_status(self):
        completed = json.loads(sample("twilio_voice_status_callback_completed.json"))["form"]
        call = [("CallSid", completed["CallSid"]), ("AccountSid", completed["AccountSid"]),
                ("From", completed["From"]), ("To", completed["To"]),
                ("CallStatus", "ringing"), ("Direction", "inbound")]
        r = self.voice("incoming", call)
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.header("Content-Type").startswith("text/xml"), r.headers)
        self.assertIn("<Response><Say>", r.body)
        self.assertIn("<Enqueue>", r.body)
        self.assertEqual(self.voice("incoming", call).status, 200)  # a retry: nothing new
        self.assertProblem(self.voice("incoming", call, signature="AAAA" * 7,
                                      source="127.0.0.4"), 401)
        found = self.ops.request("GET", BASE + "/customers?phone=" +
                                 urllib.parse.quote(completed["From"]), key=self.agent)
        self.assertEqual(found.status, 200, found.body)
        customer = found.json()["items"][0]
        customer_conversations = self.ops.request(
            "GET", BASE + "/customers/" + customer["customer_id"],
            key=self.agent).json()["conversations"]
        self.assertEqual([(c["channel"], c["status"]) for c in customer_conversations],
                         [("voice", "open")])

        status = list(completed.items())
        self.assertProblem(self.voice("status", status, signature=twilio_signature(
            PUBLIC_BASE + BASE + "/channels/voice/incoming", status), source="127.0.0.4"), 401)
        r = self.voice("status", status)
        self.assertEqual(r.status, 200, r.body)
        conv = self.ops.request("GET", BASE + "/conversations/" +
                                customer_conversations[0]["conversation_id"], key=self.agent)
        self.assertEqual(conv.json()["status"], "closed", conv.body)
        types = self.types()
        self.assertEqual(types.count("message_received"), 1)
        self.assertEqual(types.count("channel_signature_rejected"), 1)  # one per source a minute
        self.assertEqual(types.count("conversation_closed"), 1)

        self.assertProblem(self.voice("status", [("CallSid", "CA1")]), 400, field="CallStatus")
        # A form value that is not UTF-8 is refused, naming the field, before any command.
        count = len(types)
        bad = [("CallSid", "CA00000000000000000000000000000009"), ("From", "+15005550002"),
               ("To", "+15005550006"), ("CallerCity", "S\udce3O PAULO")]
        self.assertProblem(self.voice("incoming", bad), 400, field="CallerCity", rule="utf8")
        bad = [("CallSid", "CA00000000000000000000000000000009"), ("CallStatus", "busy\udcff")]
        self.assertProblem(self.voice("status", bad), 400, field="CallStatus", rule="utf8")
        self.assertEqual(len(self.types()), count)
        self.assertEqual(self.ops.request("GET", "/healthz").status, 200)

    # --- e-mail ---
    def test_email_replies_join_their_thread_and_forgeries_are_refused(self):
        first = (b"From: Asha Rao <asha@Example.IN>\r\nTo: support@bank.example\r\n"
                 b"Subject: Card blocked\r\nDate: Mon, 23 Nov 2026 10:00:00 +0530\r\n"
                 b"Message-ID: <m1@mail.example.in>\r\nMIME-Version: 1.0\r\n"
                 b"Content-Type: text/plain; charset=utf-8\r\n\r\nMy card is blocked.\r\n")
        reply = (b"From: asha@example.in\r\nTo: support@bank.example\r\nSubject: Re: Card blocked\r\n"
                 b"Message-ID: <m2@mail.example.in>\r\nIn-Reply-To: <m1@mail.example.in>\r\n"
                 b"References: <m1@mail.example.in>\r\nMIME-Version: 1.0\r\n"
                 b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n"
                 b"Content-Type: text/html; charset=utf-8\r\n\r\n"
                 b"<html><head><style>p{}</style></head><body><p>Still&nbsp;blocked</p></body>"
                 b"</html>\r\n--XX\r\nContent-Type: application/pdf\r\n"
                 b"Content-Disposition: attachment; filename=\"statement.pdf\"\r\n"
                 b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--XX--\r\n")
        other = first.replace(b"<m1@", b"<m3@").replace(b"Card blocked", b"New address")
        a = self.only_item(self.email(first))
        b = self.only_item(self.email(reply))
        c = self.only_item(self.email(other))
        self.assertEqual(a["customer_id"], b["customer_id"])
        self.assertEqual(a["customer_id"], c["customer_id"])
        self.assertEqual(a["conversation_id"], b["conversation_id"])
        self.assertNotEqual(a["conversation_id"], c["conversation_id"])
        self.assertEqual(self.only_item(self.email(reply)), b)  # the same request again
        redelivered = b"Received: from relay.example by mx.example\r\n" + reply
        self.assertTrue(self.only_item(self.email(redelivered))["duplicate"])
        msgs = self.ops.request("GET", BASE + "/conversations/%s/messages" % a["conversation_id"],
                                key=self.agent).json()["items"]
        self.assertEqual([m["text"].strip() for m in msgs],
                         ["My card is blocked.", "Still blocked"])
        self.assertEqual(msgs[1]["content"], {"type": "email", "attachments": 1})

        self.assertProblem(self.email(first, signature="t=1,v1=" + "0" * 64,
                                      source="127.0.0.5"), 401)
        self.assertIn("channel_signature_rejected", self.types())
        no_id = first.replace(b"Message-ID: <m1@mail.example.in>\r\n", b"")
        self.assertProblem(self.email(no_id), 400, field="Message-ID")
        self.assertEqual(self.types().count("message_received"), 3)

    # --- chat and identity ---
    def test_the_same_phone_on_whatsapp_and_chat_is_one_customer(self):
        wa = self.only_item(self.whatsapp(whatsapp_text("wamid.chat-1", "972501234567")))
        msg = {"provider_message_id": "chat-1", "text": "Hello from the app",
               "from": {"phone": "+972 50-123-4567", "external_id": "crm-77", "name": "Test Name"}}
        chat = self.only_item(self.chat(msg))
        self.assertEqual(chat["customer_id"], wa["customer_id"])
        self.assertNotEqual(chat["conversation_id"], wa["conversation_id"])
        self.assertTrue(self.only_item(self.chat(dict(msg, text="Hello again")))["duplicate"])
        for query in ["phone=%2B972501234567", "whatsapp=972501234567", "external_id=crm-77"]:
            r = self.ops.request("GET", BASE + "/customers?" + query, key=self.agent)
            self.assertEqual([c["customer_id"] for c in r.json()["items"]], [wa["customer_id"]],
                             query)
        timeline = self.ops.request("GET", BASE + "/customers/%s/timeline" % wa["customer_id"],
                                    key=self.agent)
        self.assertEqual(timeline.status, 200, timeline.body)
        self.assertEqual([m["channel"] for m in timeline.json()["items"]], ["whatsapp", "chat"])
        types = self.types()
        self.assertEqual(types.count("customer_created"), 1)
        self.assertEqual(types.count("customer_identity_linked"), 1)

        self.assertProblem(self.chat({"provider_message_id": "chat-2", "from": {"name": "X"},
                                      "text": "hi"}), 400, field="from")
        self.assertProblem(self.chat({"provider_message_id": "chat-2",
                                      "from": {"phone": "+972501234567"}}), 400, field="text")
        self.assertProblem(self.chat({"provider_message_id": "chat-2", "text": "hi",
                                      "from": {"phone": "not a number"}}), 400,
                           field="from.phone")
        self.assertProblem(self.chat(msg, key=self.agent), 403)

    def test_a_card_number_is_never_stored_but_recorded_as_an_exception(self):
        r = self.chat({"provider_message_id": "chat-card", "from": {"phone": "+919876543210"},
                       "text": "my card is %s cvv 123 please help" % CARD})
        item = self.only_item(r)
        reply = self.ops.request("POST", BASE + "/conversations/%s/messages" %
                                 item["conversation_id"],
                                 {"text": "Never send %s here" % CARD.replace(" ", "")},
                                 key=self.agent)
        self.assertEqual(reply.status, 201, reply.body)
        exceptions = [e["payload"] for e in self.events()
                      if e["type"] == "sensitive_data_exception_recorded"]
        self.assertEqual([(e["sender_kind"], "card" in e["types"]) for e in exceptions],
                         [("customer", True), ("agent", True)], exceptions)
        msgs = self.ops.request("GET", BASE + "/conversations/%s/messages" %
                                item["conversation_id"], key=self.agent).json()["items"]
        self.assertIn("[CARD]", msgs[0]["text"])
        self.assertNotIn(CARD, json.dumps(msgs))
        stored = self.database_text()
        for needle in [CARD, CARD.replace(" ", ""), "1111 1111 1111"]:
            self.assertNotIn(needle, stored, needle)
        # Channel secrets are sealed too, and so is the customer's phone number.
        for secret in [APP_SECRET, VERIFY_TOKEN, ACCESS_TOKEN, TWILIO_TOKEN, EMAIL_SECRET,
                       "9876543210"]:
            self.assertNotIn(secret, stored, secret)

    def database_text(self):
        if self.ops.db.startswith("sqlite:"):
            path = self.ops.db[len("sqlite:"):]
            out = ""
            for suffix in ["", "-wal", "-journal"]:
                if os.path.exists(path + suffix):
                    with open(path + suffix, "rb") as f:
                        out += f.read().decode("latin-1")
            self.assertIn("sensitive_data_exception_recorded", out)
            return out
        tables = harness.sql(self.ops.db, "SELECT tablename FROM pg_tables WHERE "
                                          "schemaname = 'public'").split()
        self.assertIn("ledger_events", tables)
        out = ""
        for t in tables:
            out += harness.sql(self.ops.db, "SELECT t::text FROM %s t" % t)
        self.assertIn("sensitive_data_exception_recorded", out)
        return out

    # --- masking ---
    def test_customer_reads_are_masked_for_an_agent_and_clear_for_an_integration(self):
        wa = self.only_item(self.whatsapp(whatsapp_text("wamid.mask-1", "919812345678")))
        path = BASE + "/customers/" + wa["customer_id"]
        agent = self.ops.request("GET", path, key=self.agent).json()
        self.assertEqual(agent["name"], "Test Name")  # an agent sees names in clear
        self.assertNotIn("9812345678", json.dumps(agent))
        self.assertEqual((agent["phone"], agent["wa_id"]), ("+91******5678", "********5678"))
        clear = self.ops.request("GET", path, key=self.integration).json()
        self.assertEqual(clear["phone"], "+919812345678")
        self.assertEqual(clear["name"], "Test Name")
        admin = self.ops.request("GET", path, key=self.key).json()
        self.assertNotEqual(admin["name"], "Test Name")  # admins unmask with a reason
        self.assertNotIn("9812345678", json.dumps(admin))

    # --- outbound ---
    def test_a_reply_reaches_the_cloud_api_after_a_failed_first_attempt(self):
        wa = self.only_item(self.whatsapp(whatsapp_text("wamid.reply-1", "447700900123")))
        path = BASE + "/conversations/%s/messages" % wa["conversation_id"]
        self.assertProblem(self.ops.request("POST", path, {"text": "hi"}, key=self.integration),
                           403)
        self.assertProblem(self.ops.request("POST", path, {"text": ""}, key=self.agent), 400,
                           field="text")
        r = self.ops.request("POST", path, {"text": "We are on it."}, key=self.agent)
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["status"], "queued")
        got = harness.wait_for(lambda: len(self.cloud.recorded()) >= 2, timeout=15)
        self.assertTrue(got, self.cloud.recorded())
        for req_path, headers, body in self.cloud.recorded()[:2]:
            self.assertEqual(req_path, "/v20.0/%s/messages" % PHONE_NUMBER_ID)
            self.assertEqual(headers.get("Authorization"), "Bearer " + ACCESS_TOKEN)
            self.assertTrue(headers.get("Content-Type", "").startswith("application/json"))
            self.assertEqual(json.loads(body), {
                "messaging_product": "whatsapp", "recipient_type": "individual",
                "to": "447700900123", "type": "text",
                "text": {"preview_url": False, "body": "We are on it."}})
        # The outcome is recorded in the reply outbox; the provider's receipt then refers to it.
        row = harness.wait_for(lambda: harness.sql(
            self.ops.db, "SELECT status, attempts, last_status, provider_message_id FROM "
                         "intake_outbound WHERE message_id = '%s' AND status <> 'pending'" %
                         r.json()["message_id"]).strip(), timeout=10)
        self.assertEqual(row, "delivered|2|200|wamid.out-1")
        status = json.loads(sample("whatsapp_status_delivered.json"))
        status["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = "wamid.out-1"
        self.assertEqual(self.whatsapp(json.dumps(status).encode()).status, 200)
        # Issue #14: the outbox's own outcome ("sent", with the provider's id) is on the ledger
        # too, appended after the row is updated: before or after the provider's receipt.
        def receipts():
            found = [e["payload"] for e in self.events() if e["type"] == "message_status_updated"]
            return found if len(found) >= 2 else None
        found = harness.wait_for(receipts, timeout=10) or []
        self.assertEqual(sorted((p["message_id"], p["status"], p["provider_message_id"])
                                for p in found),
                         [(r.json()["message_id"], "delivered", "wamid.out-1"),
                          (r.json()["message_id"], "sent", "wamid.out-1")], found)
        msgs = self.ops.request("GET", path, key=self.agent).json()["items"]
        self.assertEqual([(m["direction"], m["status"]) for m in msgs],
                         [("inbound", "received"), ("outbound", "delivered")])
        self.assertEqual(len(self.cloud.recorded()), 2)
