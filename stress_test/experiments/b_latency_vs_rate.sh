#!/usr/bin/env bash
# Experiment (b): response time against offered request rate. A fixed crowd of users
# (default 1000) runs the mixed visit open loop: each step is due on a Poisson schedule
# whatever the answers do, and its response time counts from when it was due, so a server
# that falls behind shows the queueing it causes instead of hiding it.
#   stress_test/experiments/b_latency_vs_rate.sh [--target H:P] [--stage_s 10]
#       [--rates "100 250 500 1000 1500 2000 3000"] [--users 1000]
# Writes docs/plots/b_latency_vs_rate.{dat,png}.
source "$(dirname "$0")/common.sh"
rates="100 250 500 1000 1500 2000 3000" users=1000
set -- "${extra[@]}"
while (($#)); do
  case $1 in
    --rates) rates=$2; shift 2 ;;
    --users) users=$2; shift 2 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
stage_s=${stage_s:-10}
ensure_cluster
work=$(mktemp -d /tmp/penncloud-exp-b-XXXXXX)
dat=$out/b_latency_vs_rate.dat
{
  machine_note
  echo "# offered_per_s ok_per_s mean_ms p50_ms p99_ms failed busy_503"
} >"$dat"
for r in $rates; do
  run_sim "r$r" --levels="$users" --stage_s="$stage_s" --rate="$r" --accounts="$accounts" --timeout_ms=15000
  j=$work/r$r.json
  printf '%s %s %s %s %s %s %s\n' "$r" "$(json_field "$j" 's["levels"][0]["ok_per_s"]')" \
    "$(json_field "$j" 's["levels"][0]["mean_ms"]')" "$(json_field "$j" 's["levels"][0]["p50_ms"]')" \
    "$(json_field "$j" 's["levels"][0]["p99_ms"]')" "$(json_field "$j" 's["levels"][0]["failed"]')" \
    "$(json_field "$j" 's["levels"][0]["outcomes"]["busy_503"]')" | tee -a "$dat"
done
machine_note >>"$dat"
gnuplot <<GP
set terminal pngcairo size 900,560
set output '$out/b_latency_vs_rate.png'
set title 'PennCloud (b): response time vs offered request rate ($users users, open loop)'
set xlabel 'offered requests/s'
set ylabel 'response time (ms)'
set logscale y
set grid
set key top left
set y2label 'served requests/s'
set y2tics
plot '$dat' using 1:3 with linespoints title 'mean', \
     '$dat' using 1:5 with linespoints title 'p99', \
     '$dat' using 1:2 axes x1y2 with linespoints dashtype 2 title 'served/s (right)'
GP
echo "wrote $dat and $out/b_latency_vs_rate.png"
rm -rf "$work"
