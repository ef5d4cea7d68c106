#!/usr/bin/env bash
# Stops every PennCloud process started by scripts/start.sh, the servers first and the KVS
# replicas last: SIGTERM lets each one drain and exit; one still running after 10 seconds is
# named, then killed. The data stays for the next start.
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

# Two waves: the servers first, while the store they drain into still answers (a frontend
# finishing its last requests, smtp's relay ending its pass, each needs the KVS), then the
# KVS replicas. Stopped together, a server's last store call could only retry until its
# client gave up, past the 10 s this script waits.
shopt -s nullglob
servers=()
replicas=()
for pidfile in "$run_dir"/*.pid; do
  pid=$(cat "$pidfile")
  if ours "$pid"; then
    entry="$pid $(basename "$pidfile" .pid)"
    if [[ $(cat /proc/"$pid"/comm 2>/dev/null) == kvs_server ]]; then
      replicas+=("$entry")
    else
      servers+=("$entry")
    fi
  fi
  rm -f "$pidfile"
done
stopped=0
# stop_wave "pid name"...: SIGTERM to each, up to 10 s for all to exit, SIGKILL the rest.
stop_wave() {
  local entry pid alive deadline=$((SECONDS + 10)) stragglers=()
  for entry in "$@"; do kill -TERM "${entry%% *}" 2>/dev/null || true; done
  while ((SECONDS < deadline)); do
    alive=0
    for entry in "$@"; do ours "${entry%% *}" && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for entry in "$@"; do
    pid=${entry%% *}
    if ours "$pid"; then
      stragglers+=("${entry#* } (pid $pid)")
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  if ((${#stragglers[@]})); then
    echo "still running 10 s after SIGTERM, killed: ${stragglers[*]}; logs in $log_dir" >&2
  fi
  stopped=$((stopped + $#))
}
((${#servers[@]})) && stop_wave "${servers[@]}"
((${#replicas[@]})) && stop_wave "${replicas[@]}"
echo "PennCloud stopped ($stopped processes). Data kept in $state."
