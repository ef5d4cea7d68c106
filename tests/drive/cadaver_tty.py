#!/usr/bin/python3
"""Runs cadaver on a pseudo-terminal, typing one line of stdin at each of its prompts.

cadaver asks whether to accept an untrusted server certificate only when its input is a
terminal; with a pipe it rejects the certificate without asking. PennCloud's HTTPS
certificate comes from the cluster CA (scripts/lib/tls.sh), which cadaver has no option to
trust, so a test that drives it over HTTPS runs it here: the first line of stdin answers the
certificate question ("y" accepts it for this session), each further line is typed at the
"dav:" prompt once it shows, then "quit". Everything cadaver printed goes to stdout.
Bounded: --timeout seconds in all (default 60), then cadaver is killed and the exit is 124.

  cadaver_tty.py https://127.0.0.1:8443/dav/ < commands
"""
import argparse
import os
import pty
import re
import select
import signal
import sys
import time

PROMPTS = {
    "certificate": re.compile(rb"\(y/n\) ?$"),
    "command": re.compile(rb"dav:[^\n]*[>?] ?$"),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    lines = sys.stdin.read().splitlines()
    deadline = time.monotonic() + args.timeout
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "dumb"  # no bracketed-paste escapes in the transcript
        os.execvp("cadaver", ["cadaver", args.url])
    transcript = b""
    seen = 0  # transcript bytes already matched against a prompt
    commands = lines[1:] + ["quit"]
    answered_certificate = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            sys.stdout.buffer.write(transcript + b"\n[cadaver_tty: timed out]\n")
            return 124
        ready, _, _ = select.select([fd], [], [], min(left, 0.5))
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal: it has exited
            break
        if not chunk:
            break
        transcript += chunk
        tail = transcript[seen:].rstrip(b"\r")
        if not answered_certificate and PROMPTS["certificate"].search(tail):
            answer = lines[0] if lines else "n"
            os.write(fd, answer.encode() + b"\n")
            answered_certificate = True
            seen = len(transcript)
        elif PROMPTS["command"].search(tail) and commands:
            os.write(fd, commands.pop(0).encode() + b"\n")
            seen = len(transcript)
    _, status = os.waitpid(pid, 0)
    sys.stdout.buffer.write(transcript.replace(b"\r\n", b"\n"))
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
