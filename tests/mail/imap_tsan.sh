#!/usr/bin/env bash
# ThreadSanitizer over the IMAP server (docs/mail.md, "IMAP under ThreadSanitizer"): builds
# the IMAP targets with -fsanitize=thread in a build folder of their own, runs the unit
# tests (the session, MailboxWatch, the server in one process) and the process tests (the
# imap binary, and the smtp, pop3 and kvs_server it runs beside, all instrumented), and
# lists the races each binary reported. Not in CI: the build alone takes most of an hour
# on a shared 2-core machine, and the process tests run several times slower.
#   tests/mail/imap_tsan.sh                  build, then unit and process tests
#   tests/mail/imap_tsan.sh --unit-only      the unit tests only (about a minute once built)
#   tests/mail/imap_tsan.sh --no-build       run what the build folder holds
# Reports land in $build/tsan-logs/<binary>.<pid>; the script fails if any race is
# reported (suppressions: tests/mail/imap_tsan.supp, each one explained there) or a test
# fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${PENNCLOUD_TSAN_BUILD:-$root/build/imap-tsan}
unit_only=0
build_first=1
while (($#)); do
  case "$1" in
    --unit-only) unit_only=1; shift ;;
    --no-build) build_first=0; shift ;;
    *) echo "usage: $0 [--unit-only] [--no-build]" >&2; exit 2 ;;
  esac
done

unit_tests=(imap_session_test mailbox_watch_test imap_idle_test)
# ImapMemoryTest is left out: its 64 KiB per connection bound cannot hold with
# ThreadSanitizer's shadow memory, and its 2000 connections take minutes instrumented.
process_tests=(imap_server_test imap_clients_test imap_idle_cost_test)
targets=("${unit_tests[@]}")
((unit_only)) || targets+=(imap "${process_tests[@]}")

if ((build_first)); then
  # Two of GCC 12's warnings are silenced here only: -Wtsan (ThreadSanitizer does not model
  # atomic_thread_fence, which Asio's handler invocation uses; Asio's queues and strands
  # synchronize through mutexes, which it does model), and -Wmaybe-uninitialized, which
  # the instrumentation makes GCC raise falsely on std::optional<std::string>.
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_CXX_FLAGS=-fsanitize=thread -g -Wno-tsan -Wno-maybe-uninitialized" \
    "-DCMAKE_C_FLAGS=-fsanitize=thread -g" \
    -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread >/dev/null
  nice ninja -C "$build" -j"$(nproc)" "${targets[@]}"
fi

logs=$build/tsan-logs
rm -rf "$logs"
mkdir -p "$logs"
export TSAN_OPTIONS="log_path=$logs/report log_exe_name=1 halt_on_error=0 second_deadlock_stack=1 suppressions=$root/tests/mail/imap_tsan.supp"

failed=()
run() {
  local test=$1 bound=$2
  echo "== $test"
  if ! (cd "$build" && timeout "$bound" "bin/$test" --gtest_brief=1); then failed+=("$test"); fi
}
for t in "${unit_tests[@]}"; do run "$t" 300; done
if ((!unit_only)); then
  for t in "${process_tests[@]}"; do run "$t" 1800; done
fi

races=0
shopt -s nullglob
for f in "$logs"/report.*; do
  n=$(grep -c '^WARNING: ThreadSanitizer' "$f" || true)
  if ((n > 0)); then
    echo "$n report(s) in $f"
    races=$((races + n))
  fi
done
echo "ThreadSanitizer reports: $races; failed tests: ${failed[*]:-none}"
((races == 0 && ${#failed[@]} == 0))
