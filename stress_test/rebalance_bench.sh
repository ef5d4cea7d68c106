#!/usr/bin/env bash
# Time to rebalance when a fourth group joins a loaded PennCloud cluster (issue 4), and
# client throughput and p99 before and during the move.
#
# Starts a config group and three data groups of three kvs_server replicas each on
# loopback (as scripts/start.sh lays them out, but on ports 28001-28043 with state in a
# temp folder), loads SIZE_MB of 64 KiB values through the sharded client (kvs_bench's
# preload), measures a steady kvs_bench load, then runs `kvsctl group add 4@...` and
# measures the same steady load while the ranges move. Prints one RESULT line (JSON).
#
# usage: stress_test/rebalance_bench.sh [--size-mb N] [--parallel N] [--duration S]
#                                       [--build DIR] [--no-build] [--keep]
#   --size-mb N    data loaded before group 4 joins (default 1024 = 1 GiB)
#   --parallel N   ranges the rebalancer moves at once (default 4)
#   --duration S   measured seconds of each steady load (default 15)
#   --build DIR    CMake build folder (default build/bench); built here unless --no-build
#   --keep         leave the state folder (its path is printed) instead of deleting it
# Every process speaks mutual TLS, as in production: a throw-away cluster CA in the state
# folder and a certificate per process (scripts/lib/tls.sh, the script start.sh uses).
# Results (server logs, kvsctl output, kvs_bench reports) go to
# stress_test/results/rebalance-<UTC time>/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build/bench"
SIZE_MB=1024
PARALLEL=4
DURATION=15
DO_BUILD=1
KEEP=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --size-mb) SIZE_MB=$2; shift 2 ;;
    --parallel) PARALLEL=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "rebalance_bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

BIN="$BUILD/bin"
RUN="$ROOT/stress_test/results/rebalance-$(date -u +%Y%m%dT%H%M%SZ)"
STATE=$(mktemp -d /tmp/penncloud-rebalance-bench.XXXXXX)
mkdir -p "$RUN"
PY=/usr/bin/python3
ADDR=127.0.0.1
PORT_BASE=28000
VALUE_BYTES=65536
LOAD_CLIENTS=16

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
port() { echo $((PORT_BASE + 10 * $1 + $2)); }  # group (0 = config), replica
peers() { echo "1=$ADDR:$(port "$1" 1),2=$ADDR:$(port "$1" 2),3=$ADDR:$(port "$1" 3)"; }
CONFIG="$ADDR:$(port 0 1),$ADDR:$(port 0 2),$ADDR:$(port 0 3)"

PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if ((KEEP)); then log "state kept in $STATE"; else rm -rf "$STATE"; fi
}
trap cleanup EXIT

if ((DO_BUILD)); then
  log "building kvs_server kvsctl kvs_bench in $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >"$RUN/build.log"
  ninja -C "$BUILD" kvs_server kvsctl kvs_bench >>"$RUN/build.log"
fi
for b in kvs_server kvsctl kvs_bench; do
  [[ -x $BIN/$b ]] || { echo "rebalance_bench.sh: $BIN/$b missing" >&2; exit 1; }
done
for g in 0 1 2 3 4; do
  for r in 1 2 3; do
    if ss -Hltn "sport = :$(port "$g" "$r")" | grep -q .; then
      echo "rebalance_bench.sh: port $(port "$g" "$r") is in use" >&2
      exit 1
    fi
  done
done

# Certificates: each process finds <node name>.crt/.key in --tls_dir; kvsctl and kvs_bench
# hold operator (admin) certificates under the names they look for.
TLS="$STATE/tls"
tls_issue() { bash "$ROOT/scripts/lib/tls.sh" issue "$TLS" "$1" "$2" "$ADDR"; }
bash "$ROOT/scripts/lib/tls.sh" ca "$TLS"
tls_issue kvsctl admin/kvsctl
tls_issue kvs-bench admin/kvs-bench
KVSCTL=("$BIN/kvsctl" --tls_dir="$TLS")
KVS_BENCH=("$BIN/kvs_bench" --tls_dir="$TLS")

start_group() {  # group id (0 = config)
  local g=$1 r extra=()
  ((g > 0)) && extra=(--group="$g" --config="$CONFIG")
  for r in 1 2 3; do
    tls_issue "kvs-g$g-r$r" "replica/$g/$r"
    "$BIN/kvs_server" --id="$r" --peers="$(peers "$g")" --data_dir="$STATE/g$g-r$r" \
      --node_name="kvs-g$g-r$r" --tls_dir="$TLS" "${extra[@]}" >"$RUN/kvs-g$g-r$r.log" 2>&1 &
    PIDS+=($!)
  done
}

log "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for g in 0 1 2 3 4; do start_group "$g"; done
for _ in $(seq 1 150); do
  "${KVSCTL[@]}" --group="$CONFIG" status >/dev/null 2>&1 && break
  sleep 0.2
done
"${KVSCTL[@]}" --config="$CONFIG" cluster init "1@$(peers 1)" "2@$(peers 2)" "3@$(peers 3)" \
  >"$RUN/init.txt"

keys_per_client=$(((SIZE_MB * 1024 * 1024 / VALUE_BYTES + LOAD_CLIENTS - 1) / LOAD_CLIENTS))
log "loading $SIZE_MB MiB: $LOAD_CLIENTS clients x $keys_per_client values of 64 KiB"
load_start=$(date +%s.%N)
"${KVS_BENCH[@]}" --kvs="config=$CONFIG" --clients=$LOAD_CLIENTS --conns=4 \
  --value_size=$VALUE_BYTES --keys_per_client="$keys_per_client" --read_fraction=0 \
  --key_prefix=data --warmup=0 --duration=0.1 >"$RUN/load.txt" 2>&1 || true
load_s=$($PY -c "import time; print(round(time.time() - $load_start, 1))")
log "loaded in ${load_s}s; $(du -sh "$STATE" | cut -f1) on disk (3 replicas per group)"

steady() {  # name: a steady mixed load of small values on rows of its own
  "${KVS_BENCH[@]}" --kvs="config=$CONFIG" --clients=8 --conns=2 --value_size=1024 \
    --keys_per_client=64 --read_fraction=0.5 --key_prefix="steady-$1" --warmup=2 \
    --duration="$DURATION" >"$RUN/steady-$1.txt" 2>&1 || true
}

log "steady load before the move (${DURATION}s)"
steady before

log "adding group 4 (--parallel=$PARALLEL)"
move_start=$(date +%s.%N)
"${KVSCTL[@]}" --config="$CONFIG" --parallel="$PARALLEL" --timeout_ms=60000 \
  group add "4@$(peers 4)" >"$RUN/group-add.txt" 2>"$RUN/group-add.err" &
add_pid=$!
(
  while kill -0 "$add_pid" 2>/dev/null; do
    echo "$(date -u +%H:%M:%S) $("${KVSCTL[@]}" --config="$CONFIG" rebalance progress 2>&1)"
    sleep 5
  done
) >"$RUN/progress.txt" &
progress_pid=$!
sleep 1
during_start=$(date +%s.%N)
steady during
during_end=$(date +%s.%N)
add_status=0
wait "$add_pid" || add_status=$?
move_end=$(date +%s.%N)
wait "$progress_pid" || true
if ((add_status != 0)); then
  tail -n 20 "$RUN/group-add.err" >&2
  echo "rebalance_bench.sh: group add failed (exit $add_status)" >&2
  exit 1
fi
"${KVSCTL[@]}" --config="$CONFIG" cluster status >"$RUN/status-after.txt" 2>&1 || true
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

$PY - "$RUN" "$move_start" "$move_end" "$during_start" "$during_end" "$SIZE_MB" "$load_s" \
  "$PARALLEL" "$((LOAD_CLIENTS * keys_per_client))" <<'EOF'
import json, re, sys
run, move_start, move_end, during_start, during_end = sys.argv[1], *map(float, sys.argv[2:6])
size_mb, load_s, parallel, values = int(sys.argv[6]), float(sys.argv[7]), int(sys.argv[8]), int(sys.argv[9])

def result(name):
    for line in open(f"{run}/{name}"):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise SystemExit(f"no RESULT line in {run}/{name}")

def summary(r):
    keys = ("throughput", "p50_ms", "p99_ms", "p999_ms", "ok", "errors", "wrong_reads",
            "longest_gap_ms")
    return {k: r[k] for k in keys}

moved = None
for line in open(f"{run}/group-add.err"):
    m = re.search(r"(\d+)/(\d+) ranges moved.*?, (\d+) bytes", line)
    if m:
        moved = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
# A preload write that failed (client deadline on a slow machine) is simply not there.
loaded = values - result("load.txt")["preload_errors"]
out = {
    "size_mb": size_mb,
    "values_loaded": loaded,
    "mib_loaded": round(loaded * 65536 / (1 << 20), 1),
    "load_s": load_s,
    "parallel": parallel,
    "rebalance_s": round(move_end - move_start, 1),
    "ranges_moved": moved[0] if moved else None,
    "ranges_total": moved[1] if moved else None,
    "bytes_moved": moved[2] if moved else None,
    "before": summary(result("steady-before.txt")),
    "during": summary(result("steady-during.txt")),
    # The "during" load is only a fair sample of the move if it ended before the move did.
    "during_inside_move": during_end <= move_end,
}
if moved and out["rebalance_s"] > 0:
    out["moved_mib_per_s"] = round(moved[2] / (1 << 20) / out["rebalance_s"], 1)
print("RESULT " + json.dumps(out))
EOF
