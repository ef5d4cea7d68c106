#!/usr/bin/env bash
# Stops every PennCloud process started by scripts/start.sh: SIGTERM lets each one drain
# and exit; one still running after 10 seconds is killed. The data stays for the next start.
set -euo pipefail
source "$(dirname "$0")/lib/cluster.sh"

shopt -s nullglob
pids=()
for pidfile in "$run_dir"/*.pid; do
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    pids+=("$pid")
  fi
  rm -f "$pidfile"
done
for _ in $(seq 1 100); do
  alive=0
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
  ((alive)) || break
  sleep 0.1
done
for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"; done
echo "PennCloud stopped (${#pids[@]} processes). Data kept in $state."
