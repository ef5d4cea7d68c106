#!/usr/bin/python3
"""Holds many idle connections to the imap binary and reports what they cost it.
Usage: imap_crowd.py MODE PORT PID USER PASSWORD N [SMTP_PORT]

MODE "greeting": plain connections that read the greeting and say nothing more.
MODE "idle": connections with TLS from the first byte (PORT is the implicit-TLS port) that
log in, SELECT INBOX and enter IDLE; then a message goes in through the smtp binary and
the last connection's wait for its "* n EXISTS" is timed.

The server's memory (/proc/PID/smaps_rollup) is read with a warm-up batch open, and again
with N more: the difference over N is what one more connection costs. Prints "key value"
lines for the C++ test."""
import concurrent.futures
import resource
import smtplib
import socket
import ssl
import sys
import time

mode, port, pid, user, password, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    sys.argv[4], sys.argv[5], int(sys.argv[6])
smtp_port = int(sys.argv[7]) if len(sys.argv) > 7 else 0
WARM_UP = 50
DEADLINE = time.monotonic() + 110  # every wait below ends by then (Sh allows 120 s)


def out(key, value):
    print(key, value, flush=True)


# One context for all: each one made loads the system's CA list, though none is used.
TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE  # the server's self-signed certificate


class Connection:
    def __init__(self):
        raw = socket.create_connection(("127.0.0.1", port), timeout=60)
        if mode == "idle":
            raw = TLS.wrap_socket(raw)
        self.sock = raw
        self.buffer = b""
        self.expect(b"* OK")
        if mode == "idle":
            self.login()
            self.command(b"b SELECT INBOX", b"b OK")
            self.command(b"c IDLE", b"+ ")

    def login(self):
        # Logins of one account take turns on its failure counter: concurrent ones may be
        # told to retry.
        for attempt in range(100):
            self.sock.sendall(b"a LOGIN %s %s\r\n" % (user.encode(), password.encode()))
            line = self.expect(b"a ", b"")
            if line.startswith(b"a OK"):
                return
            if b"[LIMIT]" not in line:
                break
            time.sleep(0.01 * attempt)
        raise ConnectionError("login failed: %r" % line)

    def line(self):
        while b"\r\n" not in self.buffer:
            if time.monotonic() > DEADLINE:
                raise TimeoutError("no line before the deadline")
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed by the server")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def expect(self, prefix, containing=b""):
        """Reads lines until one starts with `prefix` (and holds `containing`); returns it.
        A tagged reply of ours that does not match ends the run."""
        for _ in range(1000):
            line = self.line()
            if line.startswith(prefix) and containing in line:
                return line
            if line[:2] in (b"a ", b"b ", b"c "):
                raise ConnectionError("unexpected reply: %r" % line)
        raise ConnectionError("no %r" % prefix)

    def command(self, text, done):
        self.sock.sendall(text + b"\r\n")
        return self.expect(done)


def memory():
    """Rss, Pss and Private_Dirty of the server, KiB."""
    fields = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss", "Private_Dirty"):
                fields[key] = int(rest.split()[0])
    return fields


def open_many(count):
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(lambda _: Connection(), range(count)))


soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

warm = open_many(WARM_UP)
before = memory()
started = time.monotonic()
crowd = open_many(n)
out("open_s", round(time.monotonic() - started, 1))
after = memory()
for key in ("Rss", "Pss", "Private_Dirty"):
    out("before_%s_kib" % key, before[key])
    out("after_%s_kib" % key, after[key])
    out("per_connection_%s_bytes" % key, (after[key] - before[key]) * 1024 // n)

if mode == "idle":
    probe = crowd[-1]
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=20) as s:
        s.sendmail("carol@example.com", ["%s@penncloud.local" % user],
                   "From: carol@example.com\r\nTo: %s@penncloud.local\r\n"
                   "Subject: to the crowd\r\n\r\nhello all\r\n" % user)
    delivered = time.monotonic()
    pushed = probe.expect(b"* ", b"EXISTS")
    out("push_ms", int((time.monotonic() - delivered) * 1000))
    out("pushed", pushed.decode())
    probe.sock.sendall(b"DONE\r\n")
    out("done_reply", probe.expect(b"c ").decode())

for c in warm + crowd:
    c.sock.close()
out("done", "ok")
