#!/usr/bin/python3
"""Runs mbsync (Debian's isync) against our IMAP server with a temporary maildir, for the
process tests. Usage: mbsync_client.py PORT PASSWORD CERT DIR SCENARIO
  down     first sync; lists what arrived
  edit     flags one message \\Flagged \\Seen, writes a new message and a new folder
           Local/Sub with one message, all in the maildir, then syncs them up
  again    syncs and lists every local message with its maildir flags
Prints one line per fact; mbsync's own output goes to DIR/mbsync.log. TLS is OpenSSL's
s_client as mbsync's Tunnel, trusting exactly our certificate: mbsync's own TLS also
checks the host name, and the test certificate names penncloud.local, not 127.0.0.1."""
import os
import subprocess
import sys
import time

port, password, cert, root, scenario = sys.argv[1:6]
maildir = os.path.join(root, "maildir")
rc = os.path.join(root, "mbsyncrc")


def write_config():
    os.makedirs(maildir, exist_ok=True)
    with open(rc, "w") as f:
        f.write(f"""IMAPAccount penncloud
Tunnel "openssl s_client -quiet -verify_quiet -verify_return_error -CAfile {cert} -connect 127.0.0.1:{port}"
User alice
Pass {password}
AuthMechs LOGIN
Timeout 30

IMAPStore remote
Account penncloud

MaildirStore local
Path {maildir}/
Inbox {maildir}/INBOX
SubFolders Verbatim

Channel sync
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
""")


def sync():
    with open(os.path.join(root, "mbsync.log"), "a") as log:
        r = subprocess.run(["mbsync", "-c", rc, "-a", "-V"], stdout=log, stderr=log, timeout=90)
    print("sync", r.returncode)


def messages(folder):
    """(path, subject, flags) of every message in a maildir folder."""
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(maildir, folder, sub)
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            path = os.path.join(d, name)
            with open(path, "rb") as f:
                subject = next((l[9:].strip().decode() for l in f if l.startswith(b"Subject: ")), "")
            flags = name.split(":2,", 1)[1] if ":2," in name else ""
            out.append((path, subject, flags))
    return out


def deliver_locally(folder, subject):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, folder, sub), exist_ok=True)
    name = f"{time.time_ns()}.{os.getpid()}.local"
    with open(os.path.join(maildir, folder, "new", name), "wb") as f:
        f.write(f"From: alice@penncloud.local\r\nTo: bob@example.com\r\nSubject: {subject}\r\n"
                f"Message-ID: <{name}@local>\r\n\r\nwritten in the maildir\r\n".encode())


if scenario == "down":
    write_config()
    sync()
    for _, subject, flags in messages("INBOX"):
        print("down", subject)
    print("folders", " ".join(sorted(os.listdir(maildir))))
elif scenario == "edit":
    for path, subject, flags in messages("INBOX"):
        if subject == "down one":
            base = os.path.basename(path).split(":2,", 1)[0]
            os.rename(path, os.path.join(maildir, "INBOX", "cur", base + ":2,FS"))
    deliver_locally("INBOX", "made locally")
    deliver_locally("Local/Sub", "filed locally")
    sync()
elif scenario == "again":
    sync()
    for _, subject, flags in messages("INBOX"):
        print("local", subject, "flags=" + flags)
print("done ok")
