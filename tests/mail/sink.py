#!/usr/bin/python3
"""A tiny SMTP sink for relay tests: accepts (or refuses) every message and writes each
accepted one to <dir>/<n>.eml. Usage: sink.py PORT DIR accept|reject|tempfail"""
import os
import socketserver
import sys

PORT, DIR, MODE = int(sys.argv[1]), sys.argv[2], sys.argv[3]
os.makedirs(DIR, exist_ok=True)


class Handler(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write((text + "\r\n").encode())

    def handle(self):
        self.reply("220 sink ready")
        rcpts = []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode(errors="replace").strip()
            verb = cmd.split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb == "MAIL":
                rcpts = []
                self.reply("250 ok")
            elif verb == "RCPT":
                if MODE == "reject":
                    self.reply("550 5.1.1 no such user here")
                elif MODE == "tempfail":
                    self.reply("451 4.3.0 try later")
                else:
                    rcpts.append(cmd)
                    self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go")
                data = b""
                while True:
                    l = self.rfile.readline()
                    if not l or l == b".\r\n":
                        break
                    data += l
                n = len(os.listdir(DIR))
                with open(os.path.join(DIR, "%d.eml" % n), "wb") as f:
                    f.write(("X-Sink-Rcpts: %s\r\n" % ";".join(rcpts)).encode() + data)
                self.reply("250 2.0.0 stored")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


Server(("127.0.0.1", PORT), Handler).serve_forever()
