#!/usr/bin/env python3
"""kneepath reliability suite (Python 3, standard library only).

Usage:  python3 scripts/reliability.py PATH/TO/kneepath

Four bounded parts, each against real `kneepath serve` processes on
127.0.0.1 and fresh SQLite files in a temporary folder:

1. hostile input   every route (web + API) x method x role x body variant x
                   path-parameter variant (a seeded sample, default 2,400
                   requests, 8 client threads): no 5xx (bar 503 from the PDF
                   route without a browser), every response complete, the
                   server stays up, RSS bounded. Then a slow client (4 KiB
                   receive buffer) must get a large response in full even
                   when it sent a body the handler does not read.
2. crash consistency  check-ins under load, `kill -9` at a random moment,
                   then integrity_check, foreign_key_check and every
                   acknowledged check-in present; repeated over N cycles.
3. live backup     `kneepath backup` while check-ins and sign-ups are being
                   written; every backup restores into an empty database and
                   holds one snapshot between "just before" and "just after".
4. descriptors     the server under a soft RLIMIT_NOFILE of 256 with 300 idle
                   and a few half-sent connections still answers /healthz.

Environment (all optional):
  RELIABILITY_REQUESTS  part 1 requests (default 2400, at least 2000; "all": the whole product)
  RELIABILITY_CYCLES    part 2 kill cycles (default and at least 10)
  RELIABILITY_BACKUPS   part 3 backups (default and at least 5)
  RELIABILITY_PARTS     which parts to run, e.g. "1,3" (default all)
  RELIABILITY_SEED      seed of every random choice (default 20261205)
  RELIABILITY_KEEP=1    keep the temporary folder (logs, databases)

Exit status: 0 when every check passed, 1 otherwise. Timings are reported
as figures, never asserted; timeouts only keep a hung server from hanging
the suite.
"""

import collections
import concurrent.futures
import datetime
import hashlib
import http.client
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

SEED = int(os.environ.get("RELIABILITY_SEED", "20261205"))
# The env vars only raise the counts: CI always sends at least 2,000
# requests and runs at least 10 kill cycles and 5 backups.
REQUESTS = os.environ.get("RELIABILITY_REQUESTS", "2400").strip().lower()
if REQUESTS != "all":
    REQUESTS = str(max(2000, int(REQUESTS)))
CYCLES = max(10, int(os.environ.get("RELIABILITY_CYCLES", "10")))
BACKUPS = max(5, int(os.environ.get("RELIABILITY_BACKUPS", "5")))
PARTS = {int(p) for p in os.environ.get("RELIABILITY_PARTS", "1,2,3,4").split(",") if p.strip()}
KEEP = os.environ.get("RELIABILITY_KEEP") == "1"

CLIENT_THREADS = 8
REQUEST_TIMEOUT = 30.0  # seconds; a request taking longer counts as a hang
RSS_LIMIT_MB = 150
# Part 2: 15 new days per patient per cycle. 200 patients (3,000 check-ins)
# ran out within the kill window on a 2-core machine, so the kill did not
# always land mid-load: 600 patients, 60 of them written through the API.
CRASH_PATIENTS = 600
CRASH_API_PATIENTS = 60
BODY_LIMIT = 64 * 1024  # the server's request body limit
ANSI = re.compile(r"\x1b\[[0-9;]*m")

BIN = None
WORK = None
SERVERS = []  # every server started, killed on exit
FAILURES = []  # (part, message)
RESULTS = collections.OrderedDict()


def fail(part, msg):
    FAILURES.append((part, msg))
    print(f"  FAIL [{part}] {msg}", flush=True)


def log(msg):
    print(msg, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def day_str(d):
    return d.isoformat()


def sha256_hex(s):
    return hashlib.sha256(s.encode()).hexdigest()


def run_cli(*args, stdin=None, timeout=180):
    """Run a kneepath subcommand; return stdout (raise with stderr on failure)."""
    p = subprocess.run(
        [BIN, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if p.returncode != 0:
        raise RuntimeError(f"kneepath {' '.join(args)} failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
    return p.stdout


def db_connect(path, readonly=False):
    if readonly:
        c = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    else:
        c = sqlite3.connect(str(path), timeout=30)
    c.execute("PRAGMA busy_timeout = 30000")
    return c


def db_checks(path):
    """integrity_check and foreign_key_check of a SQLite file: (ok, detail)."""
    c = db_connect(path)
    try:
        integrity = [r[0] for r in c.execute("PRAGMA integrity_check").fetchall()]
        fk = c.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        c.close()
    problems = []
    if integrity != ["ok"]:
        problems.append(f"integrity_check: {integrity[:5]}")
    if fk:
        problems.append(f"foreign_key_check: {len(fk)} rows, e.g. {fk[:3]}")
    return (not problems), "; ".join(problems)


def checkin_pairs(path):
    c = db_connect(path, readonly=True)
    try:
        return set(c.execute("SELECT user_id, day FROM checkins").fetchall())
    finally:
        c.close()


def user_ids(path):
    c = db_connect(path, readonly=True)
    try:
        return {r[0] for r in c.execute("SELECT id FROM users").fetchall()}
    finally:
        c.close()


# --- HTTP ---------------------------------------------------------------------


class Resp:
    __slots__ = ("status", "headers", "body", "error")

    def __init__(self, status=None, headers=None, body=b"", error=None):
        self.status = status
        self.headers = headers or {}
        self.body = body
        self.error = error

    def header(self, name):
        return self.headers.get(name.lower())


def request(port, method, path, body=None, headers=None, timeout=REQUEST_TIMEOUT, source=None):
    """One request on a new connection. Never raises: errors are in .error,
    which says how far the exchange got (send, headers, or the body after
    the status line, then .status is set too)."""
    conn = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=timeout, source_address=(source, 0) if source else None
    )
    stage = "connect"
    r = None
    try:
        try:
            stage = "send"
            conn.request(method, path, body=body, headers=headers or {})
        except (BrokenPipeError, ConnectionResetError):
            # The server may answer (413) and close before the whole body is
            # sent: read what it said.
            pass
        stage = "status line"
        r = conn.getresponse()
        stage = "body"
        data = r.read()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    except Exception as e:  # noqa: BLE001 - every client-side failure is reported
        what = "timeout" if isinstance(e, socket.timeout) else f"{type(e).__name__}: {e}"
        if r is not None:
            return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, b"",
                        error=f"{what} while reading the body of a {r.status} response"[:300])
        return Resp(error=f"{what} (before the {stage} was complete)"[:300])
    finally:
        conn.close()


class Server:
    """A `kneepath serve` process with its log files."""

    def __init__(self, name, db_path, today, demo=False, nofile=None, extra=()):
        self.name = name
        self.db_path = Path(db_path)
        self.today = today
        self.port = free_port()
        self.out_path = WORK / f"{name}.out.log"
        self.err_path = WORK / f"{name}.err.log"
        args = [
            BIN, "serve",
            "--addr", f"127.0.0.1:{self.port}",
            "--database", f"sqlite://{self.db_path}",
            "--today", day_str(today),
        ]
        if demo:
            args.append("--demo")
        args.extend(extra)
        env = dict(os.environ)
        env["KNEEPATH_CHROMIUM"] = "/nonexistent/chromium"
        env.setdefault("NO_COLOR", "1")
        env.pop("KNEEPATH_DATABASE_URL", None)
        env.pop("KNEEPATH_ADDR", None)
        env.pop("KNEEPATH_MAX_CONNECTIONS", None)
        preexec = None
        if nofile is not None:
            def preexec():
                _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))
        self.out = open(self.out_path, "ab")
        self.err = open(self.err_path, "ab")
        self.proc = subprocess.Popen(
            args, stdout=self.out, stderr=self.err, stdin=subprocess.DEVNULL,
            env=env, preexec_fn=preexec,
        )
        SERVERS.append(self)

    def wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server {self.name} exited ({self.proc.returncode}): {self.log_tail()}")
            r = request(self.port, "GET", "/healthz", timeout=2)
            if r.status == 200:
                return
            time.sleep(0.05)
        raise RuntimeError(f"server {self.name} not ready after {timeout} s: {self.log_tail()}")

    def alive(self):
        return self.proc.poll() is None

    def rss_kb(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def stdout_text(self):
        self.out.flush()
        return ANSI.sub("", self.out_path.read_text(errors="replace"))

    def log_text(self):
        self.err.flush()
        return ANSI.sub("", self.err_path.read_text(errors="replace"))

    def log_tail(self, n=30):
        lines = (self.stdout_text() + self.log_text()).splitlines()
        return "\n".join(lines[-n:])

    def kill9(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self._close()

    def _close(self):
        for f in (self.out, self.err):
            try:
                f.close()
            except Exception:
                pass
        if self in SERVERS:
            SERVERS.remove(self)


def kill_all_servers():
    for s in list(SERVERS):
        try:
            if s.proc.poll() is None:
                os.kill(s.proc.pid, signal.SIGKILL)
                s.proc.wait(timeout=30)
        except Exception:
            pass
        s._close()


FORM = "application/x-www-form-urlencoded"


def parse_cookie(resp, name):
    # http.client joins repeated headers with ", "; cookies here carry no commas
    raw = resp.header("set-cookie") or ""
    m = re.search(rf"(?:^|[ ,]){name}=([^;,]*)", raw)
    return m.group(1) if m else None


def anon_csrf(port, source=None):
    r = request(port, "GET", "/login", source=source)
    token = parse_cookie(r, "kp_csrf")
    if r.status != 200 or not token:
        raise RuntimeError(f"GET /login gave {r.status} {r.error} without a kp_csrf cookie")
    return token


def login(port, email, password, source="127.0.0.1"):
    """Log in through the web form: (session token, csrf of the session)."""
    csrf = anon_csrf(port, source)
    body = urllib.parse.urlencode({"csrf": csrf, "email": email, "password": password, "next": "/plan"})
    r = request(port, "POST", "/login", body=body, source=source, headers={
        "Content-Type": FORM, "Cookie": f"kp_csrf={csrf}", "Origin": f"http://127.0.0.1:{port}",
    })
    token = parse_cookie(r, "kp_session")
    if r.status != 303 or not token:
        raise RuntimeError(f"login {email}: {r.status} {r.error}")
    return token


def session_csrf(db_path, token):
    c = db_connect(db_path, readonly=True)
    try:
        row = c.execute("SELECT csrf_token, user_id FROM sessions WHERE token_hash = ?", (sha256_hex(token),)).fetchone()
    finally:
        c.close()
    if not row:
        raise RuntimeError("a session token is not in the sessions table")
    return row


# --- part 1: hostile input ------------------------------------------------------------

# Fallback when the source tree is not next to the script: the web routes of
# crates/kneepath-web/src/pages/mod.rs (path, methods).
WEB_ROUTES_BUILTIN = [
    ("/", ["GET"]), ("/healthz", ["GET"]), ("/static/style.css", ["GET"]),
    ("/signup", ["GET", "POST"]), ("/login", ["GET", "POST"]), ("/logout", ["POST"]),
    ("/account", ["GET"]), ("/account/export.json", ["GET"]), ("/account/delete", ["POST"]),
    ("/account/time-zone", ["POST"]), ("/account/password", ["POST"]),
    ("/reset/{token}", ["GET", "POST"]), ("/account/details", ["POST"]),
    ("/static/tz.js", ["GET"]), ("/account/calendar", ["POST"]),
    ("/account/calendar/revoke", ["POST"]), ("/calendar/{token}", ["GET"]),
    ("/assess", ["GET"]), ("/assess/check", ["GET", "POST"]), ("/assess/{step}", ["GET", "POST"]),
    ("/assessments", ["GET"]), ("/assessments/{id}", ["GET"]), ("/plan", ["GET"]),
    ("/checkin", ["GET", "POST"]), ("/checkin/saved", ["GET"]), ("/progress", ["GET"]),
    ("/outcomes", ["GET"]), ("/outcomes/{id}", ["GET", "POST"]),
    ("/invite/{token}", ["GET", "POST"]), ("/account/links/{id}/revoke", ["POST"]),
    ("/account/tokens", ["POST"]), ("/account/tokens/{id}/revoke", ["POST"]),
    ("/clinic", ["GET"]), ("/clinic/invites", ["POST"]), ("/clinic/patients/{id}", ["GET"]),
    ("/clinic/patients/{id}/measurements", ["POST"]), ("/clinic/patients/{id}/notes", ["POST"]),
    ("/clinic/patients/{id}/plan", ["POST"]), ("/clinic/patients/{id}/phase", ["POST"]),
    ("/clinic/patients/{id}/unlink", ["POST"]), ("/clinic/patients/{id}/report", ["GET"]),
    ("/clinic/patients/{id}/report.pdf", ["GET"]), ("/admin/users", ["GET", "POST"]),
    ("/admin/users/{id}/disable", ["POST"]), ("/admin/users/{id}/enable", ["POST"]),
    ("/admin/users/{id}/reset", ["POST"]), ("/admin/audit", ["GET"]),
]


def web_routes():
    src = Path(__file__).resolve().parent.parent / "crates/kneepath-web/src/pages/mod.rs"
    if not src.exists():
        return WEB_ROUTES_BUILTIN, "built-in list"
    text = src.read_text()
    routes = []
    for m in re.finditer(r'\.route\(\s*"([^"]+)",(.*?)\)\s*(?=\.route\(|\.fallback\(|\n\})', text, re.S):
        methods = sorted({x.upper() for x in re.findall(r"\b(get|post|put|delete|patch)\(", m.group(2))})
        routes.append((m.group(1), methods))
    if len(routes) < 20:
        return WEB_ROUTES_BUILTIN, "built-in list (mod.rs not understood)"
    return routes, str(src.relative_to(src.parents[4]))


# Routes whose POST can end or change a session, an account or a link the
# suite relies on: sent one at a time after the concurrent phase, each
# followed by a session check.
RISKY = {
    "/logout", "/login", "/signup", "/account/delete", "/account/password", "/account/details",
    "/reset/{token}", "/invite/{token}", "/account/links/{id}/revoke", "/account/tokens/{id}/revoke",
    "/clinic/patients/{id}/unlink", "/admin/users/{id}/disable", "/admin/users/{id}/enable",
    "/admin/users/{id}/reset", "/account/calendar/revoke",
}
PDF_ROUTE = "/clinic/patients/{id}/report.pdf"
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]
ROLES = ["anonymous", "patient", "clinician", "admin"]
BODIES = [
    "empty", "form", "garbage", "bad_utf8", "oversize", "json", "deep_json",
    "wrong_type", "control", "huge_field", "repeated",
]
PARAM_VARIANTS = ["real", "random", "traversal", "long", "pct_zz", "pct_00", "pct_ff"]
PLAIN_VARIANTS = ["plain", "query_junk"]


def path_for(template, variant, real_ids, rng):
    if "{" not in template:
        if variant == "plain":
            return template
        return template + "?next=..%2F..%2Fetc%2Fpasswd&x=%ZZ&y=%00&z=%FF%FE&day=9999-99-99&" + "q=" + "A" * 300
    name = re.search(r"\{(\w+)\}", template).group(1)
    if variant == "real":
        value = real_ids.get(template) or real_ids.get(name) or "".join(rng.choice("0123456789abcdef") for _ in range(28))
    elif variant == "random":
        value = "".join(rng.choice("0123456789abcdef") for _ in range(28))
    elif variant == "traversal":
        value = "..%2F..%2Fetc%2Fpasswd"
    elif variant == "long":
        value = "9" * 5000
    elif variant == "pct_zz":
        value = "%ZZ"
    elif variant == "pct_00":
        value = "%00"
    else:
        value = "%FF%FE"
    return re.sub(r"\{\w+\}", value, template, count=1)


def body_for(variant, csrf, port, idx):
    """(body bytes or None, extra headers) for a body variant."""
    rng = random.Random(SEED * 1_000_003 + idx)
    origin = {"Origin": f"http://127.0.0.1:{port}"}
    fields = [
        ("csrf", csrf), ("day", "2026-12-01"), ("pain_now", "2"), ("stiffness", "1"),
        ("swelling", "none"), ("walks_normally", "yes"), ("full_range", "yes"), ("sleep_hours", "7"),
        ("display_name", "Fuzz Person"), ("email", f"fuzz-{idx}@example.invalid"),
        ("password", "not-the-password-123"), ("current_password", "not-the-password-123"),
        ("new_password", "another-wrong-password-1"), ("time_zone", "Europe/Oslo"),
        ("next", "//evil.example/"), ("note", "hello"), ("body", "a note"), ("role", "admin"),
        ("step", "1"), ("sign", "night_pain"), ("correct", "2026-12-01"),
        (f"zz_{rng.randrange(10**6)}", "junk"), ("__proto__", "x"), ("a[b]", "c"),
    ]
    if variant == "empty":
        return None, {}
    if variant == "form":
        return urllib.parse.urlencode(fields).encode(), {"Content-Type": FORM, **origin}
    if variant == "garbage":
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4096))), {"Content-Type": FORM}
    if variant == "bad_utf8":
        return (f"csrf={csrf}&display_name=".encode() + b"\xff\xfe\xfd\xc3\x28" +
                b"&note=%FF%FE%C3%28&email=%E0%80%AF&" + "day=2026-12-01".encode()), {"Content-Type": FORM, **origin}
    if variant == "oversize":
        return f"csrf={csrf}&note=".encode() + b"A" * (BODY_LIMIT + 6000), {"Content-Type": FORM, **origin}
    if variant == "json":
        doc = {"day": "2026-12-01", "pain_now": 2, "stiffness": 1, "swelling": "none",
               "walks_normally": True, "full_range": True, "time_zone": "Europe/Oslo",
               "csrf": csrf, "extra": [1, "two", None, {"x": -1e308}], "pain": 10 ** 30}
        return json.dumps(doc).encode(), {"Content-Type": "application/json", **origin}
    if variant == "deep_json":
        depth = 20000
        return (b"[" * depth + b"]" * depth), {"Content-Type": "application/json"}
    if variant == "wrong_type":
        ct = rng.choice(["text/plain", "application/xml", "multipart/form-data; boundary=x",
                         "application/fhir+json", "application/x-www-form-urlencodedX", "*/*"])
        return urllib.parse.urlencode(fields).encode(), {"Content-Type": ct, **origin}
    if variant == "control":
        return (f"csrf={csrf}&display_name=a%00b%01c%1B%5B31m&note=".encode() + b"\x00\x01\x02\x7f\r\n\t" +
                b"&email=x%00%40example.invalid&day=2026-12-01%00&pain_now=%00"), {"Content-Type": FORM, **origin}
    if variant == "huge_field":
        big = "x" * (BODY_LIMIT - 4096)
        return f"csrf={csrf}&display_name={big}".encode(), {"Content-Type": FORM, **origin}
    if variant == "repeated":
        rep = "&".join(f"{k}={urllib.parse.quote(v)}" for k, v in fields[:10])
        reps = max(1, (BODY_LIMIT - 2048) // (len(rep) + 1))
        return ("&".join([rep] * reps)).encode(), {"Content-Type": FORM, **origin}
    raise ValueError(variant)


def build_plan(routes, n_wanted):
    """Every route x method x role x body x path variant, or a seeded sample of
    it: first each (route, own method, role) once with a real id (or plain
    path) and a well-formed body, then each (route, wrong method) once, then
    random items, most of them (85 %) with one of the route's own methods."""
    product = []
    for template, own, api in routes:
        methods = list(dict.fromkeys(own + METHODS))
        variants = PARAM_VARIANTS if "{" in template else PLAIN_VARIANTS
        for method in methods:
            for role in ROLES:
                for body in BODIES:
                    for pv in variants:
                        product.append((template, method, role, body, pv, api, method in own))
    rng = random.Random(SEED)
    if n_wanted is None or n_wanted >= len(product):
        chosen = list(product)
    else:
        index = {item[:5]: i for i, item in enumerate(product)}
        first = []
        for template, own, api in routes:
            pv = "real" if "{" in template else "plain"
            for method in own:
                body = "empty" if method == "GET" else ("json" if api else "form")
                first.extend(index[(template, method, role, body, pv)] for role in ROLES)
            for method in METHODS:
                if method not in own:
                    first.append(index[(template, method, rng.choice(ROLES), rng.choice(BODIES),
                                        rng.choice(PARAM_VARIANTS if "{" in template else PLAIN_VARIANTS))])
        picked = set(first[:n_wanted])
        own_rest = [i for i, item in enumerate(product) if item[6] and i not in picked]
        wrong_rest = [i for i, item in enumerate(product) if not item[6] and i not in picked]
        left = n_wanted - len(picked)
        n_own = min(len(own_rest), round(left * 0.85))
        picked.update(rng.sample(own_rest, n_own))
        picked.update(rng.sample(wrong_rest, min(len(wrong_rest), n_wanted - len(picked))))
        chosen = [product[i] for i in sorted(picked)]
    rng.shuffle(chosen)
    return chosen, len(product)


def slow_read(port, path, headers, body_size, gap=0.0):
    """A client that reads slowly (4 KiB receive buffer, 1 s before reading):
    send a GET with a body of body_size bytes (gap seconds after the headers,
    as a separate write, when gap > 0), then read the whole response.
    Returns (complete, detail)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(REQUEST_TIMEOUT)
    got = b""
    end = "no connection"
    try:
        s.connect(("127.0.0.1", port))
        head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head += f"Content-Type: application/json\r\nContent-Length: {body_size}\r\n\r\n"
        body = b" " * body_size
        if gap > 0:
            s.sendall(head.encode())
            time.sleep(gap)
            s.sendall(body)
        else:
            s.sendall(head.encode() + body)
        time.sleep(1.0)
        end = "end of stream"
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                got += d
        except OSError as e:
            end = type(e).__name__
    except OSError as e:
        end = f"{type(e).__name__} while sending"
    finally:
        s.close()
    head, _, body = got.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].decode(errors="replace")
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    want = int(m.group(1)) if m else None
    ok = end == "end of stream" and want is not None and len(body) == want and " 200 " in status
    return ok, f"{status or 'no status line'}, {len(body)} of {want} body bytes, then {end}"


def slow_reader_checks(port, patient):
    """A large response must arrive in full even when the handler does not
    read the request body (RFC 9112 section 9.6: a server that closes with
    unread input makes its TCP stack send a reset, which can destroy the
    response the client has not read yet)."""
    bearer = {"Authorization": f"Bearer {patient['bearer']}"}
    cookie = {"Cookie": patient["cookie"]}
    out = []
    for name, path, headers, size, gap in (
        ("GET /api/v1/fhir/Bundle, no body (control)", "/api/v1/fhir/Bundle", bearer, 0, 0),
        ("GET /account/export.json, no body (control)", "/account/export.json", cookie, 0, 0),
        ("GET /api/v1/fhir/Bundle with a 60,000-byte body", "/api/v1/fhir/Bundle", bearer, 60000, 0),
        ("GET /account/export.json with a 60,000-byte body", "/account/export.json", cookie, 60000, 0),
        ("GET /account/export.json with a 100-byte body sent 0.1 s after the headers",
         "/account/export.json", cookie, 100, 0.1),
    ):
        ok, detail = slow_read(port, path, headers, size, gap)
        out.append((name, ok, detail))
    return out


def part1():
    part = "hostile"
    today = datetime.date(2026, 12, 5)
    db = WORK / "hostile.db"
    srv = Server("hostile", db, today, demo=True)
    try:
        srv.wait_ready()
        out = srv.stdout_text()
        logins = dict()
        for role, email, pw in re.findall(r"^\s*(patient|clinician|admin)\s+(\S+@\S+)\s*/\s*(\S+)\s*$", out, re.M):
            logins[role] = (email, pw)
        if set(logins) != {"patient", "clinician", "admin"}:
            raise RuntimeError(f"could not read the demo logins from the server's output: {out[-1000:]}")
        port = srv.port
        url = f"sqlite://{db}"
        # A sacrificial account for the admin routes, and a sacrificial API
        # token of the patient for the token-revoke route.
        run_cli("user", "add", "--database", url, "--email", "sacrificial@reliability.invalid",
                "--name", "Sacrificial", "--role", "patient", "--password-stdin",
                stdin="sacrificial-password-1\n")
        bearer = run_cli("user", "token", "--database", url, "--email", logins["patient"][0],
                         "--name", "reliability", "--scope", "write").strip()
        run_cli("user", "token", "--database", url, "--email", logins["patient"][0],
                "--name", "reliability-sacrificial", "--scope", "write")

        routes_web, source = web_routes()
        spec = json.loads(request(port, "GET", "/api/v1/openapi.json").body)
        routes = [(p, m, False) for p, m in routes_web]
        for p, ops in sorted(spec["paths"].items()):
            routes.append((p, sorted(k.upper() for k in ops if k.upper() in METHODS), True))
        n_wanted = None if REQUESTS == "all" else int(REQUESTS)
        plan, product_size = build_plan(routes, n_wanted)
        log(f"  routes: {len(routes_web)} web (from {source}) + {len(routes) - len(routes_web)} API; "
            f"product {product_size} requests, sending {len(plan)}")

        # Sessions: a pool per role, made before any wrong password is sent
        # (the fuzzing sends many, which rate-limit logins of the account).
        enders = collections.Counter(r for (t, m, r, *_rest) in plan if t == "/logout" and m == "POST")
        pools = {}
        for role in ("patient", "clinician", "admin"):
            email, pw = logins[role]
            pools[role] = [login(port, email, pw) for _ in range(2 + enders[role])]
        sessions = {}  # role -> dict(cookie, csrf, bearer, user_id)
        replaced = collections.Counter()

        def use_next(role):
            while pools[role]:
                token = pools[role].pop(0)
                csrf, uid = session_csrf(db, token)
                r = request(port, "GET", "/account", headers={"Cookie": f"kp_session={token}"}, source="127.0.0.1")
                if r.status == 200:
                    sessions[role] = {"cookie": f"kp_session={token}", "csrf": csrf, "user_id": uid,
                                      "bearer": bearer if role == "patient" else None}
                    return
            email, pw = logins[role]
            token = login(port, email, pw)  # last resort
            csrf, uid = session_csrf(db, token)
            sessions[role] = {"cookie": f"kp_session={token}", "csrf": csrf, "user_id": uid,
                              "bearer": bearer if role == "patient" else None}

        for role in ("patient", "clinician", "admin"):
            use_next(role)
        a = anon_csrf(port)
        sessions["anonymous"] = {"cookie": f"kp_csrf={a}", "csrf": a, "user_id": None, "bearer": None}

        def session_ok(role):
            if role == "anonymous":
                return True
            r = request(port, "GET", "/account", headers={"Cookie": sessions[role]["cookie"]}, source="127.0.0.1")
            return r.status == 200

        # Real ids for path parameters.
        c = db_connect(db, readonly=True)
        q = lambda sql, *a: (c.execute(sql, a).fetchone() or [None])[0]  # noqa: E731
        pid = sessions["patient"]["user_id"]
        cid = sessions["clinician"]["user_id"]
        real = {
            "/assessments/{id}": q("SELECT id FROM assessments WHERE user_id=? ORDER BY created_at DESC", pid),
            "/api/v1/assessments/{id}": q("SELECT id FROM assessments WHERE user_id=? ORDER BY created_at DESC", pid),
            "/api/v1/checkins/{day}": q("SELECT day FROM checkins WHERE user_id=? ORDER BY day DESC", pid),
            "/account/links/{id}/revoke": q("SELECT id FROM care_links WHERE patient_id=? AND revoked_at IS NULL", pid),
            "/account/tokens/{id}/revoke": q("SELECT id FROM api_tokens WHERE name='reliability-sacrificial'"),
            "id_clinic": q("SELECT patient_id FROM care_links WHERE clinician_id=? AND revoked_at IS NULL "
                           "ORDER BY patient_id = ? , created_at", cid, pid),
            "id_admin": q("SELECT id FROM users WHERE email='sacrificial@reliability.invalid'"),
            "/assess/{step}": "1",
            "/outcomes/{id}": "koos",
            "/api/v1/outcomes/{instrument}": "koos",
            "/api/v1/fhir/Questionnaire/{name}": "checkin",
        }
        c.close()
        for t in ("/clinic/patients/{id}", "/clinic/patients/{id}/measurements", "/clinic/patients/{id}/notes",
                  "/clinic/patients/{id}/plan", "/clinic/patients/{id}/phase", "/clinic/patients/{id}/unlink",
                  "/clinic/patients/{id}/report", PDF_ROUTE):
            real[t] = real["id_clinic"]
        for t in ("/admin/users/{id}/disable", "/admin/users/{id}/enable", "/admin/users/{id}/reset"):
            real[t] = real["id_admin"]
        pcs = sessions["patient"]
        r = request(port, "POST", "/account/calendar", body=f"csrf={pcs['csrf']}",
                    headers={"Cookie": pcs["cookie"], "Content-Type": FORM})
        m = re.search(rb"/calendar/([0-9a-f]{16,}\.ics)", r.body)
        if m:
            real["/calendar/{token}"] = m.group(1).decode()
        ccs = sessions["clinician"]
        r = request(port, "POST", "/clinic/invites", body=f"csrf={ccs['csrf']}",
                    headers={"Cookie": ccs["cookie"], "Content-Type": FORM})
        m = re.search(rb"/invite/([0-9a-f]{16,})", r.body)
        if m:
            real["/invite/{token}"] = m.group(1).decode()
        acs = sessions["admin"]
        r = request(port, "POST", f"/admin/users/{real['id_admin']}/reset", body=f"csrf={acs['csrf']}",
                    headers={"Cookie": acs["cookie"], "Content-Type": FORM})
        m = re.search(rb"/reset/([0-9a-f]{16,})", r.body)
        if m:
            real["/reset/{token}"] = m.group(1).decode()
        missing = [k for k, v in real.items() if not v]
        if missing:
            log(f"  note: no real id for {missing} (random ids used)")

        statuses = collections.Counter()
        problems = []
        lock = threading.Lock()
        source_of = lambda i: f"127.{1 + (i // 62500) % 250}.{(i // 250) % 250}.{1 + i % 250}"  # noqa: E731

        def send(i, item):
            template, method, role, body_v, pv, api, _own = item
            rng = random.Random(SEED + i)
            s = sessions[role]
            path = path_for(template, pv, real, rng)
            body, headers = body_for(body_v, s["csrf"], port, i)
            headers = dict(headers)
            headers["Cookie"] = s["cookie"]
            if api and s["bearer"]:
                headers["Authorization"] = f"Bearer {s['bearer']}"
            r = request(port, method, path, body=body, headers=headers, source=source_of(i))
            key = r.status if r.error is None else f"{r.status or 'no status'}, {r.error.split(':')[0]}"
            bad = None
            if r.error is not None:
                bad = f"no complete response: {r.error}"
            elif r.status >= 500 and not (r.status == 503 and template == PDF_ROUTE):
                bad = f"{r.status}: {r.body[:300]!r}"
            with lock:
                statuses[key] += 1
                if bad:
                    problems.append(f"{method} {path[:120]} as {role}, body {body_v}: {bad}")
            return r

        rss0 = srv.rss_kb()
        t0 = time.monotonic()
        normal = [(i, it) for i, it in enumerate(plan) if not (it[1] == "POST" and it[0] in RISKY)]
        risky = [(i, it) for i, it in enumerate(plan) if it[1] == "POST" and it[0] in RISKY]
        with concurrent.futures.ThreadPoolExecutor(CLIENT_THREADS) as ex:
            list(ex.map(lambda p: send(*p), normal))
        ended_concurrent = [role for role in ("patient", "clinician", "admin") if not session_ok(role)]
        if ended_concurrent:
            fail(part, f"a session ended during the concurrent phase (a route missing from RISKY?): {ended_concurrent}")
            for role in ended_concurrent:
                use_next(role)
                replaced[role] += 1
        ended_by = collections.Counter()
        for i, it in risky:
            send(i, it)
            role = it[2]
            if not session_ok(role):
                use_next(role)
                replaced[role] += 1
                ended_by[f"{it[1]} {it[0]} ({role})"] += 1
        slow = slow_reader_checks(port, sessions["patient"])
        for name, ok, detail in slow:
            if not ok:
                fail(part, f"slow reader, {name}: {detail}")
        elapsed = time.monotonic() - t0
        rss1 = srv.rss_kb()
        alive = srv.alive()
        health = request(port, "GET", "/healthz", timeout=10)
        for p in problems[:25]:
            fail(part, p)
        if len(problems) > 25:
            fail(part, f"... and {len(problems) - 25} more")
        if not alive:
            fail(part, f"the server died: {srv.log_tail()}")
        if health.status != 200:
            fail(part, f"/healthz at the end: {health.status} {health.error}")
        growth_mb = ((rss1 or 0) - (rss0 or 0)) / 1024
        if rss0 is None or rss1 is None:
            fail(part, "could not read VmRSS of the server")
        elif growth_mb > RSS_LIMIT_MB:
            fail(part, f"RSS grew by {growth_mb:.1f} MB (limit {RSS_LIMIT_MB} MB)")
        server_log = srv.stdout_text() + srv.log_text()
        panics = len(re.findall(r"panicked at", server_log))
        error_lines = len(re.findall(r"^\S+\s+ERROR\b", server_log, re.M))
        if panics:
            fail(part, f"the server log shows {panics} panic(s): "
                       f"{re.search(r'.*panicked at.*', server_log).group(0)[:300]}")
        fivexx = sum(n for k, n in statuses.items() if isinstance(k, int) and k >= 500)
        RESULTS["hostile"] = {
            "product": product_size, "requests": len(plan), "concurrent": len(normal),
            "sequential": len(risky), "statuses": statuses,
            "5xx": fivexx, "pdf_503": statuses.get(503, 0), "unexpected": len(problems),
            "rss_before_mb": (rss0 or 0) / 1024, "rss_after_mb": (rss1 or 0) / 1024,
            "seconds": elapsed, "sessions_replaced": dict(replaced), "routes": len(routes),
            "panics": panics, "error_lines": error_lines, "ended_by": dict(ended_by), "slow": slow,
            "own_method": sum(1 for it in plan if it[6]),
        }
        log(f"  statuses: {dict(sorted(statuses.items(), key=lambda kv: str(kv[0])))}")
        log(f"[1] hostile input: {len(plan)} requests in {elapsed:.1f} s, {len(problems)} unexpected "
            f"(5xx other than PDF 503, or no response), server alive={alive}, /healthz={health.status}, "
            f"RSS {rss0 and rss0 // 1024} -> {rss1 and rss1 // 1024} MB, sessions replaced {dict(replaced)}, "
            f"server log: {panics} panics, {error_lines} ERROR lines")
        log(f"  sessions ended by: {dict(ended_by)}")
        for name, ok, detail in slow:
            log(f"  slow reader, {name}: {'ok' if ok else 'FAILED'} ({detail})")
    finally:
        srv.stop()


# --- part 2: crash consistency ------------------------------------------------------------


def seed_db(db, patients, today):
    sess_file = WORK / f"{db.stem}.sessions"
    run_cli("seed", "--database", f"sqlite://{db}", "--patients", str(patients),
            "--today", day_str(today), "--sessions", str(sess_file), timeout=600)
    lines = [ln.split() for ln in sess_file.read_text().splitlines() if ln.strip()]
    c = db_connect(db, readonly=True)
    try:
        people = []
        for token, csrf in lines:
            row = c.execute("SELECT s.user_id, u.email FROM sessions s JOIN users u ON u.id = s.user_id "
                            "WHERE s.token_hash = ?", (sha256_hex(token),)).fetchone()
            if not row:
                raise RuntimeError("a seeded session token has no row in sessions (hash scheme changed?)")
            people.append({"token": token, "csrf": csrf, "user_id": row[0], "email": row[1]})
    finally:
        c.close()
    return people


def make_tokens(db, people):
    c = db_connect(db, readonly=True)
    try:
        for p in people:
            tok = run_cli("user", "token", "--database", f"sqlite://{db}", "--email", p["email"],
                          "--name", "reliability", "--scope", "write").strip()
            row = c.execute("SELECT user_id FROM api_tokens WHERE token_hash = ?", (sha256_hex(tok),)).fetchone()
            if row and row[0] != p["user_id"]:
                raise RuntimeError(f"API token of {p['email']} belongs to {row[0]}, not {p['user_id']}")
            p["bearer"] = tok
    finally:
        c.close()


def checkin_writer(port, kind, pairs, stop, record, server_dead, killed_at=None):
    """Send check-ins for the (person, day) pairs in order until stopped.
    record(kind, person, day, status, acked). A connection error after the
    kill (killed_at[0], a monotonic time) ends the thread; one before it is
    recorded."""
    conn = None
    for person, day in pairs:
        if stop.is_set():
            break
        if kind == "web":
            body = urllib.parse.urlencode({
                "csrf": person["csrf"], "day": day, "pain_now": "2", "stiffness": "1", "swelling": "none",
                "walks_normally": "yes", "full_range": "yes", "sleep_hours": "7"})
            headers = {"Cookie": f"kp_session={person['token']}", "Content-Type": FORM,
                       "Origin": f"http://127.0.0.1:{port}"}
            path = "/checkin"
        else:
            body = json.dumps({"day": day, "pain_now": 2, "stiffness": 1, "swelling": "none",
                               "walks_normally": True, "full_range": True})
            headers = {"Authorization": f"Bearer {person['bearer']}", "Content-Type": "application/json"}
            path = "/api/v1/checkins"
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
            conn.request("POST", path, body=body, headers=headers)
            r = conn.getresponse()
            r.read()
            status, location = r.status, r.getheader("location") or ""
            if r.getheader("connection", "").lower() == "close":
                conn.close()
                conn = None
        except Exception as e:  # noqa: BLE001
            failed_at = time.monotonic()
            if conn:
                conn.close()
            conn = None
            server_dead.wait(2.0)
            after_kill = killed_at is not None and killed_at[0] is not None and failed_at >= killed_at[0]
            if not after_kill:
                record(kind, person, day, f"error {type(e).__name__}", False)
            if after_kill or stop.is_set():
                break
            continue
        if kind == "web":
            acked = status == 303 and location.startswith("/checkin/saved")
        else:
            acked = status == 201
        record(kind, person, day, status, acked)
    if conn:
        conn.close()


def window(today, plan_start):
    first = max(plan_start, today - datetime.timedelta(days=14))
    return [day_str(first + datetime.timedelta(days=k)) for k in range((today - first).days + 1)]


def split_work(people, n_api, today, plan_start, web_threads, api_threads):
    days = window(today, plan_start)
    api_people, web_people = people[:n_api], people[n_api:]
    jobs = []
    for kind, group, n in (("web", web_people, web_threads), ("api", api_people, api_threads)):
        for t in range(n):
            mine = group[t::n]
            jobs.append((kind, [(p, d) for d in days for p in mine]))
    return jobs


def part2():
    part = "crash"
    t_start = time.monotonic()
    db = WORK / "crash.db"
    t0 = datetime.date(2026, 6, 1)
    plan_start = t0 - datetime.timedelta(days=14)
    people = seed_db(db, CRASH_PATIENTS, t0)
    n_api = CRASH_API_PATIENTS
    make_tokens(db, people[:n_api])
    rng = random.Random(SEED + 2)
    acked_all = set()
    cycles = []
    statuses_all = collections.Counter()
    for cycle in range(CYCLES):
        today = t0 + datetime.timedelta(days=15 * cycle)
        srv = Server(f"crash-{cycle}", db, today)
        try:
            srv.wait_ready()
            stop = threading.Event()
            dead = threading.Event()
            lock = threading.Lock()
            acked = set()
            stat = collections.Counter()
            bad = []

            def record(kind, person, day, status, ok):
                with lock:
                    stat[status] += 1
                    if ok:
                        acked.add((person["user_id"], day))
                    if isinstance(status, int) and status >= 500:
                        bad.append(f"{kind} check-in {day}: {status}")
                    if isinstance(status, str):
                        bad.append(f"{kind} check-in {day}: {status} before the kill")

            jobs = split_work(people, n_api, today, plan_start, web_threads=4, api_threads=2)
            killed_at = [None]
            threads = [threading.Thread(target=checkin_writer,
                                        args=(srv.port, k, pairs, stop, record, dead, killed_at),
                                        daemon=True) for k, pairs in jobs]
            for t in threads:
                t.start()
            delay = rng.uniform(0.5, 2.0)
            time.sleep(delay)
            busy = sum(t.is_alive() for t in threads)
            killed_at[0] = time.monotonic()
            srv.kill9()
            dead.set()
            stop.set()
            for t in threads:
                t.join(timeout=60)
            if any(t.is_alive() for t in threads):
                fail(part, f"cycle {cycle}: a client thread did not finish after the kill")
            if busy == 0:
                fail(part, f"cycle {cycle}: every writer had finished before the kill (more patients needed)")
        finally:
            if srv.alive():
                srv.kill9()
        ok, detail = db_checks(db)
        present = checkin_pairs(db)
        lost = acked - present
        acked_all |= acked
        lost_all = acked_all - present
        for b in bad[:5]:
            fail(part, f"cycle {cycle}: {b}")
        if not ok:
            fail(part, f"cycle {cycle}: {detail}")
        if lost:
            fail(part, f"cycle {cycle}: {len(lost)} acknowledged check-ins missing, e.g. {sorted(lost)[:3]}")
        if lost_all - lost:
            fail(part, f"cycle {cycle}: {len(lost_all - lost)} check-ins acknowledged in earlier cycles missing")
        statuses_all.update(stat)
        cycles.append({"cycle": cycle, "today": day_str(today), "kill_after": delay, "acked": len(acked),
                       "busy": busy,
                       "lost": len(lost), "integrity": ok, "statuses": dict(stat)})
        log(f"  cycle {cycle}: today {today}, kill -9 after {delay:.2f} s with {busy}/{len(threads)} writers busy, "
            f"acknowledged {len(acked)}, "
            f"lost {len(lost)}, checks {'ok' if ok else detail}, statuses {dict(stat)}")
    final = checkin_pairs(db)
    lost_total = len(acked_all - final)
    if not acked_all:
        fail(part, "no check-in was acknowledged in any cycle: the load did not run")
    RESULTS["crash"] = {"cycles": len(cycles), "acked": len(acked_all), "lost": lost_total,
                        "rows": len(final), "integrity_ok": sum(c["integrity"] for c in cycles),
                        "statuses": statuses_all, "seconds": time.monotonic() - t_start,
                        "per_cycle": cycles}
    log(f"[2] crash consistency: {len(cycles)} cycles, {len(acked_all)} acknowledged writes, {lost_total} lost, "
        f"integrity/foreign keys ok in {sum(c['integrity'] for c in cycles)}/{len(cycles)}")
    return db, people, n_api, t0 + datetime.timedelta(days=15 * CYCLES), plan_start


# --- part 3: live backup ------------------------------------------------------------


def part3(prev):
    part = "backup"
    t_start = time.monotonic()
    if prev is None:
        db = WORK / "backup.db"
        t0 = datetime.date(2026, 6, 1)
        plan_start = t0 - datetime.timedelta(days=14)
        people = seed_db(db, CRASH_PATIENTS, t0)
        n_api = CRASH_API_PATIENTS
        make_tokens(db, people[:n_api])
        today = t0
    else:
        db, people, n_api, today, plan_start = prev
    srv = Server("backup", db, today)
    backups = []
    try:
        srv.wait_ready()
        stop = threading.Event()
        dead = threading.Event()
        lock = threading.Lock()
        writes = collections.Counter()

        def record(kind, person, day, status, ok):
            with lock:
                writes[(kind, status)] += 1
                if isinstance(status, str) or status >= 500:
                    fail(part, f"{kind} check-in {day} while the server was up: {status}")

        # Paced so the writers are still writing during every backup.
        def paced(kind, pairs):
            for pair in pairs:
                if stop.is_set():
                    break
                checkin_writer(srv.port, kind, [pair], stop, record, dead)
                time.sleep(0.01)

        def signups():
            n = 0
            while not stop.is_set():
                src = f"127.9.{n // 250 % 250}.{1 + n % 250}"  # a new address each (20 sign-ups/address/hour)
                try:
                    csrf = anon_csrf(srv.port, src)
                except RuntimeError:
                    break
                body = urllib.parse.urlencode({"csrf": csrf, "display_name": f"Backup Person {n}",
                                               "email": f"backup-{n}@reliability.invalid",
                                               "password": "backup-password-123"})
                r = request(srv.port, "POST", "/signup", body=body, source=src, headers={
                    "Content-Type": FORM, "Cookie": f"kp_csrf={csrf}", "Origin": f"http://127.0.0.1:{srv.port}"})
                with lock:
                    writes[("signup", r.status)] += 1
                if r.error is not None or r.status >= 500:
                    fail(part, f"sign-up: {r.status} {r.error or ''}")
                n += 1
                time.sleep(0.05)

        jobs = split_work(people, n_api, today, plan_start, web_threads=1, api_threads=1)
        threads = [threading.Thread(target=paced, args=job, daemon=True) for job in jobs]
        threads.append(threading.Thread(target=signups, daemon=True))
        for t in threads:
            t.start()
        time.sleep(0.5)
        for i in range(BACKUPS):
            out = WORK / f"backup-{i}.jsonl"
            s0, u0 = checkin_pairs(db), user_ids(db)
            tb = time.monotonic()
            try:
                run_cli("backup", "--database", f"sqlite://{db}", "--out", str(out), timeout=300)
                backup_ok = True
            except Exception as e:  # noqa: BLE001
                backup_ok = False
                fail(part, f"backup {i}: {e}")
            secs = time.monotonic() - tb
            s1, u1 = checkin_pairs(db), user_ids(db)
            entry = {"i": i, "backup_ok": backup_ok, "seconds": secs, "written_during": len(s1 - s0) + len(u1 - u0),
                     "restore_ok": False, "checks_ok": False, "snapshot_ok": False}
            backups.append(entry)
            if not backup_ok:
                continue
            try:
                trailer = json.loads(out.read_text().splitlines()[-1])
                entry["rows"] = trailer.get("rows")
            except Exception:  # noqa: BLE001
                entry["rows"] = None
            target = WORK / f"restored-{i}.db"
            try:
                run_cli("restore", "--database", f"sqlite://{target}", "--in", str(out), timeout=300)
                entry["restore_ok"] = True
            except Exception as e:  # noqa: BLE001
                fail(part, f"restore of backup {i}: {e}")
                continue
            ok, detail = db_checks(target)
            entry["checks_ok"] = ok
            if not ok:
                fail(part, f"restored backup {i}: {detail}")
            r, ru = checkin_pairs(target), user_ids(target)
            entry["checkins"] = len(r)
            entry["users"] = len(ru)
            snap = s0 <= r <= s1 and u0 <= ru <= u1
            entry["snapshot_ok"] = snap
            if not snap:
                fail(part, f"backup {i} is not a snapshot between start and end: check-ins "
                           f"{len(s0)} <= {len(r)} <= {len(s1)} (missing from start {len(s0 - r)}, "
                           f"not in end {len(r - s1)}); users {len(u0)} <= {len(ru)} <= {len(u1)} "
                           f"(missing {len(u0 - ru)}, extra {len(ru - u1)})")
            log(f"  backup {i}: {secs:.2f} s, {entry['rows']} rows, {entry['written_during']} rows written "
                f"meanwhile, restore {'ok' if entry['restore_ok'] else 'FAILED'}, checks {'ok' if ok else detail}, "
                f"check-ins {len(s0)} <= {len(r)} <= {len(s1)}, users {len(u0)} <= {len(ru)} <= {len(u1)}")
        stop.set()
        for t in threads:
            t.join(timeout=60)
        if not srv.alive():
            fail(part, f"the server died: {srv.log_tail()}")
    finally:
        srv.stop()
    overlapped = sum(1 for b in backups if b["written_during"] > 0)
    if backups and overlapped == 0:
        fail(part, "no backup overlapped with a write: the test did not exercise a live database")
    RESULTS["backup"] = {"backups": len(backups), "backup_ok": sum(b["backup_ok"] for b in backups),
                         "restore_ok": sum(b["restore_ok"] for b in backups),
                         "checks_ok": sum(b["checks_ok"] for b in backups),
                         "snapshot_ok": sum(b["snapshot_ok"] for b in backups),
                         "overlapped": overlapped, "writes": writes, "per_backup": backups,
                         "seconds": time.monotonic() - t_start}
    log(f"[3] live backup: {len(backups)} backups, {RESULTS['backup']['restore_ok']} restored, "
        f"{RESULTS['backup']['checks_ok']} passed integrity/foreign keys, {RESULTS['backup']['snapshot_ok']} "
        f"consistent snapshots, {overlapped} taken while rows were being written")


# --- part 4: descriptors --------------------------------------------------------------


def part4():
    part = "descriptors"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1024:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
    db = WORK / "fd.db"
    srv = Server("fd", db, datetime.date(2026, 12, 5), nofile=256)
    socks = []
    try:
        srv.wait_ready()
        limit = None
        with open(f"/proc/{srv.proc.pid}/limits") as f:
            for line in f:
                if line.startswith("Max open files"):
                    limit = int(line.split()[3])
        if limit != 256:
            fail(part, f"the server's soft descriptor limit is {limit}, not 256")
        t_open = time.monotonic()
        connect_failed = 0
        for i in range(300):
            s = socket.socket()
            s.settimeout(10)
            try:
                s.connect(("127.0.0.1", srv.port))
                socks.append(s)
            except OSError:
                connect_failed += 1
                s.close()
        for i in range(5):
            s = socket.socket()
            s.settimeout(10)
            try:
                s.connect(("127.0.0.1", srv.port))
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ")
                socks.append(s)
            except OSError:
                connect_failed += 1
                s.close()
        opened = time.monotonic() - t_open
        t0 = time.monotonic()
        r = request(srv.port, "GET", "/healthz", timeout=40)
        waited = time.monotonic() - t0
        if r.status != 200:
            fail(part, f"/healthz with {len(socks)} idle connections open: {r.status} {r.error} after {waited:.1f} s")
        time.sleep(0.2)
        text = srv.log_text() + srv.stdout_text()
        m = re.search(r"connection cap reached: (\d+) connections", text)
        cap_line = re.search(r"connection cap\b.*?max_connections\s*=\s*(\d+)", text)
        if not m:
            fail(part, "the log has no 'connection cap reached' line")
        accept_failed = len(re.findall(r"accept failed", text))
        held = len(socks)
        for s in socks:
            s.close()
        socks = []
        r2 = request(srv.port, "GET", "/healthz", timeout=40)
        if r2.status != 200:
            fail(part, f"/healthz after the idle connections closed: {r2.status} {r2.error}")
        if not srv.alive():
            fail(part, f"the server died: {srv.log_tail()}")
        cap = int(m.group(1)) if m else (int(cap_line.group(1)) if cap_line else None)
        RESULTS["descriptors"] = {"limit": limit, "held": held, "cap": cap, "idle": 300, "half": 5, "connect_failed": connect_failed,
                                  "healthz_status": r.status, "healthz_seconds": waited, "open_seconds": opened,
                                  "cap_logged": bool(m), "accept_failed": accept_failed}
        log(f"[4] descriptors: soft limit {limit}, cap {cap}, {held} connections held ({connect_failed} failed to connect), "
            f"/healthz {r.status} after {waited:.1f} s, 'connection cap reached' logged={bool(m)}, "
            f"'accept failed' lines {accept_failed}")
    finally:
        for s in socks:
            s.close()
        srv.stop()


# --- summary ------------------------------------------------------------------------


def fmt_counts(counter):
    return ", ".join(f"{k}: {n}" for k, n in sorted(counter.items(), key=lambda kv: str(kv[0])))


def summary(total, seconds):
    out = ["", "## kneepath reliability figures", ""]
    out.append(f"{datetime.date.today()}, {os.cpu_count()} cores, seed {SEED}, whole run {total:.0f} s "
               f"(" + ", ".join(f"part {n}: {t:.0f} s" for n, t in seconds.items()) + ").")
    out += ["", "| Part | Figure | Value |", "|---|---|---|"]
    h = RESULTS.get("hostile")
    if h:
        out.append(f"| 1 hostile input | requests sent, of the {h['product']} in the product | {h['requests']}: "
                   f"{h['concurrent']} on {CLIENT_THREADS} threads, {h['sequential']} session-changing ones one at a time |")
        out.append(f"| 1 hostile input | with one of the route's own methods | {h['own_method']} |")
        out.append(f"| 1 hostile input | 5xx other than the PDF route's 503 | {h['5xx'] - h['pdf_503']} |")
        out.append(f"| 1 hostile input | incomplete responses (reset, timeout) | {h['unexpected'] - (h['5xx'] - h['pdf_503'])} |")
        out.append(f"| 1 hostile input | 503 from `/report.pdf` (no browser) | {h['pdf_503']} |")
        for n, ok, d in h["slow"]:
            out.append(f"| 1 slow reader | {n} | {'complete' if ok else 'CUT: ' + d} |")
        out.append(f"| 1 hostile input | server up and /healthz 200 afterwards | "
                   f"{'yes' if not any(p == 'hostile' and ('died' in m or 'healthz' in m) for p, m in FAILURES) else 'NO'} |")
        out.append(f"| 1 hostile input | server RSS before → after | {h['rss_before_mb']:.0f} → {h['rss_after_mb']:.0f} MB |")
        out.append(f"| 1 hostile input | sessions ended (and replaced) by | {fmt_counts(h['ended_by']) or 'none'} |")
        out.append(f"| 1 hostile input | panics / ERROR lines in the server log | {h['panics']} / {h['error_lines']} |")
    c = RESULTS.get("crash")
    if c:
        out.append(f"| 2 crash consistency | kill -9 cycles | {c['cycles']} |")
        out.append(f"| 2 crash consistency | acknowledged check-ins (303 web / 201 API) | {c['acked']} |")
        out.append(f"| 2 crash consistency | acknowledged but missing after the kill | {c['lost']} |")
        out.append(f"| 2 crash consistency | integrity_check + foreign_key_check clean | {c['integrity_ok']} of {c['cycles']} |")
        out.append(f"| 2 crash consistency | check-in rows at the end | {c['rows']} |")
    b = RESULTS.get("backup")
    if b:
        rows = ", ".join(str(x.get("rows")) for x in b["per_backup"])
        during = ", ".join(str(x["written_during"]) for x in b["per_backup"])
        out.append(f"| 3 live backup | backups taken / restored / clean checks / one snapshot | "
                   f"{b['backup_ok']} / {b['restore_ok']} / {b['checks_ok']} / {b['snapshot_ok']} of {b['backups']} |")
        out.append(f"| 3 live backup | rows per backup | {rows} |")
        out.append(f"| 3 live backup | rows written while each backup ran | {during} |")
    d = RESULTS.get("descriptors")
    if d:
        out.append(f"| 4 descriptors | connection cap at soft limit {d['limit']} | {d['cap']} |")
        out.append(f"| 4 descriptors | /healthz with {d['held']} connections held (idle + half-sent) | "
                   f"{d['healthz_status']} after {d['healthz_seconds']:.1f} s (the connections took "
                   f"{d['open_seconds']:.1f} s to open) |")
        out.append(f"| 4 descriptors | 'connection cap reached' logged / 'accept failed' lines | "
                   f"{'yes' if d['cap_logged'] else 'no'} / {d['accept_failed']} |")
    if h:
        out += ["", "Part 1 statuses:", "", "| Status | Count |", "|---|---|"]
        out += [f"| {k} | {n} |" for k, n in sorted(h["statuses"].items(), key=lambda kv: str(kv[0]))]
    if c:
        out += ["", "Part 2 statuses (all cycles): " + fmt_counts(c["statuses"])]
    out += ["", "Result: " + ("PASS" if not FAILURES else f"FAIL ({len(FAILURES)} failed checks)")]
    print("\n".join(out), flush=True)


def main():
    global BIN, WORK
    if len(sys.argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    BIN = str(Path(sys.argv[1]).resolve())
    if not os.access(BIN, os.X_OK):
        print(f"not an executable: {BIN}", file=sys.stderr)
        return 2
    WORK = Path(tempfile.mkdtemp(prefix="kneepath-reliability-"))

    def on_term(signum, _frame):
        raise SystemExit(128 + signum)  # so that the finally blocks kill the servers

    signal.signal(signal.SIGTERM, on_term)
    start = time.monotonic()
    seconds = collections.OrderedDict()
    prev = None
    try:
        for n, name in ((1, "hostile"), (2, "crash"), (3, "backup"), (4, "descriptors")):
            if n not in PARTS:
                continue
            log(f"--- part {n}: {name}")
            t = time.monotonic()
            try:
                if n == 1:
                    part1()
                elif n == 2:
                    prev = part2()
                elif n == 3:
                    part3(prev)
                else:
                    part4()
            except Exception as e:  # noqa: BLE001
                fail(name, f"stopped by an error: {type(e).__name__}: {e}")
            finally:
                kill_all_servers()
            seconds[n] = time.monotonic() - t
            log(f"    ({seconds[n]:.1f} s)")
    finally:
        kill_all_servers()
        if KEEP or FAILURES:
            log(f"logs and databases kept in {WORK}" if KEEP else f"(temporary folder {WORK} removed)")
        if not KEEP:
            shutil.rmtree(WORK, ignore_errors=True)
    summary(time.monotonic() - start, seconds)
    if FAILURES:
        print("\nFailed checks:")
        for part, msg in FAILURES:
            print(f"- [{part}] {msg}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
