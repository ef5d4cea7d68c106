#!/usr/bin/env bash
# Web tier benchmark, side by side in one run on this machine:
#   1. nginx (Debian) serving web/login.html       wrk -t2 -c256, alone, before PennCloud starts
#   2. one frontend directly, GET /login            (the same file)
#   3. the coordinator :8000, GET /login            (the page from the coordinator's own copy)
#   3b. a second coordinator with --serve_static=false, GET /login (proxy -> frontend)
#   4. authenticated GET /api/me through :8000 at 256 connections (session checked in the
#      real 3-replica KVS on every request)
#   5. nginx with TLS (1.2/1.3, the same EC P-256 certificate) serving web/login.html, also alone
#   6. the coordinator's HTTPS listener, GET /login (TLS, the coordinator's copy)
#   wrk keeps its connections alive, so 5 and 6 measure TLS records, not handshakes.
# Usage: stress_test/web_bench.sh [build_dir] [seconds]   (default build/release, 15 s)
# Output: a summary on stdout and raw wrk output in stress_test/results/web-<time>/.
# wrk shares the 2 cores with the servers (it takes 35-45% of them): ratios are what count.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
secs=${2:-15}
bin=$build/bin
out=$root/stress_test/results/web-$(date -u +%Y%m%dT%H%M%S)
mkdir -p "$out"
work=$(mktemp -d /tmp/penncloud-webbench-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -f $work/nginx/nginx.pid ]] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
  sleep 0.3
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 200); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

# --- one certificate for both TLS servers, from a throw-away cluster CA ---
"$root/scripts/lib/tls.sh" ca "$work/tls"
"$root/scripts/lib/tls.sh" issue "$work/tls" https web/https 127.0.0.1

# --- nginx, own config ---
nginx_port=$(free_port)
nginx_tls_port=$(free_port)
mkdir -p "$work/nginx/html" "$work/nginx/tmp"
chmod 755 "$work"  # nginx workers run as nobody (the master reads the key as us)
cp "$root/web/login.html" "$work/nginx/html/login"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx/tmp/body;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  default_type text/html;
  server { listen 127.0.0.1:$nginx_port; root $work/nginx/html; }
  server {
    listen 127.0.0.1:$nginx_tls_port ssl;
    ssl_certificate $work/tls/https.crt;
    ssl_certificate_key $work/tls/https.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $work/nginx/html;
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx"
wait_port "$nginx_port"

run() {  # name url [extra wrk args...]
  local name=$1 url=$2; shift 2
  wrk -t2 -c256 -d"${secs}s" --latency "$@" "$url" >"$out/$name.txt" 2>&1
  local rps p99 errs
  rps=$(awk '/Requests\/sec/{print $2}' "$out/$name.txt")
  p99=$(awk '$1=="99%"{print $2}' "$out/$name.txt")
  errs=$(awk '/Non-2xx|Socket errors/{printf "%s ", $0}' "$out/$name.txt")
  printf '%-28s %12s req/s   p99 %-10s %s\n' "$name" "$rps" "$p99" "${errs:-no errors}" | tee -a "$out/summary.txt"
}

echo "wrk -t2 -c256 -d${secs}s, $(nproc) cores shared by wrk and the servers" | tee "$out/summary.txt"
# nginx runs alone, before any PennCloud process starts, as its reference figure was taken
# (../shared/docs/ANCHORS.md): an idle cluster's heartbeats would take CPU from it.
run nginx_static "http://127.0.0.1:$nginx_port/login"
run nginx_static_tls "https://127.0.0.1:$nginx_tls_port/login"
kill "$(cat "$work/nginx/nginx.pid")"

# --- PennCloud: 3 KVS replicas, coordinator, one frontend ---
# Internal gRPC is mutual TLS, as in production: a certificate per process from the CA
# above (scripts/lib/tls.sh, the script start.sh uses), each found by its node name in
# --tls_dir.
issue() { "$root/scripts/lib/tls.sh" issue "$work/tls" "$1" "$2" 127.0.0.1; }
k=($(free_port) $(free_port) $(free_port))
peers="1=127.0.0.1:${k[0]},2=127.0.0.1:${k[1]},3=127.0.0.1:${k[2]}"
spec="127.0.0.1:${k[0]},127.0.0.1:${k[1]},127.0.0.1:${k[2]}"
for i in 1 2 3; do
  issue "kvs-$i" "replica/0/$i"
  "$bin/kvs_server" --id=$i --peers="$peers" --client_addrs="$peers" --node_name="kvs-$i" \
    --tls_dir="$work/tls" --listen=127.0.0.1:${k[$((i-1))]} --data_dir="$work/kvs$i" \
    >"$work/kvs$i.log" 2>&1 &
  pids+=($!)
done
http_port=$(free_port); grpc_port=$(free_port); fe_port=$(free_port); https_port=$(free_port)
proxied_port=$(free_port); proxied_grpc_port=$(free_port)
issue coordinator coordinator/coordinator
issue frontend service/frontend/frontend
"$bin/coordinator" --http_port=$http_port --grpc_port=$grpc_port --kvs="$spec" \
  --node_name=coordinator --tls_dir="$work/tls" \
  --https_port=$https_port --tls_cert="$work/tls/https.crt" --tls_key="$work/tls/https.key" \
  --max_connections_per_address=0 >"$work/coord.log" 2>&1 &  # wrk: one address, 256 conns
pids+=($!)
"$bin/coordinator" --http_port=$proxied_port --grpc_port=$proxied_grpc_port --kvs="$spec" \
  --node_name=coordinator --tls_dir="$work/tls" --serve_static=false \
  --max_connections_per_address=0 >"$work/coord-proxied.log" 2>&1 &
pids+=($!)
"$bin/frontend" --port=$fe_port --kvs="$spec" \
  --coordinator=127.0.0.1:$grpc_port,127.0.0.1:$proxied_grpc_port \
  --node_name=frontend --tls_dir="$work/tls" --web_root="$root/web" >"$work/fe.log" 2>&1 &
pids+=($!)
wait_port "$http_port"; wait_port "$proxied_port"; wait_port "$fe_port"
for _ in $(seq 1 300); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$http_port/api/login" \
    -d '{"username":"nobody","password":"nobody-nobody"}' || true)
  [[ $code == 401 ]] && break
  sleep 0.1
done
[[ $code == 401 ]] || { echo "web tier not ready (last $code)"; exit 1; }

curl -s -c "$work/jar" -X POST "http://127.0.0.1:$http_port/api/signup" \
  -d '{"username":"bench","password":"bench-password"}' >/dev/null
token=$(awk '$6=="pc_session"{print $7}' "$work/jar")
[[ -n $token ]] || { echo "signup failed"; exit 1; }

run frontend_static "http://127.0.0.1:$fe_port/login"
run coordinator_static "http://127.0.0.1:$http_port/login"
run coordinator_static_proxied "http://127.0.0.1:$proxied_port/login"
run coordinator_api_me "http://127.0.0.1:$http_port/api/me" -H "Cookie: pc_session=$token"
run coordinator_static_tls "https://127.0.0.1:$https_port/login"
rate() { awk '/Requests\/sec/{print $2}' "$out/$1.txt"; }
awk -v a="$(rate coordinator_static)" -v b="$(rate nginx_static)" \
  -v c="$(rate coordinator_static_tls)" -v d="$(rate nginx_static_tls)" \
  -v e="$(rate coordinator_static_proxied)" \
  'BEGIN { printf "coordinator/nginx: static %.2fx (proxied to the frontend %.2fx), static over TLS %.2fx\n", a / b, e / b, c / d }' |
  tee -a "$out/summary.txt"
echo "raw output: $out"
