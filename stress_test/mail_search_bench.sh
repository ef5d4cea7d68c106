#!/usr/bin/env bash
# Issue 21's search and conversation benchmarks (not part of CI): search p99 in a 50,000-
# message mailbox, the conversation listing of a 10,000-message folder, and delivery with
# and without indexing (A/B in one run).
#   stress_test/mail_search_bench.sh                 full size, in-process store
#   stress_test/mail_search_bench.sh --small         a quick run that proves it works
#   stress_test/mail_search_bench.sh --cluster       against the cluster scripts/start.sh runs
# Extra arguments go to the mail_search_bench binary (--messages, --queries, ...).
# Results: build/bench/results/mail_search-<UTC time>.json. The figures need a quiet machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${PENNCLOUD_BUILD:-$root/build/bench}
args=()
while (($#)); do
  case "$1" in
    --small) args+=(--messages=2000 --queries=50 --thread_folder=1000 --ab_messages=100); shift ;;
    --cluster)
      state=${PENNCLOUD_STATE:-$root/state}
      # The cluster's gRPC is mutual TLS: the bench needs an operator's certificate from
      # the cluster's CA (start.sh made it and keeps its key in the state's tls/; issue
      # keeps a current certificate).
      bash "$root/scripts/lib/tls.sh" issue "$state/tls" mail-search-bench \
        admin/mail-search-bench 127.0.0.1 >/dev/null
      args+=("--kvs=config=127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003"
             "--tls_dir=$state/tls" "--user=bench$(date +%s)")
      shift ;;
    *) args+=("$1"); shift ;;
  esac
done
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -C "$build" mail_search_bench >/dev/null
mkdir -p "$build/results"
out="$build/results/mail_search-$(date -u +%Y%m%dT%H%M%SZ).json"
"$build/bin/mail_search_bench" "${args[@]}" | tee "$out"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
