#!/usr/bin/python3
"""The client of stress_test/imap_fetch_ab.sh, one step per run, over implicit TLS (the
throw-away certificate is not checked).
  imap_fetch_ab.py PORT USER PASSWORD fill FOLDER COUNT
    creates FOLDER (unless INBOX), then APPENDs COUNT messages (imap_bench.py's shape) to
    it over 4 connections.
  imap_fetch_ab.py PORT USER PASSWORD fetch FOLDER
    times SELECT + UID FETCH 1:* (FLAGS ENVELOPE) and prints "seconds messages sha256",
    the digest being of the whole answer as imaplib hands it over."""
import hashlib
import imaplib
import ssl
import sys
import threading
import time

port, user, password, step, folder = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], \
    sys.argv[5]


def connect():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    m = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=context, timeout=600)
    m.login(user, password)
    return m


def message(i):
    return (f"From: Sender {i % 50} <sender{i % 50}@example.com>\r\nTo: {user}@example.com\r\n"
            f"Subject: benchmark message {i}\r\nMessage-ID: <bench-{i}@example.com>\r\n"
            f"Date: Sun, 06 Dec 2026 08:00:00 +0000\r\n\r\n"
            + ("line of text about topic%d and more words\r\n" % (i % 97)) * 40).encode()


if step == "fill":
    count, connections = int(sys.argv[6]), 4
    failures = []
    if folder != "INBOX":
        m = connect()
        typ, _ = m.create(folder)
        assert typ == "OK", typ
        m.logout()

    def fill(first):
        m = connect()
        for i in range(first, count, connections):
            typ, _ = m.append(folder, None, None, message(i))
            if typ != "OK":
                failures.append(typ)
        m.logout()

    threads = [threading.Thread(target=fill, args=(k,)) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures[:3]
elif step == "fetch":
    m = connect()
    start = time.monotonic()
    typ, _ = m.select(folder)
    assert typ == "OK", typ
    typ, data = m.uid("FETCH", "1:*", "(FLAGS ENVELOPE)")
    seconds = time.monotonic() - start
    assert typ == "OK", typ
    m.logout()
    print("%.4f %d %s" % (seconds, len(data), hashlib.sha256(repr(data).encode()).hexdigest()))
else:
    sys.exit("unknown step " + step)
