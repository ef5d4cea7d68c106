#!/usr/bin/python3
"""Submits one message as an authenticated user, as a mail client does: smtplib, STARTTLS
(the test certificate is self-signed, so it is not verified), AUTH, then the message.
Prints the Message-ID once the server's 250 arrived. Usage:
  smtp_submit.py PORT USER PASSWORD FROM SUBJECT TO..."""
import smtplib
import ssl
import sys
from email.message import EmailMessage
from email.utils import make_msgid

port, user, password, sender, subject = int(sys.argv[1]), *sys.argv[2:6]
recipients = sys.argv[6:]
m = EmailMessage()
m["From"] = sender
m["To"] = ", ".join(recipients)
m["Subject"] = subject
m["Message-ID"] = make_msgid(domain="penncloud.local")
m.set_content("submitted by smtp_submit.py\n")
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
    s.ehlo("client.example")
    s.starttls(context=context)
    s.ehlo("client.example")
    s.login(user, password)
    s.send_message(m)  # returns once the 250 after the data arrived
print(m["Message-ID"], flush=True)
