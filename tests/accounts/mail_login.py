#!/usr/bin/python3
"""Logs in to PennCloud's SMTP (STARTTLS) or POP3 (STLS) server with Python's smtplib or
poplib, as a mail app would, and prints one line: "<protocol> ok" or
"<protocol> refused <server's answer>".

Usage: mail_login.py smtp|pop3 PORT USER PASSWORD"""
import poplib
import smtplib
import ssl
import sys


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the servers' self-signed certificate
    return ctx


def smtp(port, user, password):
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
        s.starttls(context=tls_context())
        try:
            s.login(user, password)
        except smtplib.SMTPAuthenticationError as e:
            print("smtp refused", e.smtp_code)
            return
        message = "From: %s@penncloud.local\r\nSubject: app password\r\n\r\nhi\r\n" % user
        refused = s.sendmail(user + "@penncloud.local", [user + "@penncloud.local"], message)
        print("smtp ok" if not refused else "smtp refused %s" % refused)


def pop3(port, user, password):
    p = poplib.POP3("127.0.0.1", port, timeout=20)
    p.stls(tls_context())
    try:
        p.user(user)
        p.pass_(password)
    except poplib.error_proto as e:
        print("pop3 refused", e.args[0].decode(errors="replace"))
        return
    p.stat()
    p.quit()
    print("pop3 ok")


if __name__ == "__main__":
    protocol, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    {"smtp": smtp, "pop3": pop3}[protocol](port, user, password)
