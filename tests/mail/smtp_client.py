#!/usr/bin/python3
"""Sends mail with Python's smtplib. Usage:
  smtp_client.py PORT FROM TO COUNT [THREADS]   -- COUNT messages over THREADS connections
Prints "sent N"."""
import smtplib
import sys
import threading
from email.message import EmailMessage

port, sender, to, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
threads = int(sys.argv[5]) if len(sys.argv) > 5 else 1
sent = []
lock = threading.Lock()


def work(tid, n):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.ehlo("pytest.example")
        for i in range(n):
            m = EmailMessage()
            m["From"] = sender
            m["To"] = to
            m["Subject"] = "msg %d-%d" % (tid, i)
            m.set_content("body of %d-%d\n.leading dot line\n" % (tid, i))
            s.send_message(m)
            with lock:
                sent.append(1)


ts = [threading.Thread(target=work, args=(t, count // threads)) for t in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("sent", len(sent))
