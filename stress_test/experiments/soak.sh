#!/usr/bin/env bash
# Soak (not in CI): the mixed user visit for a long time while a nemesis SIGKILLs a random
# frontend or KVS replica (data or config group) every minute and restarts it `--down_s`
# later. Users retry what a browser would retry (503/502/504, timeouts, broken connections,
# up to 5 times with backoff); at the end user_sim re-reads every acknowledged mail and file.
#   stress_test/experiments/soak.sh [--duration_s 3600] [--users 200] [--think_ms 500]
#       [--kill_every_s 60] [--down_s 10]
# Prints the users' errors (beyond retried requests) and the verification; raw data in
# stress_test/results/soak-<time>/. Exit 0 only if both are clean.
source "$(dirname "$0")/common.sh"
duration=3600 users=200 think=500 every=60 down=10
set -- "${extra[@]}"
while (($#)); do
  case $1 in
    --duration_s) duration=$2; shift 2 ;;
    --users) users=$2; shift 2 ;;
    --think_ms) think=$2; shift 2 ;;
    --kill_every_s) every=$2; shift 2 ;;
    --down_s) down=$2; shift 2 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
[[ -z $target ]] || { echo "the soak kills its own cluster's processes; run it without --target" >&2; exit 2; }
((down < every)) || { echo "--down_s must be shorter than --kill_every_s" >&2; exit 2; }
res=$repo/stress_test/results/soak-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$res"
work=$res
ensure_cluster
machine_note | tee "$res/nemesis.log"
start=$SECONDS
"$sim" --target="$sim_target" --levels="$users" --stage_s="$duration" --think_ms="$think" \
  --accounts="$accounts" --retries=5 --timeout_ms=10000 --verify --csv="$res/requests.csv" \
  --summary_json="$res/summary.json" >"$res/user_sim.txt" 2>&1 &
sim_pid=$!
victims=($(pc_names frontend) $(pc_names kvs))
kills=0
while kill -0 "$sim_pid" 2>/dev/null && ((SECONDS - start + every + 5 < duration)); do
  sleep $((every - down))
  victim=${victims[RANDOM % ${#victims[@]}]}
  echo "$(date -u +%T) +$((SECONDS - start))s SIGKILL $victim" | tee -a "$res/nemesis.log"
  pc_kill "$victim"
  kills=$((kills + 1))
  sleep "$down"
  pc_restart "$victim"
  echo "$(date -u +%T) +$((SECONDS - start))s restarted $victim" | tee -a "$res/nemesis.log"
done
set +e
wait "$sim_pid"
sim_rc=$?
set -e
machine_note | tee -a "$res/nemesis.log"
cat "$res/user_sim.txt"
echo "nemesis: $kills kills over ${duration}s; user_sim exit $sim_rc; raw data in $res"
gzip -f "$res/requests.csv"
exit "$sim_rc"
