#!/usr/bin/env python3
"""intake_to_offer.py: the end-to-end benchmark of issue #4 ("inbound webhook accepted to offer
delivered on the WebSocket, at 1,000 inbound messages/s: p99 at most 20 ms") on the real binary.

It starts `opsbox serve` on a free loopback port over a temporary SQLite database, creates a
tenant with an admin key, an integration key and N agents (API keys with role agent, each a
worker with chat capacity, available), one queue and the default workflow; opens one WebSocket
per agent subscribed to my_reservations (all read by one selector thread); then posts chat
messages from distinct customers to /channels/chat/messages open-loop at a fixed rate from
several sender threads over keep-alive connections. Each message's scheduled time, send time
and 2xx-answer time are recorded; each pending reservation's receive time; the two are joined
by conversation id (the chat answer returns it; the reservation carries task.conversation_id).
Capacity covers every message, so no task waits for an agent.

References measured in the same run: GET /healthz round trips on an idle server and, during
the load, at a low rate from another thread; the webhook answer latency itself.

Prints JSON lines (one per figure) on stdout. Python standard library only; clock:
time.perf_counter_ns (CLOCK_MONOTONIC, shared by all threads).

  intake_to_offer.py --opsbox build/release/src/app/opsbox [--rate 1000] [--seconds 5]
"""

import argparse
import base64
import itertools
import json
import os
import selectors
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

T = "bench"
BASE = "/api/v1/tenants/" + T
kServerStartS = 30
kSetupTimeoutS = 30


def now_ns():
    return time.perf_counter_ns()


class Http:
    """A minimal keep-alive HTTP/1.1 client on one socket (Content-Length or chunked answers)."""

    def __init__(self, port, key=None, timeout_s=30):
        self.port = port
        self.key = key
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        self.sock.close()

    def request(self, method, path, body=None, key=None):
        """Returns (status, body bytes, answer time ns); the time is when the last byte came."""
        data = b"" if body is None else json.dumps(body).encode()
        key = key or self.key
        head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (method, path, self.port)
        if key:
            head += "Authorization: Bearer %s\r\n" % key
        if body is not None:
            head += "Content-Type: application/json\r\n"
        head += "Content-Length: %d\r\n\r\n" % len(data)
        self.sock.sendall(head.encode() + data)
        return self._read_answer()

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by the server")
        self.buf += chunk

    def _read_answer(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if "content-length" in headers:
            n = int(headers["content-length"])
            while len(self.buf) < n:
                self._fill()
            body, self.buf = self.buf[:n], self.buf[n:]
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                while b"\r\n" not in self.buf:
                    self._fill()
                size_line, _, self.buf = self.buf.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                while len(self.buf) < size + 2:
                    self._fill()
                body += self.buf[:size]
                self.buf = self.buf[size + 2:]
                if size == 0:
                    break
        else:
            body = b""
        t = now_ns()
        if headers.get("connection", "").lower() == "close":
            raise ConnectionError("the server closed the keep-alive connection")
        return status, body, t

    def json(self, method, path, body=None, key=None, expect=(200, 201)):
        status, data, _ = self.request(method, path, body, key)
        if status not in expect:
            raise RuntimeError("%s %s: %d %s" % (method, path, status, data[:500]))
        return json.loads(data) if data else None


class WsReader:
    """One selector thread reading every agent's WebSocket. Frames are split on receipt and
    stored as (receive ns, payload bytes); JSON is parsed after the run, off the clock."""

    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.frames = []          # (recv_ns, agent index, payload)
        self.closed = []          # (agent index, reason)
        self.stop = False
        self.thread = threading.Thread(target=self._run, name="ws-selector", daemon=True)
        self.bufs = {}

    def add(self, sock, index, leftover):
        sock.setblocking(False)
        self.bufs[sock] = bytearray(leftover)
        self.sel.register(sock, selectors.EVENT_READ, index)

    def start(self):
        self.thread.start()

    def _run(self):
        while not self.stop:
            for key, _ in self.sel.select(timeout=0.2):
                sock = key.fileobj
                try:
                    chunk = sock.recv(262144)
                except BlockingIOError:
                    continue
                except OSError as e:
                    chunk = b""
                    self.closed.append((key.data, repr(e)))
                t = now_ns()
                if not chunk:
                    self.sel.unregister(sock)
                    self.closed.append((key.data, "eof"))
                    continue
                buf = self.bufs[sock]
                buf += chunk
                self._frames(sock, buf, t, key.data)

    def _frames(self, sock, buf, t, index):
        while len(buf) >= 2:
            opcode = buf[0] & 0x0F
            length = buf[1] & 0x7F
            pos = 2
            if length == 126:
                if len(buf) < 4:
                    return
                length = struct.unpack("!H", buf[2:4])[0]
                pos = 4
            elif length == 127:
                if len(buf) < 10:
                    return
                length = struct.unpack("!Q", buf[2:10])[0]
                pos = 10
            if len(buf) < pos + length:
                return
            payload = bytes(buf[pos:pos + length])
            del buf[:pos + length]
            if opcode == 0x1:
                self.frames.append((t, index, payload))
            elif opcode == 0x9:
                sock.setblocking(True)
                sock.sendall(ws_frame(0xA, payload))
                sock.setblocking(False)
            elif opcode == 0x8:
                self.closed.append((index, "close frame %r" % payload))


def ws_frame(opcode, payload):
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        header = bytes([0x80 | opcode, 0x80 | n])
    else:
        header = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack("!H", n)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def ws_connect(port, key):
    """Opens the stream, subscribes to my_reservations and waits for the acknowledgement.
    Returns (socket, bytes already read past the acknowledgement)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=kSetupTimeoutS)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    nonce = base64.b64encode(os.urandom(16)).decode()
    req = ("GET %s/stream HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n"
           "Authorization: Bearer %s\r\n\r\n" % (BASE, port, nonce, key))
    sock.sendall(req.encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("stream handshake: connection closed")
        buf += chunk
    head, _, buf = buf.partition(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise RuntimeError("stream handshake refused: %r" % head[:300])
    sock.sendall(ws_frame(0x1, json.dumps({"subscribe": ["my_reservations"]}).encode()))
    while True:
        while len(buf) < 2 or len(buf) < 2 + (buf[1] & 0x7F):
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError("stream: closed before the subscription was acknowledged")
            buf += chunk
        length = buf[1] & 0x7F
        if length >= 126:
            raise RuntimeError("stream: unexpected long frame before the acknowledgement")
        payload, buf = buf[2:2 + length], buf[2 + length:]
        msg = json.loads(payload)
        if msg.get("type") == "subscribed":
            return sock, buf
        if msg.get("type") == "error":
            raise RuntimeError("stream subscription refused: %r" % msg)


def cli(args, bin_path, config, db, *rest):
    cmd = [bin_path] + list(rest[:2]) + ["--db", db, "--config", config] + list(rest[2:])
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s %s" % (cmd, r.returncode, r.stdout, r.stderr))
    return r.stdout


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, max(0, int(round(q * (len(sorted_values) - 1)))))
    return sorted_values[i]


def summary_ms(values_ns):
    v = sorted(values_ns)
    if not v:
        return {"n": 0}
    return {"n": len(v), "p50_ms": percentile(v, 0.50) / 1e6, "p90_ms": percentile(v, 0.90) / 1e6,
            "p99_ms": percentile(v, 0.99) / 1e6, "p999_ms": percentile(v, 0.999) / 1e6,
            "max_ms": v[-1] / 1e6, "mean_ms": sum(v) / len(v) / 1e6}


class Server:
    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix="opsbox-e2ebench-")
        self.db = "sqlite:" + os.path.join(self.dir, "opsbox.db")
        self.config = os.path.join(self.dir, "opsbox.toml")
        with open(self.config, "w") as f:
            f.write('data_dir = "%s"\n[log]\nlevel = "warn"\n[server]\nlisten = "127.0.0.1:0"\n'
                    'threads = %d\n[database]\nurl = "%s"\nsqlite_synchronous = "%s"\n'
                    % (self.dir, args.server_threads, self.db, args.sync))
        self.proc = None
        self.port = None

    def cli(self, *rest):
        return cli(self.args, self.args.opsbox, self.config, self.db, *rest)

    def start(self):
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        self.proc = subprocess.Popen([self.args.opsbox, "serve", "--config", self.config],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening on port "):
            self.proc.kill()
            raise RuntimeError("opsbox serve did not start: %r\n%s" % (line, self.read_log()))
        self.port = int(line.split()[-1])

    def read_log(self):
        with open(os.path.join(self.dir, "server.log")) as f:
            return f.read()

    def metrics(self):
        c = Http(self.port)
        try:
            _, body, _ = c.request("GET", "/metrics")
        finally:
            c.close()
        out = {}
        for line in body.decode().splitlines():
            if line and not line.startswith("#"):
                parts = line.split()
                if len(parts) >= 2:
                    try:
                        out[parts[0]] = float(parts[1])
                    except ValueError:
                        pass
        return out

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
            self.proc = None
        self.log.close()
        subprocess.run(["rm", "-rf", self.dir])


def setup(server, agents, capacity):
    """Keys, workers, queue and workflow. Returns (integration key, [(agent key, worker id)])."""
    server.cli("admin", "create-tenant", "--tenant", T, "--name", "Bench")

    def key(*roles, name):
        args = ["admin", "create-api-key", "--tenant", T, "--name", name]
        for r in roles:
            args += ["--role", r]
        return json.loads(server.cli(*args))["key"]

    admin = key("admin", name="admin")
    integration = key("integration", name="integration")
    agent_keys = [key("agent", name="agent-%d" % i) for i in range(agents)]
    server.start()
    c = Http(server.port, admin)
    workers = []
    for i, k in enumerate(agent_keys):
        worker = c.json("GET", BASE + "/me", key=k)["actor_id"]
        c.json("PUT", BASE + "/routing/workers/" + worker,
               {"name": "Agent %d" % i, "attributes": {"languages": ["en"]},
                "capacity": {"chat": capacity}})
        workers.append((k, worker))
    c.json("PUT", BASE + "/routing/queues/chat",
           {"name": "Chat", "target_expression": "true", "worker_selection": "longest_idle",
            "reservation_timeout_s": 3600, "wrap_up_s": 0})
    c.json("PUT", BASE + "/routing/workflows/default",
           {"filters": [], "default_filter": {"targets": [{"queue_id": "chat"}]}})
    for k, _ in workers:
        c.json("POST", BASE + "/routing/workers/me/activity", {"activity": "available"}, key=k)
    c.close()
    return integration, workers


def healthz_idle(port, n):
    c = Http(port)
    out = []
    for _ in range(n):
        t0 = now_ns()
        status, _, t1 = c.request("GET", "/healthz")
        if status != 200:
            raise RuntimeError("healthz: %d" % status)
        out.append(t1 - t0)
    c.close()
    return out


def run_load(port, key, rate, total, senders, run_id, probe_rate):
    """Open loop: message i is due at start + i / rate; a free sender takes the next index.
    Returns (records, healthz probes under load)."""
    records = [None] * total
    counter = itertools.count()
    start_ns = now_ns() + 200_000_000
    interval_ns = 1e9 / rate
    body_prefix = '{"provider_message_id":"%s-%%d","from":{"external_id":"cust-%s-%%d",' \
                  '"name":"Customer %%d"},"text":"Hello, I need help with my card"}' % (run_id,
                                                                                        run_id)
    errors = []

    def sender():
        try:
            c = Http(port, key)
        except OSError as e:
            errors.append(repr(e))
            return
        while True:
            i = next(counter)
            if i >= total:
                break
            due = start_ns + int(i * interval_ns)
            wait = due - now_ns()
            if wait > 0:
                time.sleep(wait / 1e9)
            data = (body_prefix % (i, i, i)).encode()
            req = ("POST %s/channels/chat/messages HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                   "Content-Length: %d\r\n\r\n" % (BASE, port, key, len(data))).encode() + data
            t_send = now_ns()
            try:
                c.sock.sendall(req)
                status, body, t_answer = c._read_answer()
            except (OSError, ConnectionError) as e:
                records[i] = (due, t_send, None, 0, repr(e).encode())
                c.close()
                c = Http(port, key)
                continue
            records[i] = (due, t_send, t_answer, status, body)
        c.close()

    probes = []
    end_ns = start_ns + int(total * interval_ns)

    def prober():
        c = Http(port)
        k = 0
        while True:
            due = start_ns + int(k * 1e9 / probe_rate)
            if due >= end_ns:
                break
            wait = due - now_ns()
            if wait > 0:
                time.sleep(wait / 1e9)
            t0 = now_ns()
            status, _, t1 = c.request("GET", "/healthz")
            probes.append((t0, t1 - t0, status))
            k += 1
        c.close()

    threads = [threading.Thread(target=sender, name="sender-%d" % i) for i in range(senders)]
    if probe_rate > 0:
        threads.append(threading.Thread(target=prober, name="healthz-prober"))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return records, probes, start_ns, errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--opsbox", required=True)
    ap.add_argument("--rate", type=float, default=1000.0, help="inbound messages per second")
    ap.add_argument("--seconds", type=float, default=5.0, help="measured seconds")
    ap.add_argument("--warmup-s", type=float, default=1.0, help="unmeasured seconds first")
    ap.add_argument("--senders", type=int, default=64)
    ap.add_argument("--agents", type=int, default=0, help="0: enough for every message")
    ap.add_argument("--capacity", type=int, default=100, help="chat capacity per agent (<= 100)")
    ap.add_argument("--server-threads", type=int, default=2)
    ap.add_argument("--sync", default="FULL", help="SQLite synchronous")
    ap.add_argument("--healthz-idle", type=int, default=2000)
    ap.add_argument("--healthz-probe-rate", type=float, default=50.0)
    ap.add_argument("--drain-s", type=float, default=15.0, help="wait for late offers")
    ap.add_argument("--switch-interval-s", type=float, default=0.0005,
                    help="sys.setswitchinterval: how long a thread may hold the GIL")
    args = ap.parse_args()

    sys.setswitchinterval(args.switch_interval_s)
    warm = int(round(args.rate * args.warmup_s))
    total = warm + int(round(args.rate * args.seconds))
    agents = args.agents or -(-int(total * 1.2) // args.capacity)
    server = Server(args)
    try:
        report(args, server, warm, total, agents)
    except Exception:
        if server.proc is not None:
            sys.stderr.write(server.read_log()[-4000:])
        raise
    finally:
        if server.proc is not None or hasattr(server, "log"):
            server.stop()


def report(args, server, warm, total, agents):
    log = lambda m: print("intake_to_offer: " + m, file=sys.stderr, flush=True)
    log("setting up %d agents x chat %d" % (agents, args.capacity))
    integration, workers = setup(server, agents, args.capacity)
    reader = WsReader()
    for i, (k, _) in enumerate(workers):
        sock, rest = ws_connect(server.port, k)
        reader.add(sock, i, rest)
    reader.start()
    log("healthz idle x%d" % args.healthz_idle)
    idle = healthz_idle(server.port, args.healthz_idle)
    m0 = server.metrics()
    run_id = "r%d" % os.getpid()
    log("load: %d messages at %g/s (%d warm-up), %d senders"
        % (total, args.rate, warm, args.senders))
    records, probes, start_ns, errors = run_load(server.port, integration, args.rate, total,
                                                 args.senders, run_id, args.healthz_probe_rate)
    # Join answers to offers; wait for offers still on their way.
    conv_of = {}
    for i, r in enumerate(records):
        if r is not None and r[2] is not None and 200 <= r[3] < 300:
            try:
                item = json.loads(r[4])["items"][0]
                conv_of[item["conversation_id"]] = i
            except (ValueError, KeyError, IndexError):
                pass
    deadline = time.monotonic() + args.drain_s

    def offers():
        got = {}
        for t, agent, payload in list(reader.frames):
            msg = json.loads(payload)
            if msg.get("type") == "reservation" and msg.get("status") == "pending":
                conv = (msg.get("task") or {}).get("conversation_id", "")
                got.setdefault(conv, []).append((t, agent, msg))
        return got

    got = offers()
    while time.monotonic() < deadline and not all(c in got for c in conv_of):
        time.sleep(0.25)
        got = offers()
    reader.stop = True
    reader.thread.join()
    m1 = server.metrics()

    measured = range(warm, total)
    ans, off_from_ans, off_from_send, off_from_due, lateness = [], [], [], [], []
    non2xx, failed, missing, repeated, duplicate_flag = {}, 0, [], 0, 0
    for i in measured:
        r = records[i]
        if r is None or r[2] is None:
            failed += 1
            continue
        due, t_send, t_answer, status, body = r
        lateness.append(t_send - due)
        if not 200 <= status < 300:
            non2xx[status] = non2xx.get(status, 0) + 1
            continue
        ans.append(t_answer - t_send)
        item = json.loads(body)["items"][0]
        duplicate_flag += 1 if item.get("duplicate") else 0
        o = got.get(item["conversation_id"])
        if not o:
            missing.append(item["conversation_id"])
            continue
        repeated += 1 if len(o) > 1 else 0
        t_offer = min(x[0] for x in o)
        off_from_ans.append(t_offer - t_answer)
        off_from_send.append(t_offer - t_send)
        off_from_due.append(t_offer - due)
    sends = [records[i][1] for i in measured if records[i] is not None]
    span_s = (max(sends) - min(sends)) / 1e9 if len(sends) > 1 else 0
    unknown = sum(len(v) for c, v in got.items() if c not in conv_of)
    probe_lat = [p[1] for p in probes if p[0] >= start_ns + warm * 1e9 / args.rate]

    def delta(name):
        return m1.get(name, 0) - m0.get(name, 0)

    common = {"bench": "e2e_intake_to_offer", "rate_target": args.rate, "seconds": args.seconds,
              "warmup_s": args.warmup_s, "agents": agents, "capacity_chat": args.capacity,
              "senders": args.senders, "server_threads": args.server_threads,
              "sqlite_synchronous": args.sync}
    out = [
        dict(common, figure="inbound", messages=len(measured),
             achieved_rate=(len(sends) - 1) / span_s if span_s else 0, send_span_s=span_s,
             answered_2xx=len(ans), non_2xx=non2xx, transport_errors=failed,
             sender_errors=errors, duplicates=duplicate_flag,
             send_lateness=summary_ms(lateness)),
        dict(common, figure="webhook_answer", **summary_ms(ans)),
        dict(common, figure="answer_to_offer", **summary_ms(off_from_ans),
             negative=sum(1 for v in off_from_ans if v < 0)),
        dict(common, figure="send_to_offer", **summary_ms(off_from_send)),
        dict(common, figure="due_to_offer", **summary_ms(off_from_due)),
        dict(common, figure="offers", expected=len(ans), missing=len(missing),
             missing_sample=missing[:5], with_repeat_offers=repeated,
             unknown_conversation_offers=unknown, ws_closed=reader.closed[:5],
             ws_frames=len(reader.frames)),
        dict(common, figure="healthz_idle", **summary_ms(idle)),
        dict(common, figure="healthz_under_load", probe_rate=args.healthz_probe_rate,
             non_200=sum(1 for p in probes if p[2] != 200), **summary_ms(probe_lat)),
        dict(common, figure="server_metrics",
             ledger_commits=delta("opsbox_ledger_commits_total"),
             ledger_commands=delta("opsbox_ledger_batch_size_sum"),
             ws_slow_consumers=delta("opsbox_websocket_slow_consumers_total")),
    ]
    for o in out:
        print(json.dumps(o), flush=True)


if __name__ == "__main__":
    main()
