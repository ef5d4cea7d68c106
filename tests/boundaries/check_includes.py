#!/usr/bin/python3
"""Fails when a library's source includes a module it may not depend on.

PennCloud's modules form a layered graph (docs/architecture.md): the consensus core knows
nothing of gRPC or HTTP, the services (accounts, mail, drive) know nothing of HTTP, and only
the web tier (frontend/, coordinator/) builds on http/. CMake cannot enforce this on its own:
every target sees the checkout root and /usr/include. So this reads each library source's
#include lines and checks them against the allow-list below.

Tests, fuzz targets and simulations are exempt: they may reach across layers to set things
up. So are the binaries' mains (main.cc, x_main.cc, mail's main_common), which wire modules
together (every one starts the metrics endpoint of http/, say). Usage: check_includes.py [ROOT] (default: the checkout holding this script).
"""
import os
import re
import sys

# Module (a top-level folder, or kvs/<part>) -> the project modules its sources may include.
# A module always may include itself and proto/ (generated messages) unless it is listed in
# NO_PROTO.
ALLOWED = {
    "common": set(),
    "http": {"common"},
    "heartbeat": {"common"},
    "kvs/lincheck": set(),
    "kvs/paxos": set(),
    "kvs/machine": {"kvs/shard"},
    "kvs/storage": {"kvs/machine", "common"},
    "kvs/client": {"kvs/shard", "common"},
    "kvs/shard": {"kvs/client", "common"},
    "kvs/server": {"kvs/paxos", "kvs/machine", "kvs/storage", "kvs/client", "kvs/shard",
                   "common"},
    "kvs/ctl": {"kvs/client", "kvs/shard", "common"},
    "accounts": {"kvs/client", "common"},
    "drive": {"accounts", "kvs/client", "common"},
    "mail": {"accounts", "kvs/client", "heartbeat", "common"},
    "frontend": {"http", "accounts", "mail", "drive", "kvs/client", "heartbeat", "common"},
    "coordinator": {"http", "frontend", "accounts", "mail", "drive", "kvs/client", "kvs/shard",
                    "heartbeat", "common"},
}
NO_PROTO = {"http", "kvs/lincheck"}

# Outside headers a module may not include, by path prefix.
GRPC = ("grpcpp/", "grpc/", "grpc++/")
BEAST = ("boost/beast",)
FORBIDDEN = {
    "http": GRPC + ("google/protobuf/",),
    "kvs/paxos": GRPC + BEAST + ("boost/asio",),
    "kvs/machine": GRPC + BEAST,
    "kvs/lincheck": GRPC + BEAST,
    "kvs/storage": GRPC + BEAST,
    "accounts": GRPC + BEAST,
    "drive": GRPC + BEAST,
    "mail": BEAST,
}

# Where test code lives inside a module folder.
EXEMPT = re.compile(r"(_test\.cc$|_test_[\w]*\.h$|_fixture\.h$|test_util|testing\.h$|"
                    r"_testing\.|^kvs/paxos/sim/|/fake_|(^|/|_)main(_common)?\.(cc|h)$)")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]')


def module_of(path):
    parts = path.split("/")
    if parts[0] == "kvs" and len(parts) > 2:
        return "kvs/" + parts[1]
    return parts[0] if len(parts) > 1 else None


def project_module(include, modules):
    parts = include.split("/")
    if parts[0] == "kvs" and len(parts) > 2:
        return "kvs/" + parts[1]
    return parts[0] if parts[0] in modules or parts[0] == "proto" else None


def check(root):
    modules = {m.split("/")[0] for m in ALLOWED} | set(ALLOWED)
    problems = []
    checked = 0
    for module in sorted(ALLOWED):
        base = os.path.join(root, module)
        if not os.path.isdir(base):
            continue
        for folder, _, files in os.walk(base):
            for name in sorted(files):
                if not name.endswith((".cc", ".h")):
                    continue
                path = os.path.relpath(os.path.join(folder, name), root)
                if module_of(path) != module or EXEMPT.search(path):
                    continue
                checked += 1
                with open(os.path.join(root, path), errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        include = m.group(2)
                        target = project_module(include, modules) if m.group(1) == '"' else None
                        if target == "proto" and module not in NO_PROTO:
                            continue
                        if target is not None and target != module and \
                                target not in ALLOWED[module]:
                            problems.append(f"{path}:{number}: {module}/ may not include "
                                            f"{include} (module {target})")
                        for prefix in FORBIDDEN.get(module, ()):
                            if include.startswith(prefix):
                                problems.append(f"{path}:{number}: {module}/ may not include "
                                                f"{include}")
    return checked, problems


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    checked, problems = check(os.path.abspath(root))
    for p in problems:
        print(p)
    if checked == 0:
        print("no library sources found under", root)
        return 1
    print(f"{checked} library sources checked, {len(problems)} forbidden includes")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
