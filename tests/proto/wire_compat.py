#!/usr/bin/python3
"""Checks that proto/ still reads and writes what earlier builds of PennCloud wrote.

During a rolling upgrade old and new binaries serve one cluster: replicas of one group
exchange Paxos messages and snapshots, clients of one version call servers of the other,
and every binary reads cells an older one stored. All of it is protobuf, so a change that
breaks the wire (a field number reused or retyped, an RPC's request changed, an enum value
dropped) breaks the mix, or worse, decodes old bytes into the wrong field.

proto/wire_baseline.txt records every message field, reserved number, enum value and RPC
that a commit of PennCloud has had, one per line. This script compares the protos in the
tree with it:

  wire_compat.py            fails on a change old binaries or stored cells cannot live with,
                            and on anything new the baseline does not list yet
  wire_compat.py --accept   (after a clean check) writes the new things into the baseline

A field is removed by reserving its number (and name); the baseline then lists the
reservation, which must stay. A deliberate break (a message type renamed while nothing
stores it) is made by editing the baseline in the same commit, where review sees it.
"""
import argparse
import os
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FD = descriptor_pb2.FieldDescriptorProto

# Types that decode each other's bytes (the protobuf language guide's "Updating a message
# type"): varints, zigzag varints, the two fixed widths, and length-delimited text.
WIRE_CLASS = {
    FD.TYPE_INT32: "varint", FD.TYPE_UINT32: "varint", FD.TYPE_INT64: "varint",
    FD.TYPE_UINT64: "varint", FD.TYPE_BOOL: "varint", FD.TYPE_ENUM: "varint",
    FD.TYPE_SINT32: "zigzag", FD.TYPE_SINT64: "zigzag",
    FD.TYPE_FIXED32: "fixed32", FD.TYPE_SFIXED32: "fixed32", FD.TYPE_FLOAT: "float",
    FD.TYPE_FIXED64: "fixed64", FD.TYPE_SFIXED64: "fixed64", FD.TYPE_DOUBLE: "double",
    FD.TYPE_STRING: "text", FD.TYPE_BYTES: "text",
    FD.TYPE_MESSAGE: "message", FD.TYPE_GROUP: "group",
}


def type_of(field):
    if field.type in (FD.TYPE_MESSAGE, FD.TYPE_ENUM):
        return field.type_name.lstrip(".")
    return FD.Type.Name(field.type)[len("TYPE_"):].lower()


# The same classes by the names the baseline writes.
WIRE_CLASS_BY_NAME = {FD.Type.Name(t)[len("TYPE_"):].lower(): c for t, c in WIRE_CLASS.items()}


def wire_of(word):
    """The wire class of a type as the baseline writes it."""
    return WIRE_CLASS_BY_NAME.get(word, "named")  # a message or an enum, by its full name


def describe(proto_dir):
    """Every wire fact of the protos in proto_dir, as the baseline's lines."""
    protos = sorted(f for f in os.listdir(proto_dir) if f.endswith(".proto"))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "set.pb")
        # The protos import each other as "proto/<name>.proto".
        staged = os.path.join(tmp, "proto")
        os.symlink(os.path.abspath(proto_dir), staged)
        subprocess.run(["protoc", f"--proto_path={tmp}", f"--descriptor_set_out={out}"] +
                       [f"proto/{p}" for p in protos], check=True)
        files = descriptor_pb2.FileDescriptorSet.FromString(open(out, "rb").read())
    lines = set()

    def walk_message(prefix, message):
        name = f"{prefix}.{message.name}"
        lines.add(f"message {name}")
        real_oneofs = {i: o.name for i, o in enumerate(message.oneof_decl)}
        for field in message.field:
            label = "repeated" if field.label == FD.LABEL_REPEATED else "single"
            oneof = "-"
            if field.HasField("oneof_index") and not field.proto3_optional:
                oneof = real_oneofs[field.oneof_index]
            lines.add(f"field {name} {field.number} {field.name} {label} {type_of(field)} "
                      f"oneof={oneof}")
        for r in message.reserved_range:  # end is exclusive
            for number in range(r.start, r.end):
                lines.add(f"reserved {name} {number}")
        for word in message.reserved_name:
            lines.add(f"reserved-name {name} {word}")
        for nested in message.nested_type:
            walk_message(name, nested)
        for enum in message.enum_type:
            walk_enum(name, enum)

    def walk_enum(prefix, enum):
        name = f"{prefix}.{enum.name}"
        lines.add(f"enum {name}")
        for value in enum.value:
            lines.add(f"value {name} {value.number} {value.name}")
        for r in enum.reserved_range:  # end is inclusive for enums
            for number in range(r.start, r.end + 1):
                lines.add(f"reserved {name} {number}")

    for f in files.file:
        for message in f.message_type:
            walk_message(f.package, message)
        for enum in f.enum_type:
            walk_enum(f.package, enum)
        for service in f.service:
            for m in service.method:
                shape = {(False, False): "unary", (True, False): "client-stream",
                         (False, True): "server-stream", (True, True): "bidi"}[
                             (m.client_streaming, m.server_streaming)]
                lines.add(f"rpc {f.package}.{service.name}.{m.name} "
                          f"{m.input_type.lstrip('.')} {m.output_type.lstrip('.')} {shape}")
    return lines


def index(lines):
    """The lines keyed by what must not change: a message, a field or enum number, an RPC."""
    keyed = {}
    for line in lines:
        words = line.split()
        kind = words[0]
        if kind in ("message", "enum"):
            keyed[(kind, words[1])] = words
        elif kind in ("field", "value", "reserved"):
            keyed[(kind, words[1], int(words[2]))] = words
        elif kind == "reserved-name":
            keyed[(kind, words[1], words[2])] = words
        elif kind == "rpc":
            keyed[(kind, words[1])] = words
    return keyed


def alone_in_new_oneof(old, new, message, number, oneof, oneof_now):
    """Whether a field left no oneof for one that is new and holds no other old field: the
    one move the protobuf language guide calls safe."""
    if oneof != "oneof=-" or oneof_now == "oneof=-":
        return False
    for key, words in old.items():
        if key[0] == "field" and key[1] == message and words[-1] == oneof_now:
            return False  # the oneof existed before
    for key, words in new.items():
        if (key[0] == "field" and key[1] == message and key[2] != number and
                words[-1] == oneof_now and ("field", message, key[2]) in old):
            return False  # another old field moved in with it
    return True


def breaks(baseline, current):
    """What old binaries or stored cells could not live with, one sentence each."""
    old, new = index(baseline), index(current)
    found = []
    reserved = {(k[1], k[2]) for k in new if k[0] == "reserved"}
    for key, words in sorted(old.items(), key=lambda kv: str(kv[0])):
        kind = key[0]
        if kind in ("message", "enum") and key not in new:
            found.append(f"{kind} {key[1]} is gone: older binaries still send or store it "
                         f"(the wire carries no message names, so a rename is safe unless "
                         f"an RPC's path changes: record it by editing the baseline)")
        elif kind == "field":
            _, message, number, name, label, typ, oneof = words
            number = int(number)
            now = new.get(key)
            if now is None:
                if (message, number) not in reserved and ("message", message) in new:
                    found.append(f"{message} field {number} ({name}) was removed without "
                                 f"reserving its number: a later field could reuse it and "
                                 f"read old bytes as its own")
                continue
            _, _, _, _, label_now, typ_now, oneof_now = now
            if label_now != label:
                found.append(f"{message} field {number} ({name}) went from {label} to "
                             f"{label_now}")
            if typ_now != typ and (wire_of(typ) != wire_of(typ_now) or
                                   wire_of(typ) == "named"):
                found.append(f"{message} field {number} ({name}) changed type {typ} -> "
                             f"{typ_now}, which old bytes do not decode as")
            if oneof_now != oneof and not alone_in_new_oneof(old, new, message, number,
                                                             oneof, oneof_now):
                found.append(f"{message} field {number} ({name}) moved from "
                             f"{oneof.split('=')[1]} to {oneof_now.split('=')[1]}: old "
                             f"writers can set two members of one oneof at once")
        elif kind == "reserved" and key not in new:
            if ("field", key[1], key[2]) in new or ("value", key[1], key[2]) in new:
                found.append(f"{key[1]} number {key[2]} was reserved and is used again")
            elif ("message", key[1]) in new or ("enum", key[1]) in new:
                found.append(f"{key[1]} number {key[2]} is no longer reserved")
        elif kind == "reserved-name" and key not in new and ("message", key[1]) in new:
            found.append(f"{key[1]} name {key[2]} is no longer reserved")
        elif kind == "value":
            _, enum, number, name = words
            if key not in new and (enum, int(number)) not in reserved and ("enum", enum) in new:
                found.append(f"{enum} value {number} ({name}) was removed without reserving "
                             f"its number")
        elif kind == "rpc":
            now = new.get(key)
            if now is None:
                found.append(f"rpc {key[1]} is gone: older clients still call it")
            elif now[2:] != words[2:]:
                found.append(f"rpc {key[1]} changed from {' '.join(words[2:])} to "
                             f"{' '.join(now[2:])}")
    return found


def unlisted(baseline, current):
    old = index(baseline)
    return sorted(" ".join(words) for key, words in index(current).items()
                  if old.get(key) != words)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--proto-dir", default=os.path.join(ROOT, "proto"))
    parser.add_argument("--baseline", default=os.path.join(ROOT, "proto", "wire_baseline.txt"))
    parser.add_argument("--accept", action="store_true",
                        help="write what is new into the baseline (only after a clean check)")
    args = parser.parse_args()
    with open(args.baseline) as f:
        baseline = {line.strip() for line in f if line.strip() and not line.startswith("#")}
    current = describe(args.proto_dir)
    found = breaks(baseline, current)
    for sentence in found:
        print(f"BREAKS: {sentence}")
    if found:
        return 1
    new = unlisted(baseline, current)
    if args.accept:
        # Renamed fields and values replace their old lines; nothing listed goes away.
        current_keys = index(current).keys()
        keep = {line for line in baseline if index([line]).keys() - current_keys}
        header = ("# Every wire fact proto/ has had (tests/proto/wire_compat.py). Appended to by\n"
                  "# --accept; lines go away only by hand, as a deliberate break.\n")
        with open(args.baseline, "w") as f:
            f.write(header + "".join(f"{line}\n" for line in sorted(keep | current)))
        print(f"baseline: {len(new)} new or changed lines written")
        return 0
    for line in new:
        print(f"NOT IN BASELINE: {line}")
    if new:
        print("run tests/proto/wire_compat.py --accept to record them")
        return 1
    print(f"wire formats compatible with the baseline ({len(baseline)} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
