#!/usr/bin/python3
"""Reference extraction for mail/mime_differential_test.cc: parses each message file named on
the command line with Python's own email package (stdlib only) and prints one JSON object per
message with what mail/mime.h's ParseMessage extracts: subject, the addr-specs of From/To/Cc,
the first inline text/plain and text/html bodies, and every other leaf part as an attachment
(file name, content type, decoded bytes in base64)."""
import base64
import json
import sys
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses


def addresses(msg, name):
    return [addr for _, addr in getaddresses([str(v) for v in msg.get_all(name, [])]) if addr]


def extract(data):
    msg = BytesParser(policy=policy.default).parsebytes(data)
    out = {"subject": str(msg.get("subject", "")), "from": addresses(msg, "from"),
           "to": addresses(msg, "to"), "cc": addresses(msg, "cc"), "text": "", "html": "",
           "attachments": []}
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        inline = part.get_content_disposition() != "attachment"
        key = {"text/plain": "text", "text/html": "html"}.get(ctype)
        if inline and key and not out[key]:
            out[key] = part.get_content()
            continue
        payload = part.get_payload(decode=True) or b""
        out["attachments"].append({"filename": part.get_filename() or "attachment",
                                   "content_type": ctype,
                                   "data": base64.b64encode(payload).decode()})
    return out


for path in sys.argv[1:]:
    with open(path, "rb") as f:
        print(json.dumps(extract(f.read())))
