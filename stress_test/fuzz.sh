#!/usr/bin/env bash
# Builds PennCloud's libFuzzer targets (fuzz/) with clang and runs them.
#   stress_test/fuzz.sh                      every target for 1 minute each
#   stress_test/fuzz.sh --minutes 30 --target mime_fuzz
#   stress_test/fuzz.sh --seconds 30 --jobs 2   what scripts/test.sh (CI) runs
#   stress_test/fuzz.sh --merge              also merge new interesting inputs into fuzz/corpus/
#   stress_test/fuzz.sh --no-build           run the binaries already in the build folder
# New inputs go to build/fuzz/corpus/<target> (the committed seeds in fuzz/corpus/<target>
# are only read unless --merge); crashes, leaks and hangs land in build/fuzz/findings/<target>/
# and make the script fail. Every run appends "<target> <wall s> <cpu s>" to
# build/fuzz/cpu.log, the source of the CPU times in docs/security.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${PENNCLOUD_FUZZ_BUILD:-$root/build/fuzz}
seconds=60
targets=()
jobs=1
merge=0
build_first=1
while (($#)); do
  case "$1" in
    --minutes) seconds=$(($2 * 60)); shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --target) targets+=("$2"); shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --merge) merge=1; shift ;;
    --no-build) build_first=0; shift ;;
    *) echo "usage: $0 [--minutes N | --seconds N] [--target NAME]... [--jobs N] [--merge] [--no-build]" >&2
       exit 2 ;;
  esac
done

if ((build_first)) && [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$root/fuzz" -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang-14 \
    -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
fi
if ((${#targets[@]})); then
  ((build_first)) && ninja -C "$build" -j"$(nproc)" "${targets[@]}"
else
  ((build_first)) && ninja -C "$build" -j"$(nproc)" fuzz_targets
  for seeds in "$root"/fuzz/corpus/*/; do targets+=("$(basename "$seeds")"); done
fi

# Runs one target; prints its verdict line. Inputs are capped at 64 KiB (the parsers' own
# limits are tested by unit tests with inputs just over them); a single input running over
# 10 s is a hang.
run_one() {
  local t=$1 work="$build/corpus/$1" findings="$build/findings/$1" log="$build/logs/$1.log"
  mkdir -p "$work" "$findings" "$build/logs"
  local start=$SECONDS cpu_before cpu_after rc=0 me=$BASHPID
  cpu_before=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$me/stat")
  # ASAN_OPTIONS: leaks are findings too; UBSan reports abort (-fno-sanitize-recover).
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    nice -n 10 "$build/bin/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$findings/" \
    "$work" "$root/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  cpu_after=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$me/stat")
  local ticks cpu
  ticks=$(getconf CLK_TCK)
  cpu=$(((cpu_after - cpu_before) / ticks))
  echo "$t $((SECONDS - start)) $cpu" >>"$build/cpu.log"
  if ((merge)); then
    "$build/bin/$t" -merge=1 "$root/fuzz/corpus/$t" "$work" >>"$log" 2>&1 || true
  fi
  local execs
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' || true)
  if ((rc)); then
    echo "FAIL $t after $((SECONDS - start)) s (see $log and $findings/):"
    grep -m1 -E 'ERROR: |runtime error|invariant broken|Timeout|out-of-memory' "$log" || tail -5 "$log"
    return 1
  fi
  echo "ok   $t: ${execs:-?} inputs in $((SECONDS - start)) s, ${cpu} CPU s"
}

# (Run inside a subshell per target so /proc/$BASHPID counts that run's children only.)
failed=0
pids=()
names=()
for t in "${targets[@]}"; do
  [[ -x "$build/bin/$t" ]] || { echo "no such fuzz target: $t" >&2; exit 2; }
  (run_one "$t") &
  pids+=($!)
  names+=("$t")
  if ((${#pids[@]} >= jobs)); then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
exit $failed
