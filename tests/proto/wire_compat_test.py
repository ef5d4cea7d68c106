#!/usr/bin/python3
"""wire_compat.py passes the tree as it is, and reports each kind of break planted in a copy
of proto/ (and lets compatible changes through)."""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CHECK = os.path.join(HERE, "wire_compat.py")
BASELINE = os.path.join(ROOT, "proto", "wire_baseline.txt")


def run(proto_dir, baseline=BASELINE):
    r = subprocess.run([sys.executable, CHECK, "--proto-dir", proto_dir, "--baseline", baseline],
                       capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def planted(file, old, new, expect):
    """(file, text replaced, replacement, what the report must say or None if compatible)"""
    return file, old, new, expect


CASES = [
    planted("paxos.proto", "uint64 next_from = 3;", "int64 next_from = 3;", None),
    planted("paxos.proto", "uint64 next_from = 3;", "uint64 from_slot = 3;", None),
    planted("paxos.proto", "uint64 next_from = 3;", "reserved 3; reserved \"next_from\";", None),
    planted("paxos.proto", "uint64 next_from = 3;", "", "field 3 (next_from) was removed"),
    planted("paxos.proto", "uint64 next_from = 3;", "string next_from = 3;",
            "changed type uint64 -> string"),
    planted("paxos.proto", "uint64 next_from = 3;", "repeated uint64 next_from = 3;",
            "went from single to repeated"),
    planted("paxos.proto", "Membership next = 2;", "Ballot next = 2;",
            "changed type penncloud.paxos.Membership -> penncloud.paxos.Ballot"),
    planted("paxos.proto", "  uint64 next_from = 3;  // 0 = no change pending",
            "  oneof pending { uint64 next_from = 3; }", None),
    planted("paxos.proto", "  Membership next = 2;\n  uint64 next_from = 3;  // 0 = no change pending",
            "  oneof pending { Membership next = 2; uint64 next_from = 3; }",
            "moved from - to pending"),
    planted("paxos.proto", "  ENTRY_CONFIG = 2;    // a membership change", "",
            "value 2 (ENTRY_CONFIG) was removed"),
    planted("kvs.proto", "rpc Get(GetRequest) returns (GetResponse);", "",
            "rpc penncloud.kvs.pb.KvsService.Get is gone"),
    planted("kvs.proto", "rpc Get(GetRequest) returns (GetResponse);",
            "rpc Get(GetRequest) returns (stream GetResponse);", "rpc penncloud.kvs.pb.KvsService.Get changed"),
]


def main():
    failures = []
    rc, out = run(os.path.join(ROOT, "proto"))
    if rc != 0:
        failures.append(f"the tree itself does not pass:\n{out}")
    for file, old, new, expect in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            copy = os.path.join(tmp, "proto")
            shutil.copytree(os.path.join(ROOT, "proto"), copy)
            path = os.path.join(copy, file)
            text = open(path).read()
            if old not in text:
                failures.append(f"{file} no longer holds {old!r}: update the planted case")
                continue
            open(path, "w").write(text.replace(old, new, 1))
            rc, out = run(copy)
            what = f"{file}: {old!r} -> {new!r}"
            if expect is None:
                # Compatible: no break, only the new fact to record.
                if "BREAKS" in out or "Traceback" in out:
                    failures.append(f"{what} was called a break:\n{out}")
            elif rc == 0 or expect not in out:
                failures.append(f"{what} was not reported as {expect!r}:\n{out}")
    # A reservation, once recorded, must stay: reusing the number is a break.
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "proto")
        shutil.copytree(os.path.join(ROOT, "proto"), copy)
        baseline = os.path.join(tmp, "baseline.txt")
        shutil.copy(BASELINE, baseline)
        path = os.path.join(copy, "paxos.proto")
        text = open(path).read()
        open(path, "w").write(text.replace("uint64 next_from = 3;", "reserved 3;", 1))
        accept = subprocess.run([sys.executable, CHECK, "--proto-dir", copy, "--baseline",
                                 baseline, "--accept"], capture_output=True, text=True)
        open(path, "w").write(text.replace("uint64 next_from = 3;", "string note = 3;", 1))
        rc, out = run(copy, baseline)
        if accept.returncode != 0 or rc == 0 or "number 3 was reserved and is used again" not in out:
            failures.append(f"a reused reserved number was not reported:\n{accept.stdout}{out}")
    for f in failures:
        print("FAIL:", f)
    print(f"{len(CASES) + 2 - len(failures)}/{len(CASES) + 2} checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
