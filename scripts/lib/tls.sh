#!/usr/bin/env bash
# The cluster CA and one certificate per process, for the mutual TLS every internal gRPC
# channel uses (docs/security.md, "Inside the cluster"). Made with the openssl command line.
#
#   tls.sh ca DIR                          DIR/ca.crt + DIR/ca.key, unless they exist
#   tls.sh issue DIR NAME IDENTITY [IP..]  DIR/NAME.crt + DIR/NAME.key, signed by DIR's CA,
#                                          unless a certificate for IDENTITY that is valid
#                                          for 30 more days is already there
#   tls.sh self-signed DIR NAME IDENTITY   a certificate no CA vouches for (tests)
#
# IDENTITY is the role the certificate grants (common/peer_identity.h), written into its
# URI SAN as spiffe://penncloud/IDENTITY:
#   replica/G/N            replica N of group G (the config group is 0)
#   service/KIND/NAME      a frontend, smtp, pop3 or imap server named NAME
#   coordinator/NAME       a coordinator
#   admin/NAME             kvsctl and the operator's tools
# The IPs (default 127.0.0.1) are the addresses the process serves on; clients check them.
# An argument that is not an address is a DNS name (the site's, for the HTTPS certificate).
# Keys are 0600. Nothing here prints a key or a certificate.
set -euo pipefail

days_ca=3650
days_leaf=397
renew_within_s=$((30 * 24 * 3600))

make_key() {  # path
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.tmp" \
    2>/dev/null && mv "$1.tmp" "$1")
}

ca() {
  local dir=$1
  mkdir -p "$dir"
  chmod 700 "$dir"
  [[ -s $dir/ca.crt && -s $dir/ca.key ]] && return
  make_key "$dir/ca.key"
  openssl req -x509 -new -key "$dir/ca.key" -sha256 -days "$days_ca" \
    -subj "/O=PennCloud/CN=PennCloud cluster CA $(openssl rand -hex 4)" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$dir/ca.crt.tmp" 2>/dev/null
  mv "$dir/ca.crt.tmp" "$dir/ca.crt"
}

# True if DIR/NAME.crt names IDENTITY, chains to DIR/ca.crt and stays valid 30 more days.
current() {
  local dir=$1 name=$2 identity=$3
  [[ -s $dir/$name.crt && -s $dir/$name.key ]] || return 1
  openssl x509 -in "$dir/$name.crt" -noout -checkend "$renew_within_s" >/dev/null 2>&1 || return 1
  openssl verify -CAfile "$dir/ca.crt" "$dir/$name.crt" >/dev/null 2>&1 || return 1
  openssl x509 -in "$dir/$name.crt" -noout -ext subjectAltName 2>/dev/null |
    grep -qF "URI:spiffe://penncloud/$identity"
}

extensions() {  # identity ip-or-dns-name...
  local identity=$1 san ip
  shift
  san="URI:spiffe://penncloud/$identity,DNS:localhost"
  for ip in "${@:-127.0.0.1}"; do
    if [[ $ip =~ ^[0-9.]+$ || $ip == *:* ]]; then san+=",IP:$ip"; else san+=",DNS:$ip"; fi
  done
  printf '%s\n' "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth,clientAuth" \
    "subjectAltName=$san"
}

issue() {
  local dir=$1 name=$2 identity=$3
  shift 3
  [[ -s $dir/ca.crt && -s $dir/ca.key ]] || { echo "tls.sh: no CA in $dir (run: tls.sh ca $dir)" >&2; exit 1; }
  current "$dir" "$name" "$identity" && return
  make_key "$dir/$name.key.new"
  openssl req -new -key "$dir/$name.key.new" -subj "/O=PennCloud/CN=$name" -out "$dir/$name.csr" \
    2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -sha256 -days "$days_leaf" \
    -extfile <(extensions "$identity" "$@") -out "$dir/$name.crt.new" 2>/dev/null
  rm -f "$dir/$name.csr"
  # Key first, then certificate: a process reloading in between sees a mismatched pair and
  # keeps its old one until the next reload (common/grpc_tls.h).
  mv "$dir/$name.key.new" "$dir/$name.key"
  mv "$dir/$name.crt.new" "$dir/$name.crt"
}

self_signed() {
  local dir=$1 name=$2 identity=$3
  mkdir -p "$dir"
  make_key "$dir/$name.key"
  openssl req -x509 -new -key "$dir/$name.key" -sha256 -days 30 -subj "/O=PennCloud/CN=$name" \
    -addext "subjectAltName=URI:spiffe://penncloud/$identity,DNS:localhost,IP:127.0.0.1" \
    -addext "extendedKeyUsage=serverAuth,clientAuth" -out "$dir/$name.crt" 2>/dev/null
}

case ${1:-} in
  ca) ca "$2" ;;
  issue) shift && issue "$@" ;;
  self-signed) shift && self_signed "$@" ;;
  *)
    echo "usage: tls.sh ca DIR | issue DIR NAME IDENTITY [IP...] | self-signed DIR NAME IDENTITY" >&2
    exit 2
    ;;
esac
