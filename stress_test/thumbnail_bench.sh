#!/usr/bin/env bash
# Issue 20's thumbnail benchmark (not part of CI): a 12-megapixel JPEG's thumbnail timed end
# to end through a test cluster's coordinator (its own KVS group, coordinator and frontend on
# free loopback ports; nothing of scripts/start.sh is touched).
#   stress_test/thumbnail_bench.sh              20 runs of each kind
#   stress_test/thumbnail_bench.sh --runs=5     a quick run that proves it works
#   stress_test/thumbnail_bench.sh --compare_spawn --runs=40 --max_seconds=500
#                                               the zygote against a thumbnailer per image
# Results: build/bench/results/thumbnail-<UTC time>.json. The figures need a quiet machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${PENNCLOUD_BUILD:-$root/build/bench}
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -C "$build" thumbnail_bench frontend coordinator kvs_server thumbnailer >/dev/null
mkdir -p "$build/results"
out="$build/results/thumbnail-$(date -u +%Y%m%dT%H%M%SZ).json"
timeout 600 "$build/bin/thumbnail_bench" "$@" | tee "$out"
