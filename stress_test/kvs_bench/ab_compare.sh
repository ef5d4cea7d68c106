#!/usr/bin/env bash
# Two kvs_server builds, A and B, back to back on this machine: for each round and workload
# a fresh 3-replica group of A, then one of B, driven by the same kvs_bench. Prints the
# throughput, latency and the servers' CPU per operation of each run, then the medians per
# build. On a shared machine a burst of others' load hits A and B alike only when the runs
# alternate, and CPU per operation moves much less than ops/s; compare that first.
#
# usage: stress_test/kvs_bench/ab_compare.sh A_BIN_DIR B_BIN_DIR [--rounds N] [--duration S]
#            [--workloads write64,read90,write1] [--ports BASE] [--bench PATH] [--tls]
#   X_BIN_DIR     folder holding that build's kvs_server (and kvsctl)
#   --rounds      A/B pairs per workload (default 3)
#   --duration    measured seconds per run (default 8; 2 s warm-up before each)
#   --ports       first of three client/peer ports (default 27211)
#   --bench       kvs_bench binary (default B_BIN_DIR/kvs_bench)
#   --tls         mutual TLS everywhere (a throw-away CA); default plaintext
# Logs go to stress_test/results/ab-<UTC time>/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
[[ $# -ge 2 ]] || { sed -n '2,18p' "$0"; exit 2; }
A=$(cd "$1" && pwd); B=$(cd "$2" && pwd); shift 2
ROUNDS=3; DURATION=8; WORKLOADS=write64,read90,write1; PORT=27211; BENCH="$B/kvs_bench"; TLS=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --workloads) WORKLOADS=$2; shift 2 ;;
    --ports) PORT=$2; shift 2 ;;
    --bench) BENCH=$2; shift 2 ;;
    --tls) TLS=1; shift ;;
    *) echo "ab_compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
RUN="$ROOT/stress_test/results/ab-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$RUN"
# shellcheck source=scripts/lib/kvs_group.sh
source "$ROOT/scripts/lib/kvs_group.sh"
for w in ${WORKLOADS//,/ }; do
  kvs_workload_flags "$w" >/dev/null || { echo "ab_compare.sh: unknown workload $w" >&2; exit 2; }
done
SPEC=$(kvs_group_spec "$PORT")
PIDS=()
TLS_FLAG=--insecure_plaintext
PKI=""
if [[ $TLS == 1 ]]; then
  PKI=$(mktemp -d /tmp/penncloud-ab-pki.XXXXXX)
  kvs_group_pki "$PKI"
  TLS_FLAG=--tls_dir="$PKI"
fi

stop_group() {
  stop_and_wait "${PIDS[@]}"
  PIDS=()
}
trap 'stop_group; rm -rf ${PKI:+"$PKI"}' EXIT

echo "A: $A" | tee "$RUN/summary.txt"
echo "B: $B" | tee -a "$RUN/summary.txt"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RUN/summary.txt"
for w in ${WORKLOADS//,/ }; do
  for r in $(seq 1 "$ROUNDS"); do
    for side in A B; do
      bin=$A; [[ $side == B ]] && bin=$B
      data="$RUN/$w-$r-$side"
      kvs_group_start "$bin" "$PORT" "$data" "$TLS_FLAG" || exit 1
      PIDS=("${KVS_GROUP_PIDS[@]}")
      # shellcheck disable=SC2046  # separate flags
      "$BENCH" --target=penncloud --kvs="$SPEC" "$TLS_FLAG" $(kvs_workload_flags "$w") \
        --duration="$DURATION" --warmup=2 \
        --server_pids="$(IFS=,; echo "${PIDS[*]}")" >"$data.txt" 2>&1 || true
      stop_group
      rm -rf "$data"/r?  # data only; logs stay
      line=$(sed -n 's/^RESULT //p' "$data.txt")
      echo "$w $side $line" >>"$RUN/results.jsonl"
      /usr/bin/python3 -c '
import json, sys
w, side, r = sys.argv[1], sys.argv[2], json.loads(sys.argv[3] or "{}")
print("%-8s %s  %9.0f ops/s  p50 %6.2f  p99 %6.2f ms  server CPU %6.0f us/op  load %s" % (
    w, side, r.get("throughput", 0), r.get("p50_ms", 0), r.get("p99_ms", 0),
    r.get("server_cpu_us_per_op", -1), open("/proc/loadavg").read().split()[0]))
' "$w" "$side" "$line" | tee -a "$RUN/summary.txt"
    done
  done
done
/usr/bin/python3 - "$RUN/results.jsonl" <<'PYEOF' | tee -a "$RUN/summary.txt"
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    w, side, rest = line.split(" ", 2)
    try:
        runs.setdefault((w, side), []).append(json.loads(rest))
    except ValueError:
        pass
print("medians:")
for (w, side), rs in sorted(runs.items()):
    med = lambda k: statistics.median(r[k] for r in rs)
    print("  %-8s %s  %9.0f ops/s  p50 %6.2f  p99 %6.2f ms  server CPU %6.0f us/op  (%d runs)" % (
        w, side, med("throughput"), med("p50_ms"), med("p99_ms"), med("server_cpu_us_per_op"),
        len(rs)))
PYEOF
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RUN/summary.txt"
