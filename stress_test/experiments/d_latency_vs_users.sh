#!/usr/bin/env bash
# Experiment (d): average response time against concurrent simulated users, ramping from
# 100 to 10,000 in one run (each user a keep-alive connection through the coordinator,
# closed loop with exponential think time, mean 1 s by default).
#   stress_test/experiments/d_latency_vs_users.sh [--target H:P] [--stage_s 20]
#       [--levels 100,500,1000,2000,5000,10000] [--think_ms 1000]
# Writes docs/plots/d_latency_vs_users.{dat,png}.
source "$(dirname "$0")/common.sh"
levels=100,500,1000,2000,5000,10000 think=1000
set -- "${extra[@]}"
while (($#)); do
  case $1 in
    --levels) levels=$2; shift 2 ;;
    --think_ms) think=$2; shift 2 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
stage_s=${stage_s:-20}
ensure_cluster
work=$(mktemp -d /tmp/penncloud-exp-d-XXXXXX)
run_sim ramp --levels="$levels" --stage_s="$stage_s" --think_ms="$think" --accounts="$accounts" \
  --timeout_ms=15000
dat=$out/d_latency_vs_users.dat
{
  machine_note
  echo "# think ${think} ms, ${stage_s} s per level"
  echo "# users ok_per_s mean_ms p50_ms p99_ms failed busy_503"
  python3 - "$work/ramp.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
for l in s["levels"]:
    print(l["users"], round(l.get("ok_per_s", 0), 1), round(l.get("mean_ms", 0), 2),
          round(l.get("p50_ms", 0), 2), round(l.get("p99_ms", 0), 2), l["failed"],
          l.get("outcomes", {}).get("busy_503", 0))
PY
} >"$dat"
cat "$dat"
gnuplot <<GP
set terminal pngcairo size 900,560
set output '$out/d_latency_vs_users.png'
set title 'PennCloud (d): response time vs concurrent users (think ${think} ms)'
set xlabel 'concurrent simulated users'
set ylabel 'response time (ms)'
set logscale x
set grid
set key top left
set y2label 'served requests/s'
set y2tics
plot '$dat' using 1:3 with linespoints title 'mean', \
     '$dat' using 1:5 with linespoints title 'p99', \
     '$dat' using 1:2 axes x1y2 with linespoints dashtype 2 title 'served/s (right)'
GP
echo "wrote $dat and $out/d_latency_vs_users.png"
rm -rf "$work"
