#!/usr/bin/env bash
# Where a 3-replica group spends its time under one kvs_bench workload: per replica and per
# thread (grouped by thread name), CPU, voluntary and involuntary context switches (thread
# wake-ups), all per operation; fsync-family system calls and bytes written per operation;
# the load generator's own CPU. Optionally a perf call-graph profile of the leader.
#
# usage: stress_test/kvs_bench/kvs_profile.sh BIN_DIR [--workload write64|read90|write1]
#            [--duration S] [--warmup S] [--ports BASE] [--tls] [--perf] [--bench PATH]
#   BIN_DIR     folder holding kvs_server, kvsctl and kvs_bench
#   --workload  as kvs_vs_etcd.sh names them (default write64)
#   --duration  measured seconds (default 10; counters are read at its edges)
#   --tls       mutual TLS (a throw-away CA); default plaintext (--insecure_plaintext)
#   --perf      also `perf record -e cpu-clock -g` the leader over the window and print its
#               top symbols by thread name
# Results go to stress_test/results/profile-<UTC time>/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
[[ $# -ge 1 ]] || { sed -n '2,15p' "$0"; exit 2; }
BIN=$(cd "$1" && pwd); shift
WORKLOAD=write64; DURATION=10; WARMUP=3; PORT=27311; TLS=0; PERF=0; BENCH=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --workload) WORKLOAD=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --ports) PORT=$2; shift 2 ;;
    --tls) TLS=1; shift ;;
    --perf) PERF=1; shift ;;
    --bench) BENCH=$2; shift 2 ;;
    *) echo "kvs_profile.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
BENCH=${BENCH:-$BIN/kvs_bench}
# shellcheck source=scripts/lib/kvs_group.sh
source "$ROOT/scripts/lib/kvs_group.sh"
WORKLOAD_FLAGS=$(kvs_workload_flags "$WORKLOAD") ||
  { echo "kvs_profile.sh: unknown workload $WORKLOAD" >&2; exit 2; }
RUN="$ROOT/stress_test/results/profile-$(date -u +%Y%m%dT%H%M%SZ)-$WORKLOAD"
mkdir -p "$RUN"
SPEC=$(kvs_group_spec "$PORT")
PIDS=()
PKI=""
TLS_FLAG=--insecure_plaintext
if [[ $TLS == 1 ]]; then
  PKI=$(mktemp -d /tmp/penncloud-kvs-profile-pki.XXXXXX)
  kvs_group_pki "$PKI"
  TLS_FLAG=--tls_dir="$PKI"
fi

cleanup() {
  stop_and_wait "${PIDS[@]}"
  rm -rf "$RUN"/r? ${PKI:+"$PKI"}
}
trap cleanup EXIT

kvs_group_start "$BIN" "$PORT" "$RUN" "$TLS_FLAG" || exit 1
PIDS=("${KVS_GROUP_PIDS[@]}")
leader=$(kvs_group_leader "$BIN" "$PORT" "$TLS_FLAG")
[[ -n $leader ]] || { echo "kvs_profile.sh: no leader; see $RUN/r*.log" >&2; exit 1; }
LEADER_PID=${PIDS[$((leader - 1))]}

# One line per thread: pid tid name utime+stime(ticks) voluntary nonvoluntary; and per
# process: pid write_bytes syscw.
snapshot() {
  local pid t
  for pid in "${PIDS[@]}"; do
    for t in /proc/"$pid"/task/*; do
      [[ -r $t/stat ]] || continue
      local name ticks vol invol
      name=$(tr ' ' '_' <"$t/comm")
      ticks=$(sed 's/.*) //' "$t/stat" | awk '{print $12 + $13}')
      vol=$(awk '/^voluntary_ctxt_switches/{print $2}' "$t/status")
      invol=$(awk '/^nonvoluntary_ctxt_switches/{print $2}' "$t/status")
      echo "T $pid ${t##*/} $name $ticks $vol $invol"
    done
    echo "P $pid $(awk '/^write_bytes/{print $2}' /proc/"$pid"/io) $(awk '/^syscw/{print $2}' /proc/"$pid"/io)"
  done
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >"$RUN/machine.txt"
# shellcheck disable=SC2086
"$BENCH" --target=penncloud --kvs="$SPEC" "$TLS_FLAG" $WORKLOAD_FLAGS \
  --duration="$DURATION" --warmup="$WARMUP" --key_prefix="$WORKLOAD" \
  --server_pids="$(IFS=,; echo "${PIDS[*]}")" >"$RUN/bench.txt" 2>&1 &
bench=$!
sleep "$WARMUP"
sleep 0.5
window=$(echo "$DURATION - 1" | bc)
snapshot >"$RUN/before.txt"
syncs=(-e syscalls:sys_enter_fsync -e syscalls:sys_enter_fdatasync)
perf stat "${syncs[@]}" -p "$(IFS=,; echo "${PIDS[*]}")" --per-thread -x, -o "$RUN/syncs.csv" \
  -- sleep "$window" 2>/dev/null &
stat_pid=$!
if [[ $PERF == 1 ]]; then
  perf record -e cpu-clock -g -p "$LEADER_PID" -o "$RUN/leader.perf.data" -- sleep "$window" \
    >/dev/null 2>&1 &
  perf_pid=$!
fi
sleep "$window"
snapshot >"$RUN/after.txt"
wait "$stat_pid" || true
[[ $PERF == 1 ]] && { wait "$perf_pid" || true; }
wait "$bench" || true
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RUN/machine.txt"

/usr/bin/python3 - "$RUN" "$window" "$LEADER_PID" "$(getconf CLK_TCK)" "${PIDS[@]}" <<'PYEOF' |
import collections, json, re, sys
run, window, leader, hz, pids = sys.argv[1], float(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5:]
def load(name):
    threads, procs = {}, {}
    for line in open(f"{run}/{name}"):
        f = line.split()
        if f[0] == "T":
            threads[(f[1], f[2])] = (f[3], int(f[4]), int(f[5]), int(f[6]))
        else:
            procs[f[1]] = (int(f[2]), int(f[3]))
    return threads, procs
(t0, p0), (t1, p1) = load("before.txt"), load("after.txt")
result = json.loads(re.search(r"^RESULT (.*)$", open(f"{run}/bench.txt").read(), re.M).group(1))
ops = result["throughput"] * window
syncs = collections.Counter()
for line in open(f"{run}/syncs.csv"):
    f = line.strip().split(",")
    if len(f) > 3 and f[1].replace(".", "").isdigit():
        pid = f[0].rsplit("-", 1)[-1] if "-" in f[0] else f[0]
        syncs[pid] += int(float(f[1]))
print(open(f"{run}/machine.txt").read().rstrip())
print("workload %s: %.0f ops/s, p50 %.2f ms, p99 %.2f ms, kvs_bench %.0f%% of a core (%.1f us/op)" % (
    run.rsplit("-", 1)[-1], result["throughput"], result["p50_ms"], result["p99_ms"],
    result["bench_cpu_percent"], 1e4 * result["bench_cpu_percent"] / result["throughput"]))
print("window %.1f s, %.0f ops; per op below" % (window, ops))
total_cpu = 0
for pid in pids:
    groups = collections.defaultdict(lambda: [0, 0, 0, 0])
    for key, (name, ticks, vol, invol) in t1.items():
        if key[0] != pid:
            continue
        b = t0.get(key, (name, 0, 0, 0))
        g = groups[re.sub(r"[0-9_]+$", "", name) or name]
        g[0] += ticks - b[1]; g[1] += vol - b[2]; g[2] += invol - b[3]; g[3] += 1
    cpu = sum(g[0] for g in groups.values()) / hz
    total_cpu += cpu
    wb = p1[pid][0] - p0[pid][0]
    sw = p1[pid][1] - p0[pid][1]
    # Thread tids are the syncs' keys in perf's per-thread output; sum those of this pid.
    print("replica pid %s%s: CPU %.1f us/op, fsync-family calls %.3f/op, disk bytes %.0f/op, write calls %.2f/op" % (
        pid, " (leader)" if pid == leader else "", 1e6 * cpu / ops,
        sum(n for tid, n in syncs.items() if (pid, tid) in t1) / ops, wb / ops, sw / ops))
    for name, (ticks, vol, invol, n) in sorted(groups.items(), key=lambda kv: -kv[1][0]):
        if ticks == 0 and vol + invol == 0:
            continue
        print("    %-18s x%-3d CPU %6.1f us/op  wake-ups (voluntary) %6.3f/op  preempted %6.3f/op" % (
            name, n, 1e6 * ticks / hz / ops, vol / ops, invol / ops))
print("all replicas: %.1f us of CPU per op" % (1e6 * total_cpu / ops))
PYEOF
  tee "$RUN/profile.txt"
if [[ $PERF == 1 ]]; then
  perf report -i "$RUN/leader.perf.data" --no-children --sort comm,dso,sym --stdio 2>/dev/null |
    grep -v '^#' | grep -E '^ +[0-9]' | head -40 | tee "$RUN/leader-top.txt"
fi
echo "results: $RUN"
