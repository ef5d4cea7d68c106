#!/usr/bin/python3
"""Bytes of the SST and blob files of one RocksDB directory, by column family.

RocksDB's info LOG names the column family of every file it creates (EVENT_LOG_v1
table_file_creation / blob_file_creation); the files still in the directory are the live
ones. Used by storage_amp_bench.sh. Usage: storage_amp_families.py STORE_DIR
"""
import json
import os
import re
import sys


def main(store):
    family_of = {}
    for name in sorted(os.listdir(store)):
        if name != "LOG" and not name.startswith("LOG.old"):
            continue
        with open(os.path.join(store, name), errors="replace") as log:
            for line in log:
                at = line.find("EVENT_LOG_v1 ")
                if at < 0:
                    continue
                try:
                    event = json.loads(line[at + len("EVENT_LOG_v1 "):])
                except ValueError:
                    continue
                if "file_number" in event and "cf_name" in event:
                    family_of[event["file_number"]] = event["cf_name"]
    sizes = {}
    for name in os.listdir(store):
        match = re.fullmatch(r"(\d+)\.(sst|blob)", name)
        if not match:
            continue
        key = family_of.get(int(match.group(1)), "?") + (" blobs" if match.group(2) == "blob" else "")
        sizes[key] = sizes.get(key, 0) + os.path.getsize(os.path.join(store, name))
    print(" ".join(f"{key}={size}" for key, size in sorted(sizes.items())))


if __name__ == "__main__":
    main(sys.argv[1])
