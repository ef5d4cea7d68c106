#!/usr/bin/env bash
# PennCloud's KVS against etcd 3.4 on this machine, side by side.
#
# Starts a fresh 3-member etcd cluster and a fresh 3-replica PennCloud group on loopback,
# runs the same kvs_bench workloads against each (alternating), then SIGKILLs each leader
# under write load and times the pause until writes are acknowledged again. Prints a table
# with ratios and the targets of issue 3.
# Servers and load generator share the machine's cores, as they would in any one-box test.
#
# usage: stress_test/kvs_vs_etcd.sh [--duration S] [--warmup S] [--only etcd|penncloud]
#                                   [--build DIR] [--no-build] [--etcd-all-members]
#   --duration S        measured seconds per workload (default 20)
#   --warmup S          unmeasured seconds of load before each (default 3)
#   --only SYSTEM       run just one side (the table then shows one column)
#   --build DIR         CMake build folder (default build/bench); built here unless --no-build
#   --etcd-all-members  spread etcd clients over all three members (default: the leader
#                       only, which spares etcd the follower-to-leader forwarding hop)
# Results (logs, JSON, table) go to stress_test/results/<UTC time>/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build/bench"
DURATION=20
WARMUP=3
ONLY=""
DO_BUILD=1
ETCD_ALL=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    --etcd-all-members) ETCD_ALL=1; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "kvs_vs_etcd.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

BIN="$BUILD/bin"
RUN="$ROOT/stress_test/results/kvs-vs-etcd-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$RUN"
PY=/usr/bin/python3

ETCD_CLIENT_PORTS=(23791 23792 23793)
ETCD_PEER_PORTS=(23801 23802 23803)
ETCD_ENDPOINTS="127.0.0.1:23791,127.0.0.1:23792,127.0.0.1:23793"
KVS_PORTS=(27011 27012 27013)
KVS_SPEC="127.0.0.1:27011,127.0.0.1:27012,127.0.0.1:27013"
KVS_PEERS="1=127.0.0.1:27011,2=127.0.0.1:27012,3=127.0.0.1:27013"

declare -A ETCD_PIDS=() KVS_PIDS=()

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

# Stops every server this script started and waits for each to exit.
stop_pids() {
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
cleanup() {
  stop_pids "${ETCD_PIDS[@]}" "${KVS_PIDS[@]}"
}
trap cleanup EXIT

port_busy() { ss -Hltn "sport = :$1" | grep -q .; }
require_free() {
  local p
  for p in "$@"; do
    if port_busy "$p"; then echo "kvs_vs_etcd.sh: port $p is in use" >&2; exit 1; fi
  done
}

if [[ $DO_BUILD == 1 ]]; then
  log "building kvs_bench kvs_server kvsctl in $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$BUILD" -j2 kvs_bench kvs_server kvsctl >/dev/null
fi

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "etcd: $(etcd --version | head -1)"
  tree="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if git -C "$ROOT" status --porcelain -- kvs proto 2>/dev/null | grep -q .; then
    tree+=" (+ uncommitted changes under kvs/ or proto/)"
  fi
  echo "PennCloud tree: $tree"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "duration: ${DURATION}s measured, ${WARMUP}s warm-up per workload"
} >"$RUN/machine.txt"

# name|kvs_bench flags
WORKLOADS=(
  "write64|--clients=64 --read_fraction=0 --value_size=128"
  "read90|--clients=64 --read_fraction=0.9 --value_size=128"
  "write1|--clients=1 --read_fraction=0 --value_size=128"
)

# run_one SYSTEM WORKLOAD TARGET_FLAGS...
run_one() {
  local system=$1 w=$2; shift 2
  local name=${w%%|*} flags=${w#*|}
  log "$system $name"
  # shellcheck disable=SC2086
  "$BIN/kvs_bench" "$@" $flags --duration="$DURATION" --warmup="$WARMUP" \
    --key_prefix="$name" >"$RUN/$system-$name.txt" 2>&1 || true
  grep '^RESULT ' "$RUN/$system-$name.txt" | sed 's/^RESULT //' >"$RUN/$system-$name.json" || true
  grep -E 'throughput|all +latency' "$RUN/$system-$name.txt" >&2 || true
}

# failover SYSTEM KILL_PID TARGET_FLAGS...: 4 writing clients; SIGKILL the pid after 3 s.
# Writes already committed may still be acknowledged a moment after the kill, so the
# failover time is taken from the kill to the end of the longest pause in acknowledgements
# that ends after it: when writes flow again.
failover() {
  local system=$1 pid=$2; shift 2
  local out="$RUN/$system-failover"
  "$BIN/kvs_bench" "$@" --clients=4 --read_fraction=0 --duration=8 --warmup=0 \
    --key_prefix=failover --completions_out="$out.completions" >"$out.txt" 2>&1 &
  local bench=$!
  sleep 3
  local kill_us
  kill_us=$(date +%s%6N)
  kill -KILL "$pid"
  wait "$bench" || true
  $PY - "$out.completions" "$kill_us" >"$out.json" <<'PYEOF'
import json, sys
times = [int(x) for x in open(sys.argv[1]) if x.strip()]
kill = int(sys.argv[2])
after = [t for t in times if t > kill]
before = [t for t in times if t <= kill]
pause = max(((times[i] - times[i - 1], times[i]) for i in range(1, len(times))
             if times[i] > kill), default=None)
print(json.dumps({
    "kill_unix_us": kill,
    "first_ack_after_kill_ms": (after[0] - kill) / 1000 if after else None,
    "longest_pause_ms": pause[0] / 1000 if pause else None,
    "failover_ms": (pause[1] - kill) / 1000 if pause else None,
    "acks_after_kill": len(after),
    "acks_before_kill": len(before),
}))
PYEOF
  log "$system failover: $(cat "$out.json")"
}

# ---- etcd ----------------------------------------------------------------------------
start_etcd() {
  require_free "${ETCD_CLIENT_PORTS[@]}" "${ETCD_PEER_PORTS[@]}"
  local cluster="" i
  for i in 1 2 3; do cluster+="${cluster:+,}e$i=http://127.0.0.1:2380$i"; done
  for i in 1 2 3; do
    mkdir -p "$RUN/etcd"
    etcd --name "e$i" --data-dir "$RUN/etcd/e$i" \
      --listen-client-urls "http://127.0.0.1:2379$i" \
      --advertise-client-urls "http://127.0.0.1:2379$i" \
      --listen-peer-urls "http://127.0.0.1:2380$i" \
      --initial-advertise-peer-urls "http://127.0.0.1:2380$i" \
      --initial-cluster "$cluster" --initial-cluster-token "kvs-vs-etcd-$$" \
      --initial-cluster-state new >"$RUN/etcd/e$i.log" 2>&1 &
    ETCD_PIDS[$i]=$!
  done
  for _ in $(seq 1 150); do
    if etcdctl --endpoints="$ETCD_ENDPOINTS" endpoint health >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "kvs_vs_etcd.sh: etcd did not become healthy; see $RUN/etcd/" >&2
  exit 1
}

# Prints "<member number> <host:port>" of the etcd leader.
etcd_leader() {
  etcdctl --endpoints="$ETCD_ENDPOINTS" endpoint status -w json | $PY -c '
import json, sys
for s in json.load(sys.stdin):
    st = s["Status"]
    if st["header"]["member_id"] == st["leader"]:
        ep = s["Endpoint"].replace("http://", "")
        print(ep[-1], ep)
'
}

stop_etcd() {
  stop_pids "${ETCD_PIDS[@]}"
  ETCD_PIDS=()
  rm -rf "$RUN/etcd"/e?  # data only; logs stay
}


# ---- PennCloud -----------------------------------------------------------------------
start_kvs() {
  require_free "${KVS_PORTS[@]}"
  local i
  mkdir -p "$RUN/kvs"
  for i in 1 2 3; do
    "$BIN/kvs_server" --id="$i" --peers="$KVS_PEERS" --data_dir="$RUN/kvs/r$i" \
      --log_level=warn >"$RUN/kvs/r$i.log" 2>&1 &
    KVS_PIDS[$i]=$!
  done
  for _ in $(seq 1 150); do
    if [[ -n $(kvs_leader) ]]; then return 0; fi
    sleep 0.2
  done
  echo "kvs_vs_etcd.sh: no PennCloud leader elected; see $RUN/kvs/" >&2
  exit 1
}

# Prints the id of the replica that reports itself leader (empty if none).
kvs_leader() {
  "$BIN/kvsctl" --group="$KVS_SPEC" --timeout_ms=1000 status 2>/dev/null |
    sed -n 's/.* id=\([0-9]*\) role=leader .*/\1/p' | head -1
}

# ---- the runs ------------------------------------------------------------------------
# Both clusters stay up (idle costs little) and the workloads alternate between them, so a
# burst of other load on the machine hits both sides alike.
RUN_ETCD=0; RUN_KVS=0
if [[ -z $ONLY || $ONLY == etcd ]]; then RUN_ETCD=1; fi
if [[ -z $ONLY || $ONLY == penncloud ]]; then RUN_KVS=1; fi
if [[ $RUN_ETCD == 1 ]]; then
  log "starting etcd (3 members)"
  start_etcd
  read -r leader_n leader_ep < <(etcd_leader)
  log "etcd leader: e$leader_n at $leader_ep"
  ETCD_BENCH_ENDPOINTS=$leader_ep
  if [[ $ETCD_ALL == 1 ]]; then ETCD_BENCH_ENDPOINTS=$ETCD_ENDPOINTS; fi
fi
if [[ $RUN_KVS == 1 ]]; then
  log "starting PennCloud (3 replicas)"
  start_kvs
  log "PennCloud leader: replica $(kvs_leader)"
fi
# The servers' CPU per operation (kvs_bench --server_pids) is reported beside throughput:
# on a shared machine it moves much less than ops/s.
join_pids() { local IFS=,; echo "$*"; }
for w in "${WORKLOADS[@]}"; do
  if [[ $RUN_ETCD == 1 ]]; then
    run_one etcd "$w" --target=etcd --endpoints="$ETCD_BENCH_ENDPOINTS" \
      --server_pids="$(join_pids "${ETCD_PIDS[@]}")"
  fi
  if [[ $RUN_KVS == 1 ]]; then
    run_one penncloud "$w" --target=penncloud --kvs="$KVS_SPEC" \
      --server_pids="$(join_pids "${KVS_PIDS[@]}")"
  fi
done
if [[ $RUN_ETCD == 1 ]]; then
  read -r leader_n leader_ep < <(etcd_leader)
  # A short RPC deadline, so requests parked on a follower during the election are retried
  # soon after it rather than measuring our client's patience.
  failover etcd "${ETCD_PIDS[$leader_n]}" --target=etcd --endpoints="$ETCD_ENDPOINTS" \
    --conns=3 --etcd_rpc_timeout=0.2
  stop_etcd
fi
if [[ $RUN_KVS == 1 ]]; then
  leader=$(kvs_leader)
  failover penncloud "${KVS_PIDS[$leader]}" --target=penncloud --kvs="$KVS_SPEC"
  stop_pids "${KVS_PIDS[@]}"
  KVS_PIDS=()
  rm -rf "$RUN/kvs"/r?
fi

# ---- the table -----------------------------------------------------------------------
$PY - "$RUN" <<'PYEOF' | tee "$RUN/table.txt"
import json, os, sys
run = sys.argv[1]
def load(name):
    try:
        with open(os.path.join(run, name + ".json")) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return None
print(open(os.path.join(run, "machine.txt")).read().rstrip())
print("load average at end: " + " ".join(open("/proc/loadavg").read().split()[:3]))
print()
rows = [("write64", "100% writes, 128 B, 64 clients"),
        ("read90", "90% lin. reads, 64 clients"),
        ("write1", "100% writes, 1 client")]
def lat(r):
    return "%.2f / %.2f / %.2f" % (r["p50_ms"], r["p99_ms"], r["p999_ms"]) if r else "-"
def ops(r):
    return "%.0f" % r["throughput"] if r else "-"
def ratio(a, b):
    return "%.2fx" % (a / b) if a and b else "-"
print("%-32s %11s %11s %7s   %-24s %-24s %-12s %s" % ("workload", "etcd ops/s", "PennCloud",
      "ratio", "etcd p50/p99/p99.9 ms", "PennCloud p50/p99/p99.9", "bench CPU e/p",
      "errors e/p, wrong reads e/p"))
res = {}
for key, label in rows:
    e, p = load("etcd-" + key), load("penncloud-" + key)
    res[key] = (e, p)
    errs = "%s/%s, %s/%s" % (e["errors"] if e else "-", p["errors"] if p else "-",
                             e["wrong_reads"] if e else "-", p["wrong_reads"] if p else "-")
    cpu = "%s/%s" % ("%.0f%%" % e["bench_cpu_percent"] if e else "-",
                     "%.0f%%" % p["bench_cpu_percent"] if p else "-")
    print("%-32s %11s %11s %7s   %-24s %-24s %-12s %s" % (label, ops(e), ops(p),
          ratio(p and p["throughput"], e and e["throughput"]), lat(e), lat(p), cpu, errs))
print()
def cpu_op(r):
    v = r.get("server_cpu_us_per_op", -1) if r else -1
    return "%.0f" % v if v >= 0 else "-"
print("server CPU per operation, all three members (us):")
for key, label in rows:
    e, p = res[key]
    print("  %-32s etcd %6s   PennCloud %6s" % (label, cpu_op(e), cpu_op(p)))
print()
for sysname in ("etcd", "penncloud"):
    f = load(sysname + "-failover")
    if f:
        print("%s: SIGKILL of the leader -> writes acknowledged again after %s ms "
              "(longest pause %s ms, %d acks after the kill)"
              % (sysname, f["failover_ms"], f["longest_pause_ms"], f["acks_after_kill"]))
print()
def check(name, ok):
    print("  [%s] %s" % ("met" if ok else "NOT met", name))
print("issue 3 targets (PennCloud vs etcd, this run):")
e, p = res["write64"]
if e and p:
    check("write throughput >= 2x etcd (%.2fx) at equal or lower p99 (%.2f vs %.2f ms)"
          % (p["throughput"] / e["throughput"], p["p99_ms"], e["p99_ms"]),
          p["throughput"] >= 2 * e["throughput"] and p["p99_ms"] <= e["p99_ms"])
e, p = res["read90"]
if e and p:
    check("90%%-read throughput >= 2x etcd (%.2fx)" % (p["throughput"] / e["throughput"]),
          p["throughput"] >= 2 * e["throughput"])
e, p = res["write1"]
if e and p:
    check("single-client write p50 within 1.5x etcd (%.2f vs %.2f ms)" % (p["p50_ms"], e["p50_ms"]),
          p["p50_ms"] <= 1.5 * e["p50_ms"])
f = load("penncloud-failover")
if f and f["failover_ms"] is not None:
    check("leader failover < 1000 ms (%.0f ms)" % f["failover_ms"], f["failover_ms"] < 1000)
PYEOF
log "results in $RUN"
