#!/bin/sh
# One-shot job of docker/compose.yaml: once the config group answers, stores the cluster map
# (first start) and adds every data group to the ring, like scripts/start.sh does on loopback.
# A later run finds the map, finishes an interrupted rebalance and changes nothing else.
#   cluster-init.sh CONFIG_GROUP GROUP_SPEC...    e.g. 10.89.7.11:7000,... 1@1=10.89.7.21:7000,...
# kvsctl proves an operator's (admin) identity with /tls/kvsctl.crt, which the compose file's
# pki job writes into this job's own volume ($PENNCLOUD_TLS_DIR names another folder).
set -eu
kvsctl() { command kvsctl --tls_dir="${PENNCLOUD_TLS_DIR:-/tls}" "$@"; }
config=$1
shift
for _ in $(seq 1 300); do
  kvsctl --group="$config" status >/dev/null 2>&1 && break
  sleep 1
done
set +e
kvsctl --config="$config" cluster show >/dev/null 2>&1
shown=$?
set -e
if [ "$shown" -eq 3 ]; then
  kvsctl --config="$config" cluster init "$1"
elif [ "$shown" -ne 0 ]; then
  echo "cluster-init: the config group at $config does not answer" >&2
  exit 1
fi
kvsctl --config="$config" rebalance
for spec in "$@"; do
  id=${spec%%@*}
  if ! kvsctl --config="$config" cluster show | grep -q "^group $id "; then
    echo "cluster-init: adding group $id"
    kvsctl --config="$config" group add "$spec"
  fi
done
kvsctl --config="$config" cluster show
