#!/bin/sh
# One-shot job of docker/compose.yaml, before anything else starts: the cluster CA and one
# certificate per container, for the mutual TLS of every internal gRPC call.
#   tls-init.sh PKI_DIR SERVICE:NODE_NAME:IDENTITY[:IP]...
# PKI_DIR/ca is the CA's volume (ca.key and every issued pair; only this job mounts it).
# PKI_DIR/SERVICE is that service's own volume: this job copies ca.crt, NODE_NAME.crt and
# NODE_NAME.key there, and the service mounts it read-only as its --tls_dir, so a container
# holds its own key and no other. IDENTITY and IP as scripts/lib/tls.sh takes them.
#
# The CA is made on the first run and kept. A later run (`docker-compose up` runs this job
# again) reissues only what is missing, names another identity, or expires within 30 days,
# and refreshes the copies; the processes re-read their files every --tls_reload_s (60 s),
# so a renewal needs no restart (docs/operations.md, "Certificates").
set -eu
pki=$1
shift
# scripts/lib/tls.sh: beside this script in the image, in scripts/lib/ in a checkout.
tls=$(dirname "$0")/tls.sh
[ -f "$tls" ] || tls=$(dirname "$0")/../scripts/lib/tls.sh

bash "$tls" ca "$pki/ca"
for spec in "$@"; do
  service=${spec%%:*}
  rest=${spec#*:}
  name=${rest%%:*}
  rest=${rest#*:}
  identity=${rest%%:*}
  ip=127.0.0.1
  [ "$rest" != "$identity" ] && ip=${rest#*:}
  [ -d "$pki/$service" ] || { echo "tls-init: no volume mounted at $pki/$service" >&2; exit 1; }
  bash "$tls" issue "$pki/ca" "$name" "$identity" "$ip"
  # Into the service's volume through temporary names and renames: a process reloading
  # meanwhile reads either the old pair or the new one (the key lands before the certificate,
  # as tls.sh does it; a mismatched pair is skipped until the next reload).
  (umask 077
   for f in ca.crt "$name.key" "$name.crt"; do
     cp "$pki/ca/$f" "$pki/$service/.$f.tmp"
     mv "$pki/$service/.$f.tmp" "$pki/$service/$f"
   done)
  echo "tls-init: $service has $name.crt ($identity, $ip)"
done
