#!/usr/bin/python3
"""Sends SMTP and POP3 input at and just over each server limit, for mail_limits_test.
Usage: limits_client.py SMTP_PORT POP3_PORT MAX_MESSAGE_BYTES ALICE_PASSWORD; prints
"name value" lines (the reply code each step got, what alice's mailbox holds afterwards),
which the test checks."""
import poplib

poplib._MAXLINE = 1 << 20  # the stored 64 KiB line comes back whole
import smtplib
import socket
import ssl
import sys

smtp_port, pop3_port, max_message = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
alice_password = sys.argv[4]
COMMAND_CAP = 4096  # SmtpConfig::max_command_bytes, CRLF included
SMTP_LINE_CAP = 64 << 10  # kMaxSmtpLineBytes, CRLF not included
POP3_LINE_CAP = 1024  # kMaxPop3LineBytes, CRLF not included
RECIPIENT_CAP = 100  # SmtpConfig::max_recipients
TO = "alice@penncloud.local"


def report(name, value):
    print(name, value, flush=True)


def smtp():
    s = smtplib.SMTP("127.0.0.1", smtp_port, timeout=30)
    s.ehlo("limits.example.com")
    return s


def message(total, marker, long_line=0):
    """A message of exactly `total` bytes as sent (CRLF line ends, no dot-stuffing needed)."""
    head = ("From: carol@example.com\r\nTo: %s\r\nSubject: %s\r\n\r\n" % (TO, marker)).encode()
    body = b""
    if long_line:
        body += b"L" * long_line + b"\r\n"
    left = total - len(head) - len(body)
    while left > 0:
        n = min(998, left - 2)  # each line is n bytes plus CRLF
        if n < 1:  # too little room for a line: widen the previous one instead
            body = body[:-2] + b"y" * left + b"\r\n"
            break
        body += b"x" * n + b"\r\n"
        left -= n + 2
    data = head + body
    assert len(data) == total, (len(data), total)
    return data


def send(name, data):
    s = smtp()
    s.mail("carol@example.com")
    s.rcpt(TO)
    code, _ = s.data(data)
    report(name, code)
    report(name + "_then_noop", s.noop()[0])  # the session goes on after a refusal
    s.quit()


# Commands: the cap counts the CRLF.
s = smtp()
report("smtp_command_at_cap", s.docmd("NOOP", "c" * (COMMAND_CAP - len("NOOP \r\n")))[0])
report("smtp_command_over_cap", s.docmd("NOOP", "c" * (COMMAND_CAP - len("NOOP \r\n") + 1))[0])
report("smtp_after_long_command", s.noop()[0])
s.quit()

# Recipients: the 100th is taken, the 101st refused; nothing is delivered (RSET).
s = smtp()
s.mail("carol@example.com")
codes = [s.rcpt(TO)[0] for _ in range(RECIPIENT_CAP)]
report("smtp_recipients_at_cap", max(codes))
report("smtp_recipient_over_cap", s.rcpt(TO)[0])
s.rset()
s.quit()

# Message size, counted as sent (CRLF line ends): exactly the limit is taken.
s = smtp()
report("smtp_size_param_at_cap", s.docmd("MAIL", "FROM:<carol@example.com> SIZE=%d" % max_message)[0])
s.rset()
report("smtp_size_param_over_cap",
       s.docmd("MAIL", "FROM:<carol@example.com> SIZE=%d" % (max_message + 1))[0])
s.quit()
send("smtp_message_at_cap", message(max_message, "at-size-cap"))
send("smtp_message_over_cap", message(max_message + 1, "over-size-cap"))

# One DATA line at the line cap is stored whole; one byte more refuses the message.
send("smtp_data_line_at_cap", message(SMTP_LINE_CAP + 2000, "at-line-cap", SMTP_LINE_CAP))
send("smtp_data_line_over_cap", message(SMTP_LINE_CAP + 2000, "over-line-cap", SMTP_LINE_CAP + 1))


# POP3 (no login needed to reach the line cap): each line sent in one write, so it
# arrives in one read; the 100 KiB line spans several reads.
def pop3_line(name, line):
    sock = socket.create_connection(("127.0.0.1", pop3_port), timeout=30)
    f = sock.makefile("rb")
    f.readline()  # greeting
    sock.sendall(line + b"\r\n")
    reply = f.readline().decode().strip()
    report(name, reply.replace(" ", "_"))
    sock.sendall(b"CAPA\r\n")
    report(name + "_then_capa", f.readline().decode().split(" ")[0].strip())
    sock.close()


pop3_line("pop3_line_at_cap", b"USER " + b"u" * (POP3_LINE_CAP - 5))
pop3_line("pop3_line_over_cap", b"USER " + b"u" * (POP3_LINE_CAP - 4))
pop3_line("pop3_line_far_over_cap", b"USER " + b"u" * (100 << 10))

# What was stored: the messages taken, whole, and none of those refused.
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE  # the server's self-signed certificate
p = poplib.POP3("127.0.0.1", pop3_port, timeout=30)
p.stls(ctx)
p.user("alice")
p.pass_(alice_password)
subjects = []
for i in range(1, p.stat()[0] + 1):
    lines = p.retr(i)[1]
    subject = next(l for l in lines if l.startswith(b"Subject: ")).decode()[len("Subject: "):]
    subjects.append(subject)
    if subject == "at-line-cap":
        report("stored_long_line", max(len(l) for l in lines))
p.quit()
report("stored", ",".join(sorted(subjects)))
report("done", 1)
