#!/usr/bin/env bash
# Stops every PennCloud process started by scripts/start.sh: SIGTERM lets each one drain and
# exit; one still running after 10 seconds is named, then killed. The data stays for the next
# start.
set -euo pipefail
source "$(dirname "$0")/lib/cluster.sh"

# True if pid is still one of our binaries (a pid file outlives its process; the pid may have
# been reused by something else since).
ours() {
  local comm
  { read -r comm </proc/"$1"/comm; } 2>/dev/null || return 1
  case $comm in kvs_server | coordinator | frontend | smtp | pop3 | imap) return 0 ;; esac
  return 1
}

shopt -s nullglob
names=()
pids=()
for pidfile in "$run_dir"/*.pid; do
  pid=$(cat "$pidfile")
  if ours "$pid"; then
    kill -TERM "$pid"
    names+=("$(basename "$pidfile" .pid)")
    pids+=("$pid")
  fi
  rm -f "$pidfile"
done
deadline=$((SECONDS + 10))
while ((SECONDS < deadline)); do
  alive=0
  for pid in "${pids[@]}"; do ours "$pid" && alive=1; done
  ((alive)) || break
  sleep 0.1
done
stragglers=()
for i in "${!pids[@]}"; do
  if ours "${pids[$i]}"; then
    stragglers+=("${names[$i]} (pid ${pids[$i]})")
    kill -KILL "${pids[$i]}" 2>/dev/null || true
  fi
done
if ((${#stragglers[@]})); then
  echo "still running 10 s after SIGTERM, killed: ${stragglers[*]}; logs in $log_dir" >&2
fi
echo "PennCloud stopped (${#pids[@]} processes). Data kept in $state."
