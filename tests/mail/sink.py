#!/usr/bin/python3
"""A remote SMTP server for relay and delivery tests. It writes each accepted message to
<dir>/<n>.eml, the accepted recipients first. MODE says how RCPT is answered:
  accept    every recipient -> 250
  reject    every recipient -> 550
  tempfail  every recipient -> 451
  by-recipient  by the local part: bounce* -> 550, defer* -> 451 until the file <dir>/open
            exists, anything else -> 250
Usage: sink.py PORT DIR MODE"""
import os
import socketserver
import sys
import threading

PORT, DIR, MODE = int(sys.argv[1]), sys.argv[2], sys.argv[3]
os.makedirs(DIR, exist_ok=True)
lock = threading.Lock()


def refusal(rcpt):
    """The reply refusing `rcpt` (the RCPT argument), or None to accept it."""
    if MODE == "reject":
        return "550 5.1.1 no such user here"
    if MODE == "tempfail":
        return "451 4.3.0 try later"
    if MODE == "by-recipient":
        local = rcpt.strip("<>").split("@")[0].lower()
        if local.startswith("bounce"):
            return "550 5.1.1 <%s>: no such mailbox here" % local
        if local.startswith("defer") and not os.path.exists(os.path.join(DIR, "open")):
            return "451 4.2.0 <%s>: mailbox busy, try later" % local
    return None


class Handler(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write((text + "\r\n").encode())

    def handle(self):
        self.reply("220 remote.example ESMTP sink")
        rcpts = []
        while True:
            line = self.rfile.readline(8192)
            if not line:
                return
            cmd = line.decode(errors="replace").strip()
            verb = cmd.split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 remote.example")
            elif verb == "MAIL":
                rcpts = []
                self.reply("250 2.1.0 ok")
            elif verb == "RCPT":
                rcpt = cmd.split(":", 1)[-1].strip()
                refused = refusal(rcpt)
                if refused:
                    self.reply(refused)
                else:
                    rcpts.append(rcpt)
                    self.reply("250 2.1.5 ok")
            elif verb == "DATA":
                if not rcpts:
                    self.reply("554 5.5.1 no valid recipients")
                    continue
                self.reply("354 go ahead")
                data = b""
                while True:
                    l = self.rfile.readline(1 << 20)
                    if not l or l == b".\r\n":
                        break
                    data += l
                with lock:
                    n = len([f for f in os.listdir(DIR) if f.endswith(".eml")])
                    with open(os.path.join(DIR, "%d.eml" % n), "wb") as f:
                        f.write(("X-Sink-Rcpts: %s\r\n" % ";".join(rcpts)).encode() + data)
                self.reply("250 2.0.0 Ok: queued as REMOTE%d" % n)
            elif verb == "QUIT":
                self.reply("221 2.0.0 bye")
                return
            else:
                self.reply("250 ok")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


Server(("127.0.0.1", PORT), Handler).serve_forever()
