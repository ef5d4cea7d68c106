#!/usr/bin/python3
"""The container cluster's certificates, checked without a container engine.

docker/compose.yaml promises (docker/README.md, "Mutual TLS"): the one-shot `pki` job makes
the cluster CA in the volume `tls-ca`, which no other service mounts, and copies each
service's certificate and key into that service's own volume; each service mounts only its
own volume, read-only, as its --tls_dir, and its certificate names the identity and address
its flags give it. This reads the compose file as docker-compose does (YAML with merge keys)
and runs docker/tls-init.sh for real over folders standing in for the volumes, then looks
at every file it wrote with openssl.

Usage: compose_tls_test.py CHECKOUT
"""
import os
import re
import shlex
import stat
import subprocess
import sys
import tempfile

import yaml

PKI_MOUNT = "/pki"


def flags_of(command):
    """--name=value flags of a service's command (a string or an entrypoint's list)."""
    text = " ".join(command) if isinstance(command, list) else command
    return dict(re.findall(r"--([a-z_]+)=(\S+)", text))


def program_of(command):
    text = " ".join(command) if isinstance(command, list) else command
    if "exec " in text:
        text = text.split("exec ", 1)[1]
    return shlex.split(text)[0]


def expected_identity(service, command):
    """The identity the service's binary requires of its own certificate."""
    program, flags = program_of(command), flags_of(command)
    if program == "kvs_server":
        return "replica/%s/%s" % (flags.get("group", "0"), flags["id"])
    if program == "coordinator":
        return "coordinator/coordinator"
    if program in ("frontend", "smtp", "pop3", "imap"):
        return "service/%s/%s" % (program, flags["node_name"])
    if program == "cluster-init":
        return "admin/kvsctl"
    raise AssertionError("%s: no identity rule for program %s" % (service, program))


def openssl(*args):
    return subprocess.run(["openssl", *args], check=True, capture_output=True, text=True).stdout


def main():
    root = sys.argv[1]
    with open(os.path.join(root, "docker", "compose.yaml")) as f:
        services = yaml.safe_load(f)["services"]
    failures = []

    def check(ok, message):
        if not ok:
            failures.append(message)

    pki = services["pki"]
    words = shlex.split(pki["command"])
    assert words[:2] == ["tls-init", PKI_MOUNT], words[:2]
    issued = {}  # service -> (node name, identity, address or None)
    for spec in words[2:]:
        parts = spec.split(":")
        issued[parts[0]] = (parts[1], parts[2], parts[3] if len(parts) > 3 else None)
    pki_volumes = {v.split(":")[1]: v.split(":")[0] for v in pki["volumes"]}
    check(pki_volumes.get(PKI_MOUNT + "/ca") == "tls-ca", "pki does not hold tls-ca at /pki/ca")
    check(pki.get("network_mode") == "none", "the pki job is on a network")

    for name, service in services.items():
        if name == "pki":
            continue
        tls_mounts = [v for v in service.get("volumes", []) if v.split(":")[0].startswith("tls-")]
        check(not any(v.startswith("tls-ca:") for v in tls_mounts), "%s mounts the CA volume" % name)
        if not tls_mounts:
            check("--tls_dir" not in str(service.get("command")),
                  "%s names a --tls_dir but mounts no certificate volume" % name)
            continue
        check(tls_mounts == ["tls-%s:/tls:ro" % name],
              "%s mounts %s, not only its own tls-%s read-only" % (name, tls_mounts, name))
        check(pki_volumes.get("%s/%s" % (PKI_MOUNT, name)) == "tls-%s" % name,
              "pki does not write %s's volume" % name)
        if name not in issued:
            failures.append("pki issues nothing for %s" % name)
            continue
        node_name, identity, address = issued[name]
        command = service["command"]
        flags = flags_of(command)
        if program_of(command) != "cluster-init":
            check(flags.get("tls_dir") == "/tls", "%s: --tls_dir is not /tls" % name)
            check(flags.get("node_name") == node_name,
                  "%s: --node_name=%s but pki issues %s.crt" % (name, flags.get("node_name"), node_name))
        check(identity == expected_identity(name, command),
              "%s: pki issues %s, the binary expects %s" % (name, identity,
                                                             expected_identity(name, command)))
        if address is not None:
            ip = service["networks"]["penncloud"]["ipv4_address"]
            check(address == ip, "%s: certificate for %s, container at %s" % (name, address, ip))
    check(set(issued) <= set(services), "pki issues for unknown services %s" % (set(issued) - set(services)))

    # The job itself, over folders standing in for the volumes.
    with tempfile.TemporaryDirectory() as pki_dir:
        for mount in pki_volumes:
            os.makedirs(pki_dir + mount[len(PKI_MOUNT):], exist_ok=True)
        subprocess.run(["sh", os.path.join(root, "docker", "tls-init.sh"), pki_dir, *words[2:]],
                       check=True, capture_output=True)
        for name, (node_name, identity, address) in issued.items():
            folder = os.path.join(pki_dir, name)
            files = sorted(os.listdir(folder))
            check(files == sorted(["ca.crt", node_name + ".crt", node_name + ".key"]),
                  "%s's volume holds %s" % (name, files))
            key_mode = stat.S_IMODE(os.stat(os.path.join(folder, node_name + ".key")).st_mode)
            check(key_mode & 0o077 == 0, "%s's key is readable by others (%o)" % (name, key_mode))
            cert = os.path.join(folder, node_name + ".crt")
            verified = subprocess.run(["openssl", "verify", "-CAfile", os.path.join(folder, "ca.crt"), cert],
                                      capture_output=True, text=True)
            check(verified.returncode == 0, "%s's certificate does not chain to the CA: %s" %
                  (name, verified.stdout + verified.stderr))
            san = openssl("x509", "-in", cert, "-noout", "-ext", "subjectAltName")
            check("URI:spiffe://penncloud/%s" % identity in san, "%s's certificate names %s" % (name, san))
            if address is not None:
                check("IP Address:%s" % address in san, "%s's certificate lacks %s: %s" % (name, address, san))
            key_pub = openssl("pkey", "-in", os.path.join(folder, node_name + ".key"), "-pubout")
            cert_pub = openssl("x509", "-in", cert, "-noout", "-pubkey")
            check(key_pub == cert_pub, "%s's key does not match its certificate" % name)
        holders = [d for d in os.listdir(pki_dir) if os.path.exists(os.path.join(pki_dir, d, "ca.key"))]
        check(holders == ["ca"], "the CA key is in %s" % holders)

    for failure in failures:
        print("FAIL:", failure)
    print("%d services checked, %d failures" % (len(services) - 1, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
