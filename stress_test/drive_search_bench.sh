#!/usr/bin/env bash
# Issue 20's name-search benchmark (not part of CI): one user's drive filled with 100,000
# files in nested folders (written straight to the store by many writers, indexed by the
# drive's own index writer), then the drive page's search (GET /api/files/search) timed on a
# test cluster (its own KVS group, coordinator and frontends on free loopback ports; nothing
# of scripts/start.sh is touched). Target: p99 under 50 ms.
#   stress_test/drive_search_bench.sh                  100,000 files, 2 rounds of 200 searches of each kind
#   stress_test/drive_search_bench.sh --files=2000 --queries=20   a quick run that proves it works
#   stress_test/drive_search_bench.sh --compare_frontend=/path/to/old/bin/frontend
#                                                      old and new frontends on one store, A B A B
#   stress_test/drive_search_bench.sh --state_dir=DIR   keep the filled store in DIR; then
#   stress_test/drive_search_bench.sh --state_dir=DIR --fill=false   search it again, no fill
# Results: build/bench/results/drive-search-<UTC time>.json. The figures need a quiet machine;
# the JSON carries the load averages so a loaded run says so.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${PENNCLOUD_BUILD:-$root/build/bench}
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -C "$build" drive_search_bench frontend coordinator kvs_server >/dev/null
mkdir -p "$build/results"
out="$build/results/drive-search-$(date -u +%Y%m%dT%H%M%SZ).json"
# The fill stops itself at --fill_seconds (default 3600); this bounds the whole run.
timeout 5400 "$build/bin/drive_search_bench" "$@" | tee "$out"
