#!/bin/sh
# The cluster-init Job (init.yaml), idempotent, run after every `kubectl apply`:
#   1. the cluster CA, kept in the Secret penncloud-ca (made on the first run only);
#   2. the first admin password, kept in the Secret penncloud-admin (first run only);
#   3. an operator (admin/kvsctl) certificate for this Job, in its own memory volume;
#   4. docker/cluster-init.sh: stores the cluster map, adds the data groups, finishes an
#      interrupted rebalance.
# Arguments: the config group, then GROUP@MEMBERS per data group (as docker/cluster-init.sh).
# A Secret that exists is mounted (optional volumes at /existing/...), so this script only
# ever creates Secrets, through the API with the Job's own service account.
set -eu
ns=$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace)
api=https://kubernetes.default.svc/api/v1/namespaces/$ns/secrets

# Exits 0 once the Secret exists; 3 if an earlier run had made it first.
create_secret() {  # NAME KEY=FILE...
  name=$1
  shift
  data=
  for kv in "$@"; do
    data="$data${data:+,}\"${kv%%=*}\":\"$(base64 -w0 "${kv#*=}")\""
  done
  code=$(curl -sS -o /work/api-answer -w '%{http_code}' -X POST "$api" \
    --cacert /var/run/secrets/kubernetes.io/serviceaccount/ca.crt \
    -H "Authorization: Bearer $(cat /var/run/secrets/kubernetes.io/serviceaccount/token)" \
    -H 'Content-Type: application/json' \
    -d "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"type\":\"Opaque\",\"metadata\":{\"name\":\"$name\",\"labels\":{\"app.kubernetes.io/part-of\":\"penncloud\"}},\"data\":{$data}}")
  case $code in
    201) echo "cluster-init: created Secret $name" ;;
    409) echo "cluster-init: Secret $name exists (made by an earlier run)"; return 3 ;;
    *) echo "cluster-init: creating Secret $name failed: HTTP $code $(cat /work/api-answer)" >&2; exit 1 ;;
  esac
}

mkdir -p /work/ca
if [ -s /existing/ca/ca.key ]; then
  cp /existing/ca/ca.crt /existing/ca/ca.key /work/ca/
else
  bash /penncloud/bin/tls.sh ca /work/ca
  # A CA another run stored meanwhile wins: exit, and the Job's next pod mounts that one.
  create_secret penncloud-ca ca.crt=/work/ca/ca.crt ca.key=/work/ca/ca.key || exit 1
fi
if [ ! -s /existing/admin/password ]; then
  (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' > /work/admin-password)
  create_secret penncloud-admin password=/work/admin-password || [ $? -eq 3 ]
fi

mkdir -p /work/tls
bash /penncloud/bin/tls.sh issue /work/ca kvsctl admin/kvsctl
cp /work/ca/ca.crt /work/ca/kvsctl.crt /work/ca/kvsctl.key /work/tls/
rm -f /work/ca/ca.key
PENNCLOUD_TLS_DIR=/work/tls exec cluster-init "$@"
