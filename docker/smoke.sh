#!/usr/bin/env bash
# Checks a running compose cluster (docker/compose.yaml) the way a user and an operator
# would, from the host: the app on :8000, signup and login, mail in over SMTP and out over
# POP3 and the webmail API, a drive file up and down, the admin console and its node table,
# /metrics of a few containers, then SIGKILL of data group 1's leader process while a client
# writes: the restart policy must bring its container back and every acknowledged write must
# read back. Internal gRPC is mutual TLS: a client without a certificate must be refused,
# and kvsctl runs as the operator's, in a one-off container holding only the admin
# certificate (cluster-init's volume). Prints one line per step with what it saw; exits
# non-zero at the first failure.
#
#   DOCKER_HOST=unix:///run/podman/podman.sock docker/smoke.sh [--project penncloud] [--no-kill]
#
# Needs curl, swaks, /usr/bin/python3 and podman, run as the user that owns the containers.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
project=penncloud
kill_leader=1
while (($#)); do
  case $1 in
    --project) project=${2:?--project needs a name}; shift 2 ;;
    --no-kill) kill_leader=0; shift ;;
    *) echo "smoke: unknown argument: $1" >&2; exit 2 ;;
  esac
done
compose=(docker-compose -f "$here/compose.yaml" -p "$project")
base=http://127.0.0.1:8000
config_group=10.89.7.11:7000,10.89.7.12:7000,10.89.7.13:7000
group1=10.89.7.21:7000,10.89.7.22:7000,10.89.7.23:7000
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

t0=$(date +%s%N)
ms() { echo $((($(date +%s%N) - t0) / 1000000)); }
ok() { echo "ok   [$(ms) ms] $*"; }
fail() { echo "FAIL [$(ms) ms] $*" >&2; exit 1; }
container() { "${compose[@]}" ps -q "$1" 2>/dev/null | head -n1; }
# Runs a command in the coordinator's container.
in_cluster() { podman exec "$(container coordinator)" "$@"; }
# Runs a shell command line in which `kvsctl` is the operator's: a one-off container on the
# cluster's network with only cluster-init's admin certificate mounted (no service container
# holds an admin key). One fixed address, so it never takes the address of a container that
# is restarting; the steps below run it one at a time.
as_operator() {
  podman run --rm --network "${project}_penncloud" --ip 10.89.7.80 \
    -v "${project}_tls-cluster-init:/tls:ro" localhost/penncloud:latest \
    sh -c "kvsctl() { command kvsctl --tls_dir=/tls \"\$@\"; }; $1"
}
# curl that prints the status code last; the body goes to $work/body.
http() { curl -sS -o "$work/body" -w '%{http_code}' --max-time 30 "$@"; }

code=$(http "$base/") || fail "GET / did not answer"
[[ $code == 200 ]] || fail "GET / answered $code"
ok "GET / -> $code"

user=smoke$(date +%s)
password='smoke horse 42'
login_json="{\"username\":\"$user\",\"password\":\"$password\"}"
code=$(http -c "$work/jar" -H 'Content-Type: application/json' -d "$login_json" "$base/api/signup")
[[ $code == 201 ]] || fail "signup $user answered $code: $(cat "$work/body")"
ok "POST /api/signup $user -> $code"
code=$(http -c "$work/jar" -b "$work/jar" -H 'Content-Type: application/json' -d "$login_json" \
  "$base/api/login")
[[ $code == 200 ]] || fail "login answered $code: $(cat "$work/body")"
csrf=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["csrf"])' "$work/body")
code=$(http -b "$work/jar" "$base/api/me")
[[ $code == 200 ]] || fail "GET /api/me answered $code"
ok "POST /api/login -> 200, GET /api/me -> $code $(cat "$work/body")"

subject="smoke $user"
swaks --server 127.0.0.1:2500 --from tester@example.org --to "$user@penncloud.local" \
  --header "Subject: $subject" --body "sent by docker/smoke.sh" >"$work/swaks" 2>&1 ||
  fail "swaks failed: $(tail -n3 "$work/swaks")"
ok "swaks -> $(grep -o '250 .*queued.*' "$work/swaks" | head -n1)"

/usr/bin/python3 - "$user" "$password" "$subject" <<'EOF' || fail "POP3 did not deliver the message"
import poplib, sys
user, password, subject = sys.argv[1:]
pop = poplib.POP3("127.0.0.1", 11000, timeout=20)
pop.user(user)
pop.pass_(password)
count, size = pop.stat()
lines = pop.retr(count)[1]
pop.quit()
assert any(subject.encode() in l for l in lines), "subject not in the last message"
print(f"ok   POP3 STAT ({count}, {size}), RETR {count} has the subject")
EOF

code=$(http -b "$work/jar" "$base/api/mail?folder=inbox")
[[ $code == 200 ]] && grep -q "$subject" "$work/body" || fail "webmail inbox ($code) lacks the message"
ok "GET /api/mail?folder=inbox -> $code, lists \"$subject\""

head -c $((3 * 1024 * 1024 + 17)) /dev/urandom >"$work/up.bin"
sum=$(sha256sum <"$work/up.bin" | cut -d' ' -f1)
code=$(http -b "$work/jar" -H "X-CSRF-Token: $csrf" -T "$work/up.bin" \
  "$base/api/files/content?path=/smoke.bin")
[[ $code == 201 || $code == 200 ]] || fail "upload answered $code: $(cat "$work/body")"
code=$(curl -sS -o "$work/down.bin" -w '%{http_code}' -b "$work/jar" --max-time 30 \
  "$base/api/files/content?path=/smoke.bin")
[[ $code == 200 && $(sha256sum <"$work/down.bin" | cut -d' ' -f1) == "$sum" ]] ||
  fail "download answered $code or the bytes differ"
ok "PUT 3 MiB /smoke.bin -> 2xx, GET -> $code, sha256 matches"

admin_password=$(in_cluster cat /data/admin-password) || fail "no admin password in the coordinator"
code=$(http -c "$work/admin" -H 'Content-Type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$admin_password\"}" "$base/api/login")
[[ $code == 200 ]] || fail "admin login answered $code"
code=$(http -b "$work/admin" "$base/admin")
[[ $code == 200 ]] || fail "GET /admin answered $code"
code=$(http -b "$work/admin" "$base/api/admin/overview")
[[ $code == 200 ]] || fail "GET /api/admin/overview answered $code"
/usr/bin/python3 - "$work/body" <<'EOF' || fail "the node table misses nodes"
import json, sys
nodes = json.load(open(sys.argv[1]))["nodes"]
tiers = {}
for n in nodes:
    tiers.setdefault(n.get("tier", "?"), []).append(f'{n.get("id", n.get("name"))}:{n.get("health")}')
for tier, names in sorted(tiers.items()):
    print(f"     {tier}: {' '.join(sorted(names))}")
kvs = len(tiers.get("kvs", []))
assert kvs >= 12 and len(tiers.get("frontend", [])) >= 3, f"kvs={kvs} frontends={len(tiers.get('frontend', []))}"
EOF
ok "admin login -> 200, GET /admin -> 200, /api/admin/overview lists the nodes above"

for target in 10.89.7.11:17000 10.89.7.21:17000 10.89.7.50:18000 10.89.7.51:18001 \
  10.89.7.60:12500 10.89.7.61:21000; do
  code=$(http "http://$target/metrics")
  [[ $code == 200 ]] || fail "/metrics at $target answered $code"
  ok "GET http://$target/metrics -> $code, $(grep -vc '^#' "$work/body") samples," \
    "e.g. $(grep -m1 -E '^(kvs|coordinator|frontend|smtp|pop3)_' "$work/body")"
done

# An outsider on the cluster's network: plaintext, then TLS without a client certificate.
if podman run --rm --network "${project}_penncloud" --ip 10.89.7.80 localhost/penncloud:latest \
  kvsctl --insecure_plaintext --group="$group1" --timeout_ms=2000 status >"$work/outsider" 2>&1; then
  fail "a plaintext kvsctl without a certificate got an answer from group 1: $(head -c 300 "$work/outsider")"
fi
if podman run --rm --network "${project}_penncloud" --ip 10.89.7.80 localhost/penncloud:latest \
  curl -sS --max-time 3 -k -o /dev/null "https://${group1%%,*}/" >"$work/outsider" 2>&1; then
  fail "a TLS client without a certificate completed a handshake with ${group1%%,*}"
fi
ok "group 1 refuses plaintext and TLS without a client certificate" \
  "($(tail -n1 "$work/outsider" | cut -c1-100))"
status=$(as_operator "kvsctl --group=$group1 --timeout_ms=3000 status") ||
  fail "kvsctl with the admin certificate could not reach group 1"
ok "kvsctl with the admin certificate: $(grep -c 'role=' <<<"$status") replicas of group 1 answer"

((kill_leader)) || exit 0

leader=$(as_operator "kvsctl --group=$group1 --timeout_ms=3000 status" |
  sed -n 's/.* leader=\([1-3]\) .*/\1/p' | head -n1)
[[ -n $leader ]] || fail "group 1 has no leader"
victim=kvs-g1-r$leader
victim_id=$(container "$victim")
restarts_before=$(podman inspect --format '{{.RestartCount}}' "$victim_id")
writes=60
run=$(date +%s)
# One client writes rows one at a time and prints each acknowledged one.
: >"$work/acked"
as_operator "for i in \$(seq 1 $writes); do
    kvsctl --config=$config_group put smoke-$run-\$i c v\$i >/dev/null 2>&1 && echo \$i
  done" >"$work/acked" 2>"$work/writer.err" &
writer=$!
deadline=$((SECONDS + 60))
while (($(wc -l <"$work/acked") < 10 && SECONDS < deadline)); do sleep 0.2; done
# A crash, not an operator's stop: SIGKILL to the replica process itself. (`podman kill`
# counts as a stop by the user, and podman then leaves the container down by design.)
pid=$(podman inspect --format '{{.State.Pid}}' "$victim_id")
kill -KILL "$pid" || fail "kill -KILL $pid ($victim) failed"
killed_at=$(date +%s%N)
ok "SIGKILL to $victim's kvs_server (pid $pid, group 1 leader)" \
  "after $(wc -l <"$work/acked") acknowledged writes"
deadline=$((SECONDS + 60))
until [[ $(podman inspect --format '{{.State.Running}} {{.State.Pid}}' "$victim_id") == "true "* &&
  $(podman inspect --format '{{.State.Pid}}' "$victim_id") != "$pid" ]]; do
  ((SECONDS < deadline)) || fail "$victim was not restarted within 60 s"
  sleep 0.2
done
ok "$victim running again after $((($(date +%s%N) - killed_at) / 1000000)) ms" \
  "(RestartCount $restarts_before -> $(podman inspect --format '{{.RestartCount}}' "$victim_id"))"
timeout 180 tail --pid="$writer" -f /dev/null
acked=$(wc -l <"$work/acked")
missing=$(as_operator "for i in $(tr '\n' ' ' <"$work/acked"); do
    [ \"\$(kvsctl --config=$config_group get smoke-$run-\$i c 2>/dev/null)\" = v\$i ] || echo \$i
  done")
[[ -z $missing ]] || fail "acknowledged writes lost or wrong: $missing"
ok "$acked of $writes writes acknowledged across the kill; all $acked read back"
for _ in $(seq 1 60); do
  as_operator "kvsctl --group=$group1 --timeout_ms=2000 status" >"$work/status" 2>&1 &&
    ! grep -q unreachable "$work/status" && break
  sleep 1
done
ok "group 1 after the restart: $(sed -n 's/^\([0-9.:]*\) id=\([0-9]\) role=\([^ ]*\) leader=\([0-9]\).* applied=\([0-9]*\).*/\2:\3(applied \5)/p' "$work/status" | tr '\n' ' ')"
code=$(curl -sS -o "$work/down.bin" -w '%{http_code}' -b "$work/jar" --max-time 30 \
  "$base/api/files/content?path=/smoke.bin")
[[ $code == 200 && $(sha256sum <"$work/down.bin" | cut -d' ' -f1) == "$sum" ]] ||
  fail "after the kill the download answered $code or the bytes differ"
ok "after the kill: GET /smoke.bin -> $code, sha256 matches"
