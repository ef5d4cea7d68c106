#!/usr/bin/python3
"""Drives Python's poplib against our POP3 server for the process tests.
Usage: pop3_client.py PORT USER PASSWORD SCENARIO; prints one result line per step."""
import poplib
import ssl
import sys

port, user, password, scenario = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the server's self-signed certificate
    return ctx


def connect():
    # Logins are accepted only under TLS: STLS first, as Thunderbird does.
    p = poplib.POP3("127.0.0.1", port, timeout=20)
    p.stls(tls_context())
    p.user(user)
    p.pass_(password)
    return p


if scenario == "inspect":
    p = connect()
    print("stat", p.stat()[0])
    resp, uidls, _ = p.uidl()
    print("uidl", " ".join(u.decode().split(" ")[1] for u in uidls))
    resp, lines, _ = p.top(1, 0)
    print("top_has_subject", any(l.startswith(b"Subject:") for l in lines))
    print("top_body_lines", len(lines) - lines.index(b"") - 1)
    resp, lines, _ = p.retr(1)
    print("retr_last", lines[-1].decode())
    p.quit()
elif scenario == "dele_quit":
    p = connect()
    p.dele(1)
    print("stat_after_dele", p.stat()[0])
    p.quit()
elif scenario == "dele_drop":
    p = connect()
    p.dele(1)
    p.sock.close()  # no QUIT: the deletion must not happen
    print("dropped")
elif scenario == "dele_rset":
    p = connect()
    p.dele(1)
    p.rset()
    print("stat_after_rset", p.stat()[0])
    p.quit()
elif scenario == "stat":
    p = connect()
    print("stat", p.stat()[0])
    p.quit()
elif scenario == "stls":
    p = poplib.POP3("127.0.0.1", port, timeout=20)
    p.stls(tls_context())
    p.user(user)
    p.pass_(password)
    print("stls_stat", p.stat()[0])
    p.quit()
elif scenario == "lock":
    a = connect()
    try:
        connect()
        print("second_login ok")
    except poplib.error_proto as e:
        print("second_login", e.args[0].decode())
    a.quit()
