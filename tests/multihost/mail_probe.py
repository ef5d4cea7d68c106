#!/usr/bin/python3
"""The multi-host test's mail client, run inside an emulated host's namespace:
  mail_probe.py send HOST PORT TO SUBJECT              deliver one message over SMTP
  mail_probe.py imap HOST PORT USER PASSWORD SUBJECT   STARTTLS, find SUBJECT in INBOX
  mail_probe.py pop3 HOST PORT USER PASSWORD SUBJECT   STLS, find SUBJECT in the maildrop
Exit status 0 when done (found), 1 when not found, 2 on errors. The servers' certificates
are self-signed, so they are not verified: this checks the mail path, not the PKI."""
import imaplib
import poplib
import smtplib
import ssl
import sys
from email.message import EmailMessage

TIMEOUT_S = 20


def tls():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def send(host, port, to, subject):
    m = EmailMessage()
    m["From"] = "probe@example.org"
    m["To"] = to
    m["Subject"] = subject
    m.set_content("sent across hosts\n")
    with smtplib.SMTP(host, port, timeout=TIMEOUT_S) as s:
        s.ehlo("probe.example.org")
        s.send_message(m)
    return True


def imap(host, port, user, password, subject):
    with imaplib.IMAP4(host, port, timeout=TIMEOUT_S) as s:
        s.starttls(tls())
        s.login(user, password)
        s.select("INBOX", readonly=True)
        _, found = s.search(None, "SUBJECT", '"%s"' % subject)
        return bool(found[0].split())


def pop3(host, port, user, password, subject):
    s = poplib.POP3(host, port, timeout=TIMEOUT_S)
    try:
        s.stls(tls())
        s.user(user)
        s.pass_(password)
        count = len(s.list()[1])
        for i in range(1, min(count, 500) + 1):
            header = b"\n".join(s.top(i, 0)[1]).decode(errors="replace")
            if ("Subject: " + subject) in header:
                return True
        return False
    finally:
        s.quit()


def main():
    command, args = sys.argv[1], sys.argv[2:]
    host, port = args[0], int(args[1])
    if command == "send":
        return send(host, port, args[2], args[3])
    if command in ("imap", "pop3"):
        return globals()[command](host, port, args[2], args[3], args[4])
    raise ValueError("unknown command " + command)


if __name__ == "__main__":
    try:
        sys.exit(0 if main() else 1)
    except Exception as e:  # the test prints the log
        print("mail_probe:", type(e).__name__, e, file=sys.stderr)
        sys.exit(2)
