#!/usr/bin/python3
"""SMTP load over STARTTLS (smtp-source has no TLS). Usage:
  smtp_tls_load.py PORT FROM TO MESSAGES SESSIONS SIZE [PER_CONNECTION]
SESSIONS threads share MESSAGES messages of SIZE bytes; each connection greets, EHLO,
STARTTLS (a full handshake, no resumption), EHLO, then sends PER_CONNECTION messages (default
1, like smtp-source without -d) and QUITs. Prints "sent N failed F seconds S rate R" and the
client's own CPU seconds, since it shares the machine with the server under test."""
import os
import smtplib
import ssl
import sys
import threading
import time

port, sender, rcpt = int(sys.argv[1]), sys.argv[2], sys.argv[3]
messages, sessions, size = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
per_connection = int(sys.argv[7]) if len(sys.argv) > 7 else 1

ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE  # both servers use self-signed certificates
body = ("From: %s\r\nTo: %s\r\nSubject: tls bench\r\n\r\n" % (sender, rcpt)).encode()
line = b"x" * 76 + b"\r\n"
body += line * max(0, (size - len(body)) // len(line))

lock = threading.Lock()
remaining = [messages]
sent, failed = [0], [0]


def take(n):
    with lock:
        k = min(n, remaining[0])
        remaining[0] -= k
        return k


def worker():
    while True:
        k = take(per_connection)
        if k == 0:
            return
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
                s.ehlo("bench.example")
                s.starttls(context=ctx)
                s.ehlo("bench.example")
                for _ in range(k):
                    s.sendmail(sender, [rcpt], body)
                    with lock:
                        sent[0] += 1
        except Exception as e:  # noqa: BLE001 - counted and reported
            with lock:
                failed[0] += k
            print("error", repr(e), file=sys.stderr)


start = time.monotonic()
cpu = time.process_time()
threads = [threading.Thread(target=worker) for _ in range(sessions)]
for t in threads:
    t.start()
for t in threads:
    t.join()
seconds = time.monotonic() - start
print("sent %d failed %d seconds %.2f rate %.0f client_cpu_s %.2f" %
      (sent[0], failed[0], seconds, sent[0] / seconds, time.process_time() - cpu))
