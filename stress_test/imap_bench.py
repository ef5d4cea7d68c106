#!/usr/bin/python3
"""The client of stress_test/imap_bench.sh: the same IMAP workloads against one server.
Usage: imap_bench.py NAME PORT USER PASSWORD MESSAGES FETCH APPEND
Connects with implicit TLS (the certificate is a throw-away self-signed one, not
checked), fills INBOX with MESSAGES messages by APPEND, then times each workload and
prints "workload seconds" lines."""
import imaplib
import ssl
import sys
import time

name, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
messages, fetch, append = (int(a) for a in sys.argv[5:8])
fetch = min(fetch, messages)


def message(i):
    return (f"From: Sender {i % 50} <sender{i % 50}@example.com>\r\nTo: {user}@example.com\r\n"
            f"Subject: benchmark message {i}\r\nMessage-ID: <bench-{i}@example.com>\r\n"
            f"Date: Sun, 06 Dec 2026 08:00:00 +0000\r\n\r\n"
            + ("line of text about topic%d and more words\r\n" % (i % 97)) * 40).encode()


def timed(label, work):
    start = time.monotonic()
    result = work()
    print(label, "%.4f" % (time.monotonic() - start), flush=True)
    return result


context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=context, timeout=600)
m.login(user, password)


def fill(first, count):
    for i in range(first, first + count):
        typ, _ = m.append("INBOX", None, None, message(i))
        assert typ == "OK", typ


timed("append_fill_%d" % messages, lambda: fill(0, messages))
timed("append_%d" % append, lambda: fill(messages, append))


def select_fetch():
    m.select("INBOX")
    typ, data = m.uid("FETCH", "1:*", "(FLAGS ENVELOPE)")
    assert typ == "OK" and len(data) >= messages, (typ, len(data))


timed("select_uid_fetch_envelope", select_fetch)


def fetch_bodies():
    typ, data = m.fetch("1:%d" % fetch, "(BODY.PEEK[])")
    assert typ == "OK"
    assert sum(1 for d in data if isinstance(d, tuple)) == fetch


timed("fetch_body_%d" % fetch, fetch_bodies)


def search_text():
    try:
        typ, data = m.search(None, "TEXT", "topic13")
    except imaplib.IMAP4.error as e:  # e.g. PennCloud's scan limit without the index
        print(name, "search_text refused:", e, file=sys.stderr)
        return -1
    return len(data[0].split())


found = timed("search_text", search_text)
expected = sum(1 for i in range(messages + append) if i % 97 == 13)
assert found in (expected, -1), (found, expected)
m.logout()
