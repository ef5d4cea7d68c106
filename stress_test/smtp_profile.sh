#!/usr/bin/env bash
# What one accepted SMTP message costs PennCloud, in figures a loaded machine does not
# distort the way wall-clock rates are: CPU seconds per message of the smtp server and of
# the three kvs_server replicas (from /proc), and, with --callgrind, the instructions the
# smtp server executes per message (valgrind's callgrind, counted only while smtp-source
# runs). For A/B runs of two smtp builds against the same KVS binaries.
#   stress_test/smtp_profile.sh [--build DIR] [--smtp BIN] [--messages N] [--sessions S]
#                               [--size BYTES] [--callgrind] [--no-index]
# --no-index runs the server with --search_index=false: the same run without the
# full-text index, to see what indexing costs.
# Results (the summary, the callgrind profile) go to stress_test/results/smtp-profile-<time>/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build/bench
messages=2000
sessions=20
size=4096
callgrind=0
while (($#)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    --smtp) smtp_bin=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --sessions) sessions=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --callgrind) callgrind=1; shift ;;
    --no-index) smtp_flags=(--search_index=false); shift ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
bin=$build/bin
kvsctl=${KVSCTL:-$bin/kvsctl}
out=$root/stress_test/results/smtp-profile-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
work=$(mktemp -d /tmp/penncloud-smtp-profile.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  done
  rm -rf "$work"
}
trap cleanup EXIT
command -v smtp-source >/dev/null || { echo "needs smtp-source (scripts/setup.sh --bench)" >&2; exit 1; }

smtp_wrapper=()
if ((callgrind)); then
  smtp_wrapper=(valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out")
  smtp_wait_tries=1800
fi
source "$root/stress_test/smtp_cluster.sh"
cpu_seconds() {  # user + system CPU seconds of the given processes so far
  local ticks=0 pid
  for pid in "$@"; do
    [[ -r /proc/$pid/stat ]] || continue
    ticks=$((ticks + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
  done
  echo "$ticks / $(getconf CLK_TCK)" | bc -l
}

start_penncloud_smtp
for _ in $(seq 1 600); do  # under valgrind the server takes a while to greet
  smtp-source -c -s 1 -m 1 -f sender@example.com -t bench@penncloud.local \
    "127.0.0.1:$smtp_port" >/dev/null 2>&1 && break
  sleep 0.1
done
kvs_pids=("${pids[@]:0:3}")
((callgrind)) && callgrind_control -z "$smtp_pid" >/dev/null  # count from here
smtp_cpu0=$(cpu_seconds "$smtp_pid")
kvs_cpu0=$(cpu_seconds "${kvs_pids[@]}")
start=$(date +%s.%N)
smtp-source -c -s "$sessions" -l "$size" -m "$messages" -f sender@example.com \
  -t bench@penncloud.local "127.0.0.1:$smtp_port" >"$out/smtp-source.log" 2>&1
end=$(date +%s.%N)
smtp_cpu=$(echo "$(cpu_seconds "$smtp_pid") - $smtp_cpu0" | bc -l)
kvs_cpu=$(echo "$(cpu_seconds "${kvs_pids[@]}") - $kvs_cpu0" | bc -l)
((callgrind)) && callgrind_control -d "$smtp_pid" >/dev/null  # to callgrind.out.1
count_cells() {  # ROW [PATTERN]: how many of the row's columns match PATTERN
  local total=0 after="" page n
  while :; do
    page=$("${kvsctl[@]}" --group="$spec" list "$1" --after="$after" --limit=1000 2>/dev/null)
    [[ -z $page ]] && break
    n=$(wc -l <<<"$page")
    total=$((total + $(grep -c "${2:-.}" <<<"$page" || true)))
    after=$(tail -1 <<<"$page" | awk '{print $1}')
    ((n < 1000)) && break
  done
  echo "$total"
}
stored=$(count_cells mail/bench '^inbox/')
index_cells=$(count_cells mailsearch/bench)
index_docs=$(count_cells mailsearch/bench '^d/')
index_blocks=$(count_cells mailsearch/bench '^s/')
{
  printf 'smtp %s, %d messages x %d B, %d sessions: %.2f s wall (%.0f msg/s), stored %d (1 warm-up)\n' \
    "${smtp_bin:-$bin/smtp}" "$messages" "$size" "$sessions" "$(echo "$end - $start" | bc -l)" \
    "$(echo "$messages / ($end - $start)" | bc -l)" "$stored"
  # Layout 2 writes one doc per message plus the segment blocks of the background merges;
  # layout 1 wrote a cell per posting. (Exact writes per message: mail_search_bench.)
  printf 'search index cells per stored message: %.2f (docs %d, segment blocks %d)\n' \
    "$(echo "$index_cells / $stored" | bc -l)" "$index_docs" "$index_blocks"
  printf 'CPU per message: smtp %.0f us, 3 kvs_server %.0f us; load average %s\n' \
    "$(echo "$smtp_cpu * 1000000 / $messages" | bc -l)" \
    "$(echo "$kvs_cpu * 1000000 / $messages" | bc -l)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  if ((callgrind)); then
    total=$(callgrind_annotate "$out/callgrind.out.1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
    printf 'smtp instructions per message (callgrind): %.0f\n' "$(echo "$total / $messages" | bc -l)"
  fi
} | tee "$out/summary.txt"
