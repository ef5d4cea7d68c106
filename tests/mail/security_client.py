#!/usr/bin/python3
"""Attacks and checks for the mail servers' edges (issue 16), with Python's smtplib and
poplib over real sockets. Usage: security_client.py SCENARIO ARGS...; prints one
"key value" line per finding for the C++ test to match.

  cleartext SMTP POP3 USER PASS    logins before TLS are neither offered nor accepted
  implicit SMTPS POP3S USER PASS   submission and POP3 with TLS from the first byte
  smuggle SMTP                     <LF>.<LF> inside DATA, then commands behind it
  guess SMTP POP3 USER N           N wrong passwords at once, half SMTP AUTH, half POP3
  connections PORT N               opens N connections at once, prints each greeting
  attempts SMTP POP3 N             N logins of an unknown user, one connection each
"""
import base64
import poplib
import smtplib
import socket
import ssl
import sys
import threading


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the servers' self-signed certificate
    return ctx


def plain_token(user, password):
    return base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()


def cleartext(smtp_port, pop3_port, user, password):
    s = smtplib.SMTP("127.0.0.1", smtp_port, timeout=20)
    s.ehlo("attacker.example")
    print("smtp_ehlo_auth", s.has_extn("auth"))
    code, _ = s.docmd("AUTH", "PLAIN " + plain_token(user, password))
    print("smtp_auth_reply", code)
    s.starttls(context=tls_context())
    s.ehlo("client.example")
    print("smtp_tls_ehlo_auth", s.has_extn("auth"))
    print("smtp_tls_login", s.login(user, password)[0])
    s.quit()

    p = poplib.POP3("127.0.0.1", pop3_port, timeout=20)
    print("pop3_capa_user", "USER" in p.capa())
    for command in ("USER " + user, "AUTH PLAIN " + plain_token(user, password)):
        try:
            print("pop3_reply", p._shortcmd(command).decode())
        except poplib.error_proto as e:
            print("pop3_reply", e.args[0].decode())
    p.stls(tls_context())
    print("pop3_tls_capa_user", "USER" in p.capa())
    p.user(user)
    print("pop3_tls_login", p.pass_(password).decode().split(" ")[0])
    p.quit()


def implicit(smtps_port, pop3s_port, user, password):
    with smtplib.SMTP_SSL("127.0.0.1", smtps_port, context=tls_context(), timeout=20) as s:
        s.ehlo("client.example")
        print("smtps_starttls_offered", s.has_extn("starttls"))
        s.login(user, password)
        message = "From: %s@penncloud.local\r\nSubject: over smtps\r\n\r\nhello\r\n" % user
        refused = s.sendmail(user + "@penncloud.local", ["bob@penncloud.local"], message)
        print("smtps_sent", "ok" if not refused else refused)
    p = poplib.POP3_SSL("127.0.0.1", pop3s_port, context=tls_context(), timeout=20)
    print("pop3s_stls_offered", "STLS" in p.capa())
    p.user(user)
    p.pass_(password)
    print("pop3s_stat", p.stat()[0])
    p.quit()


def smuggle(smtp_port):
    s = socket.create_connection(("127.0.0.1", smtp_port), timeout=20)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"EHLO attacker.example\r\n")
    while f.readline()[3:4] == b"-":
        pass
    s.sendall(b"MAIL FROM:<mallory@example.com>\r\nRCPT TO:<alice@penncloud.local>\r\nDATA\r\n")
    for _ in range(3):
        f.readline()
    # Ends with <LF>.<LF> for a lenient server; what follows would be a second message
    # "from admin" that the next hop never sees as separate.
    s.sendall(b"Subject: innocent\r\n\r\nhello\n.\n"
              b"MAIL FROM:<admin@penncloud.local>\r\nRCPT TO:<bob@penncloud.local>\r\nDATA\r\n"
              b"From: PennCloud Admin <admin@penncloud.local>\r\nSubject: smuggled\r\n\r\n"
              b"reset your password\r\n.\r\nQUIT\r\n")
    replies = []
    while True:
        line = f.readline()
        if not line:
            break
        replies.append(line.decode().strip())
    print("smuggle_replies", " | ".join(replies))


def guess(smtp_port, pop3_port, user, n):
    results = []
    lock = threading.Lock()
    barrier = threading.Barrier(n, timeout=60)

    def smtp_guess(i):
        s = smtplib.SMTP("127.0.0.1", smtp_port, timeout=60)
        s.starttls(context=tls_context())
        s.ehlo("guesser.example")
        barrier.wait()
        code, text = s.docmd("AUTH", "PLAIN " + plain_token(user, "wrong-guess-%d" % i))
        s.close()
        return "checked" if code == 535 else "throttled" if code == 454 else "other:%d" % code

    def pop3_guess(i):
        p = poplib.POP3("127.0.0.1", pop3_port, timeout=60)
        p.stls(tls_context())
        p.user(user)
        barrier.wait()
        try:
            p.pass_("wrong-guess-%d" % i)
            return "other:ok"
        except poplib.error_proto as e:
            text = e.args[0].decode()
        finally:
            p.sock.close()
        if "Invalid user name or password" in text:
            return "checked"
        return "throttled" if "too many" in text.lower() else "other:" + text

    def work(i):
        try:
            r = (smtp_guess if i % 2 == 0 else pop3_guess)(i)
        except Exception as e:  # noqa: BLE001 - reported, the test fails on it
            r = "other:" + repr(e)
        with lock:
            results.append(r)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("checked", results.count("checked"))
    print("throttled", results.count("throttled"))
    print("other", [r for r in results if r.startswith("other")])


def connections(port, n):
    socks, greetings = [], []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        socks.append(s)
        greetings.append(s.recv(200).decode(errors="replace").strip() or "closed")
    for i, g in enumerate(greetings):
        print("greeting", i, g)
    for s in socks:
        s.close()


def attempts(smtp_port, pop3_port, n):
    for i in range(n):
        s = smtplib.SMTP("127.0.0.1", smtp_port, timeout=20)
        s.starttls(context=tls_context())
        s.ehlo("client.example")
        code, text = s.docmd("AUTH", "PLAIN " + plain_token("nobody", "wrong-password"))
        print("smtp_attempt", i, code, text.decode())
        s.close()
    for i in range(n):
        p = poplib.POP3("127.0.0.1", pop3_port, timeout=20)
        p.stls(tls_context())
        try:
            p.user("nobody")
            p.pass_("wrong-password")
            print("pop3_attempt", i, "+OK")
        except poplib.error_proto as e:
            print("pop3_attempt", i, e.args[0].decode())
        p.sock.close()


scenario, args = sys.argv[1], sys.argv[2:]
if scenario == "cleartext":
    cleartext(int(args[0]), int(args[1]), args[2], args[3])
elif scenario == "implicit":
    implicit(int(args[0]), int(args[1]), args[2], args[3])
elif scenario == "smuggle":
    smuggle(int(args[0]))
elif scenario == "guess":
    guess(int(args[0]), int(args[1]), args[2], int(args[3]))
elif scenario == "connections":
    connections(int(args[0]), int(args[1]))
elif scenario == "attempts":
    attempts(int(args[0]), int(args[1]), int(args[2]))
else:
    sys.exit("unknown scenario " + scenario)
