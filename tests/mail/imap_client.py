#!/usr/bin/python3
"""Drives Python's imaplib against our IMAP server for the process tests.
Usage: imap_client.py PORT USER PASSWORD SCENARIO [ARGS...]; prints one result line per
step ("key value"), which the C++ test checks."""
import email
import imaplib
import re
import smtplib
import ssl
import sys
import time

port, user, password, scenario = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
args = sys.argv[5:]


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the server's self-signed certificate
    return ctx


def connect():
    # Logins are refused before TLS: STARTTLS first, as Thunderbird does on 143-style ports.
    m = imaplib.IMAP4("127.0.0.1", port, timeout=20)
    m.starttls(tls_context())
    m.login(user, password)
    return m


def out(key, value):
    print(key, value, flush=True)


def untagged(m, name):
    """The untagged responses of `name` imaplib collected, and forgets them."""
    return m.response(name)[1]


if scenario == "plain_login":
    m = imaplib.IMAP4("127.0.0.1", port, timeout=20)
    out("caps", " ".join(m.capabilities))
    try:
        m.login(user, password)
        out("login", "accepted")
    except imaplib.IMAP4.error as e:
        out("login", "refused " + str(e))

elif scenario == "implicit_tls":
    m = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=tls_context(), timeout=20)
    m.login(user, password)
    typ, data = m.select("INBOX")
    out("select", typ + " " + data[0].decode())
    m.logout()

elif scenario == "basics":
    m = connect()
    out("caps", " ".join(m.capabilities))
    typ, folders = m.list()
    for f in folders:
        out("list", f.decode())
    typ, data = m.select("INBOX")
    out("exists", data[0].decode())
    out("uidvalidity", untagged(m, "UIDVALIDITY")[0].decode())
    typ, data = m.fetch("1", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    out("subject", data[0][1].decode().strip())
    typ, data = m.fetch("1", "(FLAGS)")
    out("flags_before", data[0].decode())
    typ, data = m.store("1", "+FLAGS", "(\\Flagged)")
    out("store", data[0].decode())
    typ, data = m.fetch("1", "(RFC822)")
    msg = email.message_from_bytes(data[0][1])
    out("body_subject", msg["Subject"])
    typ, data = m.fetch("1", "(FLAGS)")
    out("flags_after", data[0].decode())
    typ, data = m.uid("FETCH", "1:*", "(UID FLAGS)")
    out("uid_fetch", " ".join(d.decode() for d in data))
    typ, data = m.uid("SEARCH", None, "UNSEEN")
    out("uid_search_unseen", data[0].decode())
    typ, data = m.search(None, "SUBJECT", '"second"')
    out("search_subject", data[0].decode())
    typ, data = m.create("Work/Projects")
    out("create", typ)
    typ, data = m.copy("1", "Work/Projects")
    out("copy", typ + " " + data[0].decode())
    typ, data = m._simple_command("MOVE", "2", "Trash")
    out("move", typ + " " + untagged(m, "COPYUID")[-1].decode())  # the last: MOVE's
    out("move_expunge", " ".join(d.decode() for d in untagged(m, "EXPUNGE")))
    typ, data = m.status("Work/Projects", "(MESSAGES UIDNEXT)")
    out("status", data[0].decode())
    sent = (b"From: alice@penncloud.local\r\nTo: bob@example.com\r\n"
            b"Subject: thunderbird sent copy\r\n\r\nSent from a desktop client.\r\n")
    typ, data = m.append("Sent", "(\\Seen)", imaplib.Time2Internaldate(time.time()), sent)
    out("append", typ + " " + data[0].decode())
    m.select("INBOX")
    m.store("1", "+FLAGS", "(\\Deleted)")
    typ, data = m.expunge()
    out("expunge", " ".join(d.decode() for d in data if d))
    typ, data = m.select("INBOX")
    out("exists_after", data[0].decode())
    m.close()
    m.logout()
    out("done", "ok")

elif scenario == "two_sessions":
    a, b = connect(), connect()
    a.select("INBOX")
    b.select("INBOX")
    a.store("1", "+FLAGS", "(\\Flagged $Important)")
    b.noop()
    out("b_sees_flags", " ".join(d.decode() for d in untagged(b, "FETCH")))
    a.store("2", "+FLAGS", "(\\Deleted)")
    a.expunge()
    b.noop()
    out("b_sees_expunge", " ".join(d.decode() for d in untagged(b, "EXPUNGE")))
    typ, data = b.select("INBOX")
    out("b_exists", data[0].decode())
    a.logout()
    b.logout()

elif scenario == "idle_during_smtp":
    # IDLE on the Inbox, then a message goes in through the smtp binary (another process);
    # the untagged EXISTS must arrive within 1 s of the SMTP transaction's end.
    smtp_port = int(args[0])
    m = connect()
    typ, data = m.select("INBOX")
    before = int(data[0])
    tag = m._new_tag().decode()
    m.send(("%s IDLE\r\n" % tag).encode())
    out("idle_reply", m.readline().decode().strip())
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=20) as s:
        s.sendmail("carol@example.com", ["%s@penncloud.local" % user],
                   "From: carol@example.com\r\nTo: %s@penncloud.local\r\n"
                   "Subject: pushed\r\n\r\nhello idle\r\n" % user)
    delivered = time.monotonic()
    m.sock.settimeout(5)
    line = m.readline().decode().strip()
    out("push_ms", int((time.monotonic() - delivered) * 1000))
    out("pushed", line)
    m.send(b"DONE\r\n")
    out("done_reply", m.readline().decode().strip())
    out("before", before)
    m.logout()

elif scenario == "idle_quietly":
    # IDLE on the Inbox and say nothing for args[0] seconds, while the test counts what the
    # server's wakes cost the store.
    m = connect()
    m.select("INBOX")
    tag = m._new_tag().decode()
    m.send(("%s IDLE\r\n" % tag).encode())
    out("idle_reply", m.readline().decode().strip())
    time.sleep(float(args[0]))
    m.send(b"DONE\r\n")
    out("done_reply", m.readline().decode().strip())
    m.logout()

elif scenario == "sent_once":
    # Thunderbird's way: submit over SMTP (STARTTLS, AUTH), then APPEND the same message
    # to Sent. The SMTP server filed a Sent copy already, so the APPEND stores nothing.
    smtp_port = int(args[0])
    message = ("From: %s@penncloud.local\r\nTo: bob@penncloud.local\r\n"
               "Subject: sent once\r\nMessage-ID: <sent-once-1@thunderbird.test>\r\n\r\n"
               "one copy please\r\n" % user)
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=20) as s:
        s.starttls(context=tls_context())
        s.login(user, password)
        s.sendmail("%s@penncloud.local" % user, ["bob@penncloud.local"], message)
    m = connect()
    typ, data = m.append("Sent", "(\\Seen)", None, message.encode())
    out("append", typ + " " + data[0].decode())
    typ, data = m.select("Sent")
    out("sent_exists", int(data[0]))
    # A message the SMTP server never saw is stored as usual.
    typ, data = m.append("Sent", "(\\Seen)", None,
                         message.replace("sent-once-1", "sent-once-2").encode())
    out("append_new", typ)
    typ, data = m.select("Sent")
    out("sent_exists_after", int(data[0]))
    m.logout()

elif scenario == "status_trash":
    m = connect()
    typ, data = m.status("Trash", "(MESSAGES)")
    out("trash", data[0].decode().split(" ", 1)[1])
    m.logout()

elif scenario == "bad_input":
    m = connect()
    m.select("INBOX")
    for command in [b"x1 FETCH 1:* (FLAGS", b"x2 FROB", b"x3 SEARCH " + b"(" * 50 + b"ALL" + b")" * 50,
                    b"x4 APPEND INBOX {999999999}", b"x5 STORE 1 +FLAGS (\\Bogus)"]:
        m.send(command + b"\r\n")
        out("reply", m.readline().decode().strip())
    m.send(b"x6 NOOP\r\n")
    out("still_alive", m.readline().decode().strip())
    m.send(b"x7 APPEND INBOX {999999999+}\r\n")
    out("nonsync", m.readline().decode().strip())
    try:
        rest = m.readline()
        out("after_bye", "closed" if rest == b"" else rest.decode().strip())
    except Exception:
        out("after_bye", "closed")

elif scenario == "literal_ack":
    # imaplib's APPEND by hand, so the client can watch its own send queue: the literal
    # goes out as one write and the CRLF ending the command as another, and with Nagle's
    # algorithm on (as imaplib leaves it) that CRLF waits until the literal is
    # acknowledged. How long the literal stays unacknowledged is timed from the client.
    import fcntl
    import termios
    m = connect()
    literal = b"Subject: ack\r\n\r\n" + b"body line\r\n" * 150
    waits = []
    for i in range(int(args[0])):
        m.send(b"L%d APPEND INBOX {%d}\r\n" % (i, len(literal)))
        assert m.readline().startswith(b"+")
        m.send(literal)
        start = time.monotonic()
        while True:
            unacked = fcntl.ioctl(m.sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
            if int.from_bytes(unacked, sys.byteorder) == 0 or time.monotonic() - start > 1:
                break
        waits.append(time.monotonic() - start)
        m.send(b"\r\n")
        assert b"OK" in m.readline()
    waits.sort()
    out("median_ack_ms", "%.0f" % (waits[len(waits) // 2] * 1000))
    # The other way: a reply longer than one TLS record (16 KiB) must not wait for the
    # client's ACK of the first record before the last goes out.
    m.select("INBOX")
    fetches = []
    for _ in range(15):
        start = time.monotonic()
        typ, data = m.fetch("1:%s" % args[0], "(BODY.PEEK[])")
        fetches.append(time.monotonic() - start)
        assert typ == "OK" and sum(len(d[1]) for d in data if isinstance(d, tuple)) > 16384
    fetches.sort()
    out("median_fetch_ms", "%.0f" % (fetches[len(fetches) // 2] * 1000))

else:
    sys.exit("unknown scenario " + scenario)
