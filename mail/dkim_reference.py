#!/usr/bin/python3
"""The second DKIM implementation for dkim_interop_test: Debian's python3-dkim.

  dkim_reference.py sign SELECTOR DOMAIN KEY.pem < message > signed   (Ed25519 or RSA key)
  dkim_reference.py verify RECORDS < message     one line per DKIM-Signature: "pass"/"fail"

RECORDS is a DNS script as the smtp server's --dns_script reads it; only the TXT lines of
the `<selector>._domainkey.<domain>` names are used.
"""
import base64
import sys

import dkim


def load_records(path):
    records = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.strip().split(None, 2)
            if len(parts) == 3 and parts[1].upper() == "TXT":
                records[parts[0].lower().rstrip(".")] = parts[2].strip('"').encode()
    return records


def private_key(path):
    pem = open(path, "rb").read()
    body = b"".join(l for l in pem.splitlines() if l and not l.startswith(b"-----"))
    der = base64.b64decode(body)
    # An Ed25519 PKCS#8 key is 48 bytes whose last 32 are the seed python3-dkim wants.
    if len(der) == 48:
        return base64.b64encode(der[-32:]), b"ed25519-sha256"
    return pem, b"rsa-sha256"


def main():
    message = sys.stdin.buffer.read()
    if sys.argv[1] == "sign":
        selector, domain, key_path = sys.argv[2:5]
        key, algorithm = private_key(key_path)
        signature = dkim.sign(message, selector.encode(), domain.encode(), key,
                              signature_algorithm=algorithm, linesep=b"\r\n",
                              canonicalize=(b"relaxed", b"relaxed"))
        sys.stdout.buffer.write(signature + message)
        return
    records = load_records(sys.argv[2])

    def lookup(name, timeout=5):
        return records.get(name.decode().lower().rstrip("."))

    d = dkim.DKIM(message)
    count = sum(1 for line in message.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
                if line.lower().startswith(b"dkim-signature:"))
    for i in range(count):
        try:
            ok = d.verify(idx=i, dnsfunc=lookup)
        except dkim.DKIMException as e:
            print("error", e, file=sys.stderr)
            ok = False
        print("pass" if ok else "fail")


if __name__ == "__main__":
    main()
