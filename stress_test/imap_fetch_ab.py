#!/usr/bin/python3
"""The client of stress_test/imap_fetch_ab.sh, one step per run, over implicit TLS (the
throw-away certificate is not checked).
  imap_fetch_ab.py PORT USER PASSWORD fill FOLDER COUNT [mixed]
    creates FOLDER (unless INBOX), then APPENDs COUNT messages (imap_bench.py's shape) to
    it over 4 connections; with `mixed`, two of every three are multipart instead (text
    and HTML alternatives; or text, a base64 attachment and an attached message).
  imap_fetch_ab.py PORT USER PASSWORD fetch FOLDER [SET ITEMS]
    times SELECT + UID FETCH 1:* (FLAGS ENVELOPE), or with SET and ITEMS the FETCH SET ITEMS
    alone after an untimed SELECT (as imap_bench.py times its FETCH BODY[]), and prints
    "seconds responses sha256 cpu_ms", the digest being of the whole answer as imaplib hands
    it over, cpu_ms the server's CPU time over what was timed (with SERVER_PID set)."""
import hashlib
import imaplib
import os
import ssl
import sys
import threading
import time

port, user, password, step, folder = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], \
    sys.argv[5]


def server_cpu_ms():
    """The server's CPU time so far (user + system), when SERVER_PID names it; else 0. Read
    around what is timed, so the login's password hash is not counted."""
    pid = os.environ.get("SERVER_PID")
    if not pid:
        return 0
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 // os.sysconf("SC_CLK_TCK")


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


def multipart(i):
    header = (f"From: Sender {i % 50} <sender{i % 50}@example.com>\r\nTo: {user}@example.com\r\n"
              f"Subject: benchmark message {i}\r\nMIME-Version: 1.0\r\n")
    text = "line of text about topic%d and more words\r\n" % (i % 97)
    if i % 3 == 1:
        return (header + "Content-Type: multipart/alternative; boundary=\"a\"\r\n\r\n"
                "--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text * 10 +
                "--a\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>" + text * 10 +
                "</p>\r\n--a--\r\n").encode()
    return (header + "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n"
            "--m\r\nContent-Type: text/plain\r\n\r\n" + text * 5 +
            f"--m\r\nContent-Type: application/pdf; name=\"r{i}.pdf\"\r\n"
            f"Content-Disposition: attachment; filename=\"r{i}.pdf\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n" + "JVBERi0xLjQKJcOkw7zDtsOfCg==\r\n" * 20 +
            "--m\r\nContent-Type: message/rfc822\r\n\r\nFrom: inner@example.org\r\n"
            f"Subject: inner {i}\r\n\r\n" + text + "--m--\r\n").encode()


if step == "fill":
    count, connections = int(sys.argv[6]), 4
    mixed = sys.argv[7:] == ["mixed"]
    failures = []
    if folder != "INBOX":
        m = connect()
        typ, _ = m.create(folder)
        assert typ == "OK", typ
        m.logout()

    def fill(first):
        m = connect()
        for i in range(first, count, connections):
            source = multipart(i) if mixed and i % 3 else message(i)
            typ, _ = m.append(folder, None, None, source)
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
    cpu = server_cpu_ms()
    typ, _ = m.select(folder)
    assert typ == "OK", typ
    if len(sys.argv) > 6:
        start = time.monotonic()
        cpu = server_cpu_ms()
        typ, data = m.fetch(sys.argv[6], sys.argv[7])
    else:
        typ, data = m.uid("FETCH", "1:*", "(FLAGS ENVELOPE)")
    seconds = time.monotonic() - start
    cpu = server_cpu_ms() - cpu
    assert typ == "OK", typ
    m.logout()
    print("%.4f %d %s %d" % (seconds, len(data), hashlib.sha256(repr(data).encode()).hexdigest(),
                             cpu))
else:
    sys.exit("unknown step " + step)
