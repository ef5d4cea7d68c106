#!/usr/bin/python3
"""The imap binary's connection handling at its edges, for imap_server_test.cc.
Usage: imap_edges.py SCENARIO PORT IMAPS_PORT PID USER PASSWORD; prints "key value" lines.

long_line     a line past the 64 KiB limit is answered BAD [TOOBIG] and the session lives on
big_literal   a 5 MiB APPEND over TLS, then the same bytes back through FETCH BODY[]
caps          per-address and per-port caps (server: --max_connections=3
              --max_connections_per_address=2); a closed connection frees its slot
stop          SIGTERM with one connection after its greeting and one in IDLE: both hear BYE
idle_timeout  a quiet connection is closed (server: --idle_timeout_s=1)"""
import hashlib
import os
import signal
import socket
import ssl
import sys
import time

scenario, port, imaps_port, pid, user, password = sys.argv[1], int(sys.argv[2]), \
    int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
DEADLINE = time.monotonic() + 100  # every wait below ends by then (Sh allows 120 s)
TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE  # the server's self-signed certificate


def out(key, value):
    print(key, value, flush=True)


class Connection:
    def __init__(self, tls=False, source="127.0.0.1"):
        raw = socket.create_connection(("127.0.0.1", imaps_port if tls else port), timeout=30,
                                       source_address=(source, 0))
        self.sock = TLS.wrap_socket(raw) if tls else raw
        self.buffer = b""
        self.greeting = self.line()

    def line(self):
        """The next line, or b"" once the server has closed."""
        while b"\r\n" not in self.buffer:
            if time.monotonic() > DEADLINE:
                raise TimeoutError("no line before the deadline")
            chunk = self.sock.recv(65536)
            if not chunk:
                return b""
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def exactly(self, n):
        while len(self.buffer) < n:
            if time.monotonic() > DEADLINE:
                raise TimeoutError("short read")
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("closed mid-literal")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def command(self, tag, text):
        """Sends `tag text`; returns the untagged lines and the tagged reply."""
        self.sock.sendall(tag + b" " + text + b"\r\n")
        lines = []
        for _ in range(10000):
            line = self.line()
            if line == b"" or line.startswith(tag + b" "):
                return lines, line
            lines.append(line)
        raise ConnectionError("no reply to %r" % tag)

    def login(self):
        _, reply = self.command(b"a", b"LOGIN %s %s" % (user.encode(), password.encode()))
        assert reply.startswith(b"a OK"), reply


if scenario == "long_line":
    c = Connection()
    c.sock.sendall(b"x1 NOOP " + b"a" * 70000)
    c.sock.sendall(b"b" * 10000 + b"\r\n")
    out("too_long", c.line().decode())
    out("after", c.command(b"x2", b"NOOP")[1].decode())

elif scenario == "big_literal":
    c = Connection(tls=True)
    c.login()
    body = (b"From: bob@example.com\r\nTo: alice@penncloud.local\r\nSubject: big\r\n\r\n" +
            b"the same words on every line, so indexing them costs little\r\n" * 90000)
    c.sock.sendall(b"b APPEND INBOX {%d}\r\n" % len(body))
    out("go_ahead", c.line().decode()[:1])
    c.sock.sendall(body + b"\r\n")  # the literal, then the end of the command line
    reply = c.line().decode()
    out("append", reply)
    uid = reply.split("]")[0].split()[-1]
    c.command(b"c", b"SELECT INBOX")
    c.sock.sendall(b"d UID FETCH %s BODY.PEEK[]\r\n" % uid.encode())
    head = c.line()
    size = int(head[head.rindex(b"{") + 1:-1])
    fetched = c.exactly(size)
    out("size", size)
    out("size_equal", size == len(body))
    out("same", hashlib.sha256(fetched).hexdigest() == hashlib.sha256(body).hexdigest())
    for _ in range(10):
        line = c.line()
        if line.startswith(b"d "):
            out("fetch", line.decode())
            break

elif scenario == "caps":
    first = [Connection(), Connection()]
    out("first_two", " ".join(c.greeting.decode()[:4] for c in first))
    out("third_same_address", Connection().greeting.decode())
    other = Connection(source="127.0.0.2")
    out("other_address", other.greeting.decode()[:4])
    out("over_port_cap", Connection(source="127.0.0.3").greeting.decode())
    first[0].sock.close()
    # The server notices the close on its own time: try again until the slot is free.
    for attempt in range(200):
        again = Connection().greeting.decode()
        if again.startswith("* OK"):
            break
        time.sleep(0.05)
    out("after_close", again[:4])

elif scenario == "stop":
    quiet = Connection()
    idling = Connection(tls=True)
    idling.login()
    idling.command(b"b", b"SELECT INBOX")
    idling.sock.sendall(b"c IDLE\r\n")
    out("idle", idling.line().decode()[:1])
    os.kill(pid, signal.SIGTERM)
    out("quiet_bye", quiet.line().decode())
    out("quiet_then", "closed" if quiet.line() == b"" else "open")
    out("idle_bye", idling.line().decode())

elif scenario == "idle_timeout":
    c = Connection()
    started = time.monotonic()
    c.sock.settimeout(30)
    rest = c.line()
    out("closed", "yes" if rest == b"" else rest.decode())
    out("after_s", round(time.monotonic() - started))

else:
    sys.exit("unknown scenario " + scenario)
