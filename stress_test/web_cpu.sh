#!/usr/bin/env bash
# CPU per request of the web tier, for before/after comparisons on a shared machine where
# req/s alone is noise: a coordinator and one frontend on the in-memory store (no KVS, so
# only the HTTP path is measured), wrk -t2 -c256 on :8000 for the static page and for an
# authenticated GET /api/me, and each process's CPU seconds (utime + stime from
# /proc/<pid>/stat) over the run divided by the requests wrk completed.
# Usage: stress_test/web_cpu.sh [build_dir] [seconds] [label]
#   COORDINATOR=<path> takes the coordinator binary from elsewhere (the "before" build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/release}/bin
secs=${2:-5}
label=${3:-run}
coordinator=${COORDINATOR:-$bin/coordinator}
work=$(mktemp -d /tmp/penncloud-webcpu-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 200); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# The frontend's heartbeats to the coordinator are mutual TLS, as in production: a
# throw-away CA and a certificate each (scripts/lib/tls.sh), found by node name in --tls_dir.
tls=$work/tls
"$root/scripts/lib/tls.sh" ca "$tls"
"$root/scripts/lib/tls.sh" issue "$tls" coordinator coordinator/coordinator 127.0.0.1
"$root/scripts/lib/tls.sh" issue "$tls" frontend service/frontend/frontend 127.0.0.1
http_port=$(free_port); grpc_port=$(free_port); fe_port=$(free_port)
"$coordinator" --http_port=$http_port --grpc_port=$grpc_port --kvs=memory \
  --node_name=coordinator --tls_dir="$tls" >"$work/coord.log" 2>&1 &
coord_pid=$!; pids+=($coord_pid)
"$bin/frontend" --port=$fe_port --kvs=memory --coordinator=127.0.0.1:$grpc_port \
  --node_name=frontend --tls_dir="$tls" --web_root="$root/web" >"$work/fe.log" 2>&1 &
fe_pid=$!; pids+=($fe_pid)
wait_port "$http_port"; wait_port "$fe_port"
for _ in $(seq 1 100); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/login" || true)
  [[ $code == 200 ]] && break
  sleep 0.1
done
[[ $code == 200 ]] || { echo "web tier not ready (last $code)"; exit 1; }
curl -s -c "$work/jar" -X POST "http://127.0.0.1:$http_port/api/signup" \
  -d '{"username":"bench","password":"bench-password"}' >/dev/null
token=$(awk '$6=="pc_session"{print $7}' "$work/jar")

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
run() {  # name url [extra wrk args...]
  local name=$1 url=$2; shift 2
  local c0 f0 c1 f1 reqs
  c0=$(cpu_ticks $coord_pid); f0=$(cpu_ticks $fe_pid)
  wrk -t2 -c256 -d"${secs}s" --latency "$@" "$url" >"$work/$name.txt" 2>&1
  c1=$(cpu_ticks $coord_pid); f1=$(cpu_ticks $fe_pid)
  reqs=$(awk '/requests in/{print $1}' "$work/$name.txt")
  awk -v label="$label" -v name="$name" -v reqs="$reqs" -v hz="$hz" -v c="$((c1 - c0))" \
    -v f="$((f1 - f0))" -v load="$(cut -d' ' -f1 /proc/loadavg)" \
    -v rps="$(awk '/Requests\/sec/{print $2}' "$work/$name.txt")" \
    -v p99="$(awk '$1=="99%"{print $2}' "$work/$name.txt")" \
    'BEGIN { printf "%-10s %-7s %9s req/s  p99 %-9s coordinator %5.1f us/req  frontend %5.1f us/req  load %s\n",
             label, name, rps, p99, c / hz / reqs * 1e6, f / hz / reqs * 1e6, load }'
}
run static "http://127.0.0.1:$http_port/login"
run api_me "http://127.0.0.1:$http_port/api/me" -H "Cookie: pc_session=$token"
