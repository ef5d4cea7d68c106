#!/usr/bin/python3
"""Sends one message with Python's smtplib and prints the wall-clock time (Unix ms) at which
the server's 250 for the data arrived. Usage:
  smtp_once.py PORT FROM TO SUBJECT [REPLY_TO]"""
import smtplib
import sys
import time
from email.message import EmailMessage

port, sender, to, subject = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
m = EmailMessage()
m["From"] = sender
m["To"] = to
m["Subject"] = subject
if len(sys.argv) > 5:
    m["Reply-To"] = sys.argv[5]
m.set_content("sent by smtp_once.py\n")
with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
    s.ehlo("e2e.example")
    s.send_message(m)  # returns once the 250 after the data arrived
    print(int(time.time() * 1000), flush=True)
