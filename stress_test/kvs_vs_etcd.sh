#!/usr/bin/env bash
# PennCloud's KVS against etcd 3.4 on this machine, side by side.
#
# Starts a fresh 3-member etcd cluster and a fresh 3-replica PennCloud group on loopback,
# runs the same kvs_bench workloads against each (alternating), then SIGKILLs each leader
# under write load and times the pause until writes are acknowledged again. Prints a table
# with ratios and the targets of issues 3 (plaintext) and 15 (both sides encrypted).
# Servers and load generator share the machine's cores, as they would in any one-box test.
#
# usage: stress_test/kvs_vs_etcd.sh [--duration S] [--warmup S] [--only etcd|penncloud]
#                                   [--build DIR] [--no-build] [--etcd-all-members]
#                                   [--tls | --tls-cost]
#   --duration S        measured seconds per workload (default 20)
#   --warmup S          unmeasured seconds of load before each (default 3)
#   --only SYSTEM       run just one side (the table then shows one column)
#   --build DIR         CMake build folder (default build/bench); built here unless --no-build
#   --etcd-all-members  spread etcd clients over all three members (default: the leader
#                       only, which spares etcd the follower-to-leader forwarding hop)
#   --tls               both sides encrypted and mutually authenticated: etcd with client and
#                       peer TLS and client-certificate auth, PennCloud with its mutual TLS.
#                       Without it both sides are plaintext (PennCloud --insecure_plaintext).
#   --tls-cost          both: a plaintext and an encrypted cluster of each system, all four up
#                       at once and every workload run on each in turn, so the table also
#                       shows what TLS costs each system under the same machine load.
# Certificates come from scripts/lib/tls.sh: one throw-away CA per system, deleted at exit.
# Results (logs, JSON, table) go to stress_test/results/<UTC time>/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build/bench"
DURATION=20
WARMUP=3
ONLY=""
DO_BUILD=1
ETCD_ALL=0
MODES=(plain)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    --etcd-all-members) ETCD_ALL=1; shift ;;
    --tls) MODES=(tls); shift ;;
    --tls-cost) MODES=(plain tls); shift ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "kvs_vs_etcd.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

BIN="$BUILD/bin"
RUN="$ROOT/stress_test/results/kvs-vs-etcd-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$RUN"
PY=/usr/bin/python3
# shellcheck source=scripts/lib/kvs_group.sh
source "$ROOT/scripts/lib/kvs_group.sh"

# Ports of member/replica i (1-3) in each mode: plaintext as always, TLS three higher.
etcd_client_port() { [[ $1 == tls ]] && echo $((23793 + $2)) || echo $((23790 + $2)); }
etcd_peer_port() { [[ $1 == tls ]] && echo $((23803 + $2)) || echo $((23800 + $2)); }
kvs_port() { [[ $1 == tls ]] && echo $((27013 + $2)) || echo $((27010 + $2)); }
etcd_endpoints() { echo "127.0.0.1:$(etcd_client_port "$1" 1),127.0.0.1:$(etcd_client_port "$1" 2),127.0.0.1:$(etcd_client_port "$1" 3)"; }
kvs_spec() { kvs_group_spec "$(kvs_port "$1" 1)"; }
# Result files: etcd-write64.json (plaintext), etcd-tls-write64.json (TLS).
label() { [[ $2 == tls ]] && echo "$1-tls" || echo "$1"; }

declare -A ETCD_PIDS=() KVS_PIDS=()  # "<mode> <i>" -> pid
mode_pids() {  # array-name mode: the pids of that mode's three servers
  local -n pids=$1
  local k
  for k in "${!pids[@]}"; do [[ $k == "$2 "* ]] && echo "${pids[$k]}"; done
}

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

PKI=$(mktemp -d /tmp/penncloud-kvs-vs-etcd-pki.XXXXXX)
cleanup() {
  stop_and_wait "${ETCD_PIDS[@]}" "${KVS_PIDS[@]}"
  rm -rf "$PKI"
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
  echo "modes: ${MODES[*]} (tls: etcd client+peer TLS with client-cert auth, PennCloud mTLS)"
} >"$RUN/machine.txt"

# ---- certificates (TLS mode) ---------------------------------------------------------
# etcd: members e1-e3 serve clients and peers with one certificate each (serverAuth and
# clientAuth, IP 127.0.0.1); etcdctl and kvs_bench present etcd-client. PennCloud: each
# replica finds kvs-N.crt in --tls_dir; kvsctl and kvs_bench hold admin certificates.
tls_issue() { bash "$ROOT/scripts/lib/tls.sh" issue "$PKI/$1" "$2" "$3" 127.0.0.1; }
if [[ " ${MODES[*]} " == *" tls "* ]]; then
  bash "$ROOT/scripts/lib/tls.sh" ca "$PKI/etcd"
  for i in 1 2 3; do
    tls_issue etcd "e$i" "etcd/e$i"  # etcd ignores the URI; it checks the chain and the IP
  done
  tls_issue etcd etcd-client etcd/client
  kvs_group_pki "$PKI/penncloud"
fi
etcd_scheme() { [[ $1 == tls ]] && echo https || echo http; }
etcdctl_mode() {  # mode etcdctl-args...
  local mode=$1 tls=()
  shift
  [[ $mode == tls ]] && tls=(--cacert="$PKI/etcd/ca.crt" --cert="$PKI/etcd/etcd-client.crt"
    --key="$PKI/etcd/etcd-client.key")
  local eps=() i
  for i in 1 2 3; do eps+=("$(etcd_scheme "$mode")://127.0.0.1:$(etcd_client_port "$mode" "$i")"); done
  etcdctl "${tls[@]}" --endpoints="$(IFS=,; echo "${eps[*]}")" "$@"
}
# kvs_bench's flags for a mode: the etcd client certificate, or PennCloud's --tls_dir.
bench_tls() {  # system mode
  if [[ $2 != tls ]]; then
    [[ $1 == penncloud ]] && echo --insecure_plaintext
    return 0
  fi
  if [[ $1 == etcd ]]; then
    echo "--etcd_ca_file=$PKI/etcd/ca.crt --etcd_cert_file=$PKI/etcd/etcd-client.crt" \
      "--etcd_key_file=$PKI/etcd/etcd-client.key"
  else
    echo "--tls_dir=$PKI/penncloud"
  fi
}
pc_tls() { [[ $1 == tls ]] && echo "--tls_dir=$PKI/penncloud" || echo --insecure_plaintext; }

WORKLOADS=(write64 read90 write1)  # kvs_workload_flags

# run_one LABEL WORKLOAD TARGET_FLAGS...   (LABEL: etcd, penncloud-tls, ...)
run_one() {
  local system=$1 name=$2 flags; shift 2
  flags=$(kvs_workload_flags "$name")
  log "$system $name"
  # shellcheck disable=SC2086
  "$BIN/kvs_bench" "$@" $flags --duration="$DURATION" --warmup="$WARMUP" \
    --key_prefix="$name" >"$RUN/$system-$name.txt" 2>&1 || true
  grep '^RESULT ' "$RUN/$system-$name.txt" | sed 's/^RESULT //' >"$RUN/$system-$name.json" || true
  grep -E 'throughput|all +latency|kvs_bench:' "$RUN/$system-$name.txt" >&2 || true
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
start_etcd() {  # mode
  local mode=$1 scheme dir="$RUN/$(label etcd "$1")" cluster="" i tls=()
  scheme=$(etcd_scheme "$mode")
  for i in 1 2 3; do require_free "$(etcd_client_port "$mode" "$i")" "$(etcd_peer_port "$mode" "$i")"; done
  for i in 1 2 3; do cluster+="${cluster:+,}e$i=$scheme://127.0.0.1:$(etcd_peer_port "$mode" "$i")"; done
  mkdir -p "$dir"
  for i in 1 2 3; do
    # Client and peer TLS, each side presenting a certificate the other checks.
    [[ $mode == tls ]] && tls=(--cert-file "$PKI/etcd/e$i.crt" --key-file "$PKI/etcd/e$i.key"
      --trusted-ca-file "$PKI/etcd/ca.crt" --client-cert-auth
      --peer-cert-file "$PKI/etcd/e$i.crt" --peer-key-file "$PKI/etcd/e$i.key"
      --peer-trusted-ca-file "$PKI/etcd/ca.crt" --peer-client-cert-auth)
    etcd --name "e$i" --data-dir "$dir/e$i" \
      --listen-client-urls "$scheme://127.0.0.1:$(etcd_client_port "$mode" "$i")" \
      --advertise-client-urls "$scheme://127.0.0.1:$(etcd_client_port "$mode" "$i")" \
      --listen-peer-urls "$scheme://127.0.0.1:$(etcd_peer_port "$mode" "$i")" \
      --initial-advertise-peer-urls "$scheme://127.0.0.1:$(etcd_peer_port "$mode" "$i")" \
      --initial-cluster "$cluster" --initial-cluster-token "kvs-vs-etcd-$mode-$$" \
      --initial-cluster-state new "${tls[@]}" >"$dir/e$i.log" 2>&1 &
    ETCD_PIDS["$mode $i"]=$!
  done
  for _ in $(seq 1 150); do
    if etcdctl_mode "$mode" endpoint health >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "kvs_vs_etcd.sh: etcd ($mode) did not become healthy; see $dir/" >&2
  exit 1
}

# Prints "<member number> <host:port>" of the etcd leader of a mode.
etcd_leader() {
  etcdctl_mode "$1" endpoint status -w json | $PY -c '
import json, sys
for s in json.load(sys.stdin):
    st = s["Status"]
    if st["header"]["member_id"] == st["leader"]:
        ep = s["Endpoint"].split("://")[-1]
        print(int(ep[-1]) % 3 or 3, ep)
'
}

stop_etcd() {  # mode
  local i
  for i in 1 2 3; do
    stop_and_wait "${ETCD_PIDS["$1 $i"]}"
    unset "ETCD_PIDS[$1 $i]"
  done
  rm -rf "$RUN/$(label etcd "$1")"/e?  # data only; logs stay
}


# ---- PennCloud -----------------------------------------------------------------------
start_kvs() {  # mode
  local mode=$1 i
  for i in 1 2 3; do require_free "$(kvs_port "$mode" "$i")"; done
  kvs_group_start "$BIN" "$(kvs_port "$mode" 1)" "$RUN/$(label kvs "$mode")" "$(pc_tls "$mode")" ||
    exit 1
  for i in 1 2 3; do KVS_PIDS["$mode $i"]=${KVS_GROUP_PIDS[$((i - 1))]}; done
}

# Prints the id of the replica that reports itself leader (empty if none).
kvs_leader() { kvs_group_leader "$BIN" "$(kvs_port "$1" 1)" "$(pc_tls "$1")"; }

# ---- the runs ------------------------------------------------------------------------
# Both clusters stay up (idle costs little) and the workloads alternate between them, so a
# burst of other load on the machine hits both sides alike.
# With --tls-cost the plaintext and the TLS cluster of each system are up side by side.
RUN_ETCD=0; RUN_KVS=0
if [[ -z $ONLY || $ONLY == etcd ]]; then RUN_ETCD=1; fi
if [[ -z $ONLY || $ONLY == penncloud ]]; then RUN_KVS=1; fi
declare -A ETCD_BENCH_ENDPOINTS=()
for mode in "${MODES[@]}"; do
  if [[ $RUN_ETCD == 1 ]]; then
    log "starting etcd (3 members, $mode)"
    start_etcd "$mode"
    read -r leader_n leader_ep < <(etcd_leader "$mode")
    log "etcd leader ($mode): e$leader_n at $leader_ep"
    ETCD_BENCH_ENDPOINTS[$mode]=$leader_ep
    if [[ $ETCD_ALL == 1 ]]; then ETCD_BENCH_ENDPOINTS[$mode]=$(etcd_endpoints "$mode"); fi
  fi
  if [[ $RUN_KVS == 1 ]]; then
    log "starting PennCloud (3 replicas, $mode)"
    start_kvs "$mode"
    log "PennCloud leader ($mode): replica $(kvs_leader "$mode")"
  fi
done
# The servers' CPU per operation (kvs_bench --server_pids) is reported beside throughput:
# on a shared machine it moves much less than ops/s.
join_pids() { local IFS=,; echo "$*"; }
for w in "${WORKLOADS[@]}"; do
  for mode in "${MODES[@]}"; do
    if [[ $RUN_ETCD == 1 ]]; then
      # shellcheck disable=SC2046  # bench_tls prints separate flags
      run_one "$(label etcd "$mode")" "$w" --target=etcd --endpoints="${ETCD_BENCH_ENDPOINTS[$mode]}" \
        $(bench_tls etcd "$mode") --server_pids="$(join_pids $(mode_pids ETCD_PIDS "$mode"))"
    fi
    if [[ $RUN_KVS == 1 ]]; then
      # shellcheck disable=SC2046
      run_one "$(label penncloud "$mode")" "$w" --target=penncloud --kvs="$(kvs_spec "$mode")" \
        $(bench_tls penncloud "$mode") --server_pids="$(join_pids $(mode_pids KVS_PIDS "$mode"))"
    fi
  done
done
for mode in "${MODES[@]}"; do
  if [[ $RUN_ETCD == 1 ]]; then
    read -r leader_n leader_ep < <(etcd_leader "$mode")
    # A short RPC deadline, so requests parked on a follower during the election are retried
    # soon after it rather than measuring our client's patience.
    # shellcheck disable=SC2046
    failover "$(label etcd "$mode")" "${ETCD_PIDS["$mode $leader_n"]}" --target=etcd \
      --endpoints="$(etcd_endpoints "$mode")" $(bench_tls etcd "$mode") --conns=3 \
      --etcd_rpc_timeout=0.2
    stop_etcd "$mode"
  fi
  if [[ $RUN_KVS == 1 ]]; then
    leader=$(kvs_leader "$mode")
    # shellcheck disable=SC2046
    failover "$(label penncloud "$mode")" "${KVS_PIDS["$mode $leader"]}" --target=penncloud \
      --kvs="$(kvs_spec "$mode")" $(bench_tls penncloud "$mode")
    for i in 1 2 3; do
      stop_and_wait "${KVS_PIDS["$mode $i"]}"
      unset "KVS_PIDS[$mode $i]"
    done
    rm -rf "$RUN/$(label kvs "$mode")"/r?
  fi
done

# ---- the table -----------------------------------------------------------------------
$PY - "$RUN" "${MODES[@]}" <<'PYEOF' | tee "$RUN/table.txt"
import json, os, sys
run, modes = sys.argv[1], sys.argv[2:]
def load(name):
    try:
        with open(os.path.join(run, name + ".json")) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return None
def label(system, mode):
    return system + ("-tls" if mode == "tls" else "")
print(open(os.path.join(run, "machine.txt")).read().rstrip())
print("load average at end: " + " ".join(open("/proc/loadavg").read().split()[:3]))
rows = [("write64", "100% writes, 128 B, 64 clients"),
        ("read90", "90% lin. reads, 64 clients"),
        ("write1", "100% writes, 1 client")]
def lat(r):
    return "%.2f / %.2f / %.2f" % (r["p50_ms"], r["p99_ms"], r["p999_ms"]) if r else "-"
def ops(r):
    return "%.0f" % r["throughput"] if r else "-"
def ratio(a, b):
    return "%.2fx" % (a / b) if a and b else "-"
def cpu_op(r):
    v = r.get("server_cpu_us_per_op", -1) if r else -1
    return "%.0f" % v if v >= 0 else "-"
def check(name, ok):
    print("  [%s] %s" % ("met" if ok else "NOT met", name))

res = {}  # (mode, workload) -> (etcd result, PennCloud result)
for mode in modes:
    print()
    print("== %s ==" % ("both sides mutual TLS (etcd client+peer TLS, client-cert auth)"
                        if mode == "tls" else "both sides plaintext"))
    print("%-32s %11s %11s %7s   %-24s %-24s %-12s %s" % ("workload", "etcd ops/s", "PennCloud",
          "ratio", "etcd p50/p99/p99.9 ms", "PennCloud p50/p99/p99.9", "bench CPU e/p",
          "errors e/p, wrong reads e/p"))
    for key, text in rows:
        e, p = load(label("etcd", mode) + "-" + key), load(label("penncloud", mode) + "-" + key)
        res[mode, key] = (e, p)
        errs = "%s/%s, %s/%s" % (e["errors"] if e else "-", p["errors"] if p else "-",
                                 e["wrong_reads"] if e else "-", p["wrong_reads"] if p else "-")
        cpu = "%s/%s" % ("%.0f%%" % e["bench_cpu_percent"] if e else "-",
                         "%.0f%%" % p["bench_cpu_percent"] if p else "-")
        print("%-32s %11s %11s %7s   %-24s %-24s %-12s %s" % (text, ops(e), ops(p),
              ratio(p and p["throughput"], e and e["throughput"]), lat(e), lat(p), cpu, errs))
    print()
    print("server CPU per operation, all three members (us):")
    for key, text in rows:
        e, p = res[mode, key]
        print("  %-32s etcd %6s   PennCloud %6s" % (text, cpu_op(e), cpu_op(p)))
    print()
    for system in ("etcd", "penncloud"):
        f = load(label(system, mode) + "-failover")
        if f:
            print("%s: SIGKILL of the leader -> writes acknowledged again after %s ms "
                  "(longest pause %s ms, %d acks after the kill)"
                  % (system, f["failover_ms"], f["longest_pause_ms"], f["acks_after_kill"]))
    print()
    print("issue %s targets (PennCloud vs etcd, %s, this run):"
          % ("15" if mode == "tls" else "3", "both encrypted" if mode == "tls" else "plaintext"))
    e, p = res[mode, "write64"]
    if e and p:
        check("write throughput >= 2x etcd (%.2fx) at equal or lower p99 (%.2f vs %.2f ms)"
              % (p["throughput"] / e["throughput"], p["p99_ms"], e["p99_ms"]),
              p["throughput"] >= 2 * e["throughput"] and p["p99_ms"] <= e["p99_ms"])
    e, p = res[mode, "read90"]
    if e and p:
        check("90%%-read throughput >= 2x etcd (%.2fx)" % (p["throughput"] / e["throughput"]),
              p["throughput"] >= 2 * e["throughput"])
    e, p = res[mode, "write1"]
    if e and p:
        check("single-client write p50 within 1.5x etcd (%.2f vs %.2f ms)" % (p["p50_ms"], e["p50_ms"]),
              p["p50_ms"] <= 1.5 * e["p50_ms"])
    f = load(label("penncloud", mode) + "-failover")
    if f and f["failover_ms"] is not None:
        check("leader failover < 1000 ms (%.0f ms)" % f["failover_ms"], f["failover_ms"] < 1000)

# What TLS costs each system: its TLS cluster against its plaintext one, same run.
if set(modes) == {"plain", "tls"}:
    print()
    print("what TLS costs (TLS cluster / plaintext cluster of the same system, this run):")
    print("  %-32s %-9s %13s %17s %21s" % ("workload", "system", "throughput", "p50 ms plain/TLS",
                                          "server CPU us/op p/TLS"))
    for key, text in rows:
        for i, system in enumerate(("etcd", "PennCloud")):
            a, b = res["plain", key][i], res["tls", key][i]
            if not (a and b):
                continue
            print("  %-32s %-9s %13s %17s %21s" % (text, system,
                  ratio(b["throughput"], a["throughput"]),
                  "%.2f / %.2f" % (a["p50_ms"], b["p50_ms"]),
                  "%s / %s" % (cpu_op(a), cpu_op(b))))
PYEOF
log "results in $RUN"
