#!/usr/bin/env bash
# Drive transfer benchmark, side by side in one run on this machine: one file (1 GiB of
# random bytes by default), one client (curl), uploaded and downloaded
#   - by nginx (Debian) from its own config: GET with sendfile, WebDAV PUT (`dav_methods`,
#     no fsync), its body temp files on the same disk as the target;
#   - by PennCloud through the coordinator :8000 (WebDAV PUT and GET, Basic login), on a
#     fresh cluster per round: a 3-replica KVS group (fsync, mutual TLS), the coordinator
#     and one frontend, started as web_bench.sh starts them.
# Several builds can be given (--build DIR, repeated): the rounds alternate between them
# (nginx, A, B, nginx, A, B, ...), so an old and a new build meet the same machine load.
# Every round checks the downloaded bytes' SHA-256 against the file's (in one more download,
# untimed: the timed ones go to /dev/null, as the anchor figures were taken), and records each
# PennCloud process's peak RSS (VmHWM) over the upload and over the download (the mark is
# reset between them through /proc/<pid>/clear_refs), and the bytes the cluster wrote to
# disk during the upload.
#
# Usage: stress_test/drive_transfer_bench.sh [--build DIR]... [--size MiB] [--rounds N]
#                                            [--perf]
#   defaults: --build build/release, --size 1024, --rounds 3
#   --perf: `perf record -g` of the whole cluster (frontend, coordinator, the three replicas)
#   for each PennCloud transfer, into the results folder (slows the transfers); read it with
#   `perf report -i FILE --sort comm` (the busiest kvs_server is the leader).
# Output: a summary on stdout (medians, ratios to nginx, peak RSS) and the raw figures in
# stress_test/results/drive-xfer-<time>/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
builds=()
size_mb=1024
rounds=3
use_perf=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) builds+=("$(cd "$2" && pwd)"); shift 2 ;;
    --size) size_mb=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --perf) use_perf=1; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ ${#builds[@]} -gt 0 ]] || builds=("$root/build/release")
[[ $size_mb =~ ^[0-9]+$ && $size_mb -ge 1 && $size_mb -le 8192 ]] ||
  { echo "--size: 1-8192 MiB" >&2; exit 2; }
[[ $rounds =~ ^[0-9]+$ && $rounds -ge 1 && $rounds -le 20 ]] ||
  { echo "--rounds: 1-20" >&2; exit 2; }
bytes=$((size_mb << 20))
# A transfer slower than about 1 MiB/s fails: 60 s plus 1 s per MiB.
max_s=$((60 + size_mb))

out=$root/stress_test/results/drive-xfer-$(date -u +%Y%m%dT%H%M%S)
mkdir -p "$out"
# The cluster's stores, nginx's files and the test file share one disk.
work=$(mktemp -d /var/tmp/penncloud-drivexfer-XXXXXX)
pids=()
stop_cluster() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  pids=()
}
cleanup() {
  stop_cluster
  cp "$work"/cluster-*/*.log "$out/" 2>/dev/null || true
  [[ -f $work/nginx/nginx.pid ]] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
  sleep 0.3
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1 300); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "port $1 never opened" >&2
  return 1
}

echo "making a ${size_mb} MiB file of random bytes"
openssl rand -out "$work/file" "$bytes"
want_sha=$(sha256sum "$work/file" | cut -d' ' -f1)

# --- nginx, own config ---
nginx_port=$(free_port)
mkdir -p "$work/nginx/html" "$work/nginx/tmp" "$work/nginx/put"
chmod 755 "$work"
chown nobody "$work/nginx/put" "$work/nginx/tmp"
cp "$work/file" "$work/nginx/html/file"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx/tmp/body;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { root $work/nginx/html; }
    location /put/ {
      root $work/nginx;
      dav_methods PUT DELETE;
      create_full_put_path on;
      client_max_body_size 0;
    }
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx"
wait_port "$nginx_port"

# --- one PennCloud cluster: 3 KVS replicas, coordinator, one frontend ---
"$root/scripts/lib/tls.sh" ca "$work/tls" >/dev/null
issue() { "$root/scripts/lib/tls.sh" issue "$work/tls" "$1" "$2" 127.0.0.1 >/dev/null; }
for i in 1 2 3; do issue "kvs-$i" "replica/0/$i"; done
issue coordinator coordinator/coordinator
issue frontend service/frontend/frontend

declare -A role  # pid -> process name, for the RSS table
start_cluster() {  # build_dir data_dir
  local bin=$1/bin data=$2
  k=("$(free_port)" "$(free_port)" "$(free_port)")
  local peers="1=127.0.0.1:${k[0]},2=127.0.0.1:${k[1]},3=127.0.0.1:${k[2]}"
  spec="127.0.0.1:${k[0]},127.0.0.1:${k[1]},127.0.0.1:${k[2]}"
  for i in 1 2 3; do
    "$bin/kvs_server" --id=$i --peers="$peers" --client_addrs="$peers" --node_name="kvs-$i" \
      --tls_dir="$work/tls" --listen=127.0.0.1:${k[$((i - 1))]} --data_dir="$data/kvs$i" \
      >"$data/kvs$i.log" 2>&1 &
    pids+=($!); role[$!]=kvs-$i
  done
  local grpc_port fe_port
  http_port=$(free_port); grpc_port=$(free_port); fe_port=$(free_port)
  "$bin/coordinator" --http_port=$http_port --grpc_port=$grpc_port --kvs="$spec" \
    --node_name=coordinator --tls_dir="$work/tls" >"$data/coord.log" 2>&1 &
  pids+=($!); role[$!]=coordinator
  "$bin/frontend" --port=$fe_port --kvs="$spec" --coordinator=127.0.0.1:$grpc_port \
    --node_name=frontend --tls_dir="$work/tls" --web_root="$root/web" --drive_versions=0 \
    >"$data/fe.log" 2>&1 &
  pids+=($!); role[$!]=frontend
  wait_port "$http_port"; wait_port "$fe_port"
  # Ready once a login is refused (the store answered); sign-ups are rate-limited per
  # address, so only then the one sign-up.
  local code=
  for _ in $(seq 1 300); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$http_port/api/login" \
      -d '{"username":"nobody","password":"nobody-nobody"}' || true)
    [[ $code == 401 ]] && break
    sleep 0.1
  done
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$http_port/api/signup" \
    -d '{"username":"bench","password":"bench-password"}' || true)
  [[ $code == 200 || $code == 201 ]] && return 0
  echo "cluster not ready (sign-up answered $code); logs in $data" >&2
  return 1
}

reset_hwm() { for p in "${pids[@]}"; do echo 5 >"/proc/$p/clear_refs"; done; }
# Bytes the whole cluster has handed to the disk so far (write_bytes of /proc/<pid>/io), to
# show how many times the file the store writes per upload.
disk_written() {
  local sum=0
  for p in "${pids[@]}"; do sum=$((sum + $(awk '/^write_bytes/{print $2}' "/proc/$p/io"))); done
  echo "$sum"
}
peak_rss() {  # -> "name=MiB ..." for every process of the cluster
  local line=
  for p in "${pids[@]}"; do
    local kb
    kb=$(awk '/^VmHWM/{print $2}' "/proc/$p/status")
    line+="${role[$p]}=$((kb / 1024)) "
  done
  echo "$line"
}
# One perf for the whole cluster; its report splits by process (`--sort comm` or `pid`).
perf_pid=
perf_start() {  # label
  ((use_perf)) || return 0
  perf record -g -F 499 -p "$(IFS=,; echo "${pids[*]}")" -o "$out/perf-$1.data" >/dev/null 2>&1 &
  perf_pid=$!
}
perf_stop() {
  ((use_perf)) || return 0
  kill -INT "$perf_pid" 2>/dev/null || true
  wait "$perf_pid" 2>/dev/null || true
}

mbps() { awk -v b="$bytes" -v t="$1" 'BEGIN { printf "%.1f", b / t / 1e6 }'; }
# curl PUT and GET, each bounded; print seconds. The timed GET writes to /dev/null, as the
# anchor figures were taken; verify() downloads once more, untimed, through SHA-256.
put() {  # url [curl args...]
  local url=$1; shift
  curl -sS --fail --max-time "$max_s" -o /dev/null -w '%{time_total}' -T "$work/file" "$@" "$url"
}
get() {  # url [curl args...]
  local url=$1; shift
  curl -sS --fail --max-time "$max_s" -o /dev/null -w '%{time_total}' "$@" "$url"
}
verify() {  # url [curl args...]
  local url=$1 got; shift
  got=$(curl -sS --fail --max-time "$max_s" "$@" "$url" | sha256sum | cut -d' ' -f1)
  [[ $got == "$want_sha" ]] || { echo "SHA-256 mismatch from $url: $got, want $want_sha" >&2; exit 1; }
}

names=(nginx A B C D E F G H)
((${#builds[@]} <= 8)) || { echo "at most 8 builds" >&2; exit 2; }
echo "size ${size_mb} MiB, $rounds rounds, $(nproc) cores shared by curl and the servers;" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/summary.txt"
for i in "${!builds[@]}"; do echo "build ${names[$((i + 1))]}: ${builds[$i]}" | tee -a "$out/summary.txt"; done
printf '%s\n' "system round upload_s download_s" >"$out/raw.txt"

for r in $(seq 1 "$rounds"); do
  up=$(put "http://127.0.0.1:$nginx_port/put/file")
  down=$(get "http://127.0.0.1:$nginx_port/put/file")
  verify "http://127.0.0.1:$nginx_port/put/file"
  rm -f "$work/nginx/put/file"
  echo "nginx $r $up $down" >>"$out/raw.txt"
  echo "round $r nginx: up $(mbps "$up") MB/s, down $(mbps "$down") MB/s"
  for i in "${!builds[@]}"; do
    name=${names[$((i + 1))]}
    data=$work/cluster-$name-$r
    mkdir -p "$data"
    start_cluster "${builds[$i]}" "$data"
    auth=(-u bench:bench-password)
    reset_hwm
    echo "$name $r before the transfers MiB: $(peak_rss)" >>"$out/rss.txt"
    written=$(disk_written)
    perf_start "$name$r-up"
    # A failed upload (a 5xx while the store has no leader, on a loaded machine) is counted
    # and the round goes on; the medians are over the rounds that finished.
    if ! up=$(put "http://127.0.0.1:$http_port/dav/file" "${auth[@]}"); then
      perf_stop
      echo "round $r $name: upload failed" | tee -a "$out/failures.txt"
      stop_cluster
      cp "$data"/*.log "$out/" 2>/dev/null || true
      rm -rf "$data"
      continue
    fi
    perf_stop
    rss_up=$(peak_rss)
    written=$(awk -v a="$written" -v b="$(disk_written)" -v n="$bytes" \
      'BEGIN { printf "%.0f MiB (%.1fx the file)", (b - a) / 1048576, (b - a) / n }')
    reset_hwm
    perf_start "$name$r-down"
    down=$(get "http://127.0.0.1:$http_port/dav/file" "${auth[@]}")
    perf_stop
    rss_down=$(peak_rss)
    verify "http://127.0.0.1:$http_port/dav/file" "${auth[@]}"
    echo "$name $r $up $down" >>"$out/raw.txt"
    echo "$name $r upload peak MiB: $rss_up" >>"$out/rss.txt"
    echo "$name $r download peak MiB: $rss_down" >>"$out/rss.txt"
    echo "$name $r written to disk during the upload: $written" >>"$out/rss.txt"
    echo "round $r $name: up $(mbps "$up") MB/s, down $(mbps "$down") MB/s;" \
      "peak RSS MiB up: $rss_up; down: $rss_down; disk writes during the upload: $written"
    stop_cluster
    cp "$data"/*.log "$out/" 2>/dev/null || true
    rm -rf "$data"
  done
done

# Medians in MB/s and the ratio of each build to nginx.
awk -v b="$bytes" 'NR > 1 { up[$1] = up[$1] " " b / $3 / 1e6; down[$1] = down[$1] " " b / $4 / 1e6 }
  function median(list,   n, v, i, j, t) {
    n = split(list, v, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  END {
    nu = median(up["nginx"]); nd = median(down["nginx"])
    printf "%-6s upload %8.1f MB/s            download %8.1f MB/s\n", "nginx", nu, nd
    for (s in up) if (s != "nginx") {
      u = median(up[s]); d = median(down[s])
      printf "%-6s upload %8.1f MB/s (%.3fx)   download %8.1f MB/s (%.3fx)\n", s, u, u / nu, d, d / nd
    }
  }' "$out/raw.txt" | tee -a "$out/summary.txt"
awk '/(upload|download) peak/ { for (i = 6; i <= NF; i++) { split($i, kv, "="); k = $1 " " kv[1]; if (kv[2] + 0 > peak[k] + 0) peak[k] = kv[2] } }
  END { for (k in peak) printf "peak RSS over all rounds: %s %d MiB\n", k, peak[k] }' \
  "$out/rss.txt" | tee -a "$out/summary.txt"
[[ -f $out/failures.txt ]] && tee -a "$out/summary.txt" <"$out/failures.txt"
echo "raw figures: $out"
