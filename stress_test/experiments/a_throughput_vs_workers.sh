#!/usr/bin/env bash
# Experiment (a): mixed-workload throughput against the frontends' worker-thread count and
# the number of client connections. The original PennCloud varied its HTTP thread pool
# from 10 to 10,000 threads; our frontends use a small worker pool behind asynchronous
# I/O, so we vary that pool (--workers) and, separately, the open connections.
# Each connection is a closed-loop user with no think time (the next step as soon as the
# answer arrives), so the figure is the saturation throughput.
#   stress_test/experiments/a_throughput_vs_workers.sh [--stage_s 8]
#       [--workers "2 8 32 128 512"] [--conns "10 100 1000"]
# Writes docs/plots/a_throughput_vs_workers.{dat,png}. Starts a fresh cluster per worker
# count (so --target is not supported here).
source "$(dirname "$0")/common.sh"
workers="2 8 32 128 512" conns="10 100 1000"
set -- "${extra[@]}"
while (($#)); do
  case $1 in
    --workers) workers=$2; shift 2 ;;
    --conns) conns=$2; shift 2 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
[[ -z $target ]] || { echo "experiment (a) restarts the frontends; run it without --target" >&2; exit 2; }
stage_s=${stage_s:-8}
work=$(mktemp -d /tmp/penncloud-exp-a-XXXXXX)
dat=$out/a_throughput_vs_workers.dat
{
  machine_note
  echo "# workers connections ok_per_s p50_ms p99_ms failed busy_503"
} >"$dat"
trap pc_stop EXIT
for w in $workers; do
  PC_FRONTEND_ARGS="--workers=$w" pc_start
  sim_target=127.0.0.1:$PC_HTTP
  for c in $conns; do
    run_sim "w$w-c$c" --levels="$c" --stage_s="$stage_s" --think_ms=0 --accounts="$accounts" \
      --timeout_ms=15000
    j=$work/w$w-c$c.json
    printf '%s %s %s %s %s %s %s\n' "$w" "$c" \
      "$(json_field "$j" 's["levels"][0]["ok_per_s"]')" "$(json_field "$j" 's["levels"][0]["p50_ms"]')" \
      "$(json_field "$j" 's["levels"][0]["p99_ms"]')" "$(json_field "$j" 's["levels"][0]["failed"]')" \
      "$(json_field "$j" 's["levels"][0]["outcomes"]["busy_503"]')" | tee -a "$dat"
  done
  pc_stop
done
machine_note >>"$dat"
plots=""
for c in $conns; do
  plots+="${plots:+, }'$dat' using 1:(\$2==$c ? \$3 : 1/0) with linespoints title '$c connections'"
done
gnuplot <<GP
set terminal pngcairo size 900,560
set output '$out/a_throughput_vs_workers.png'
set title 'PennCloud (a): mixed-workload throughput vs frontend worker threads'
set xlabel 'worker threads per frontend (3 frontends)'
set ylabel 'successful requests/s'
set logscale x 2
set grid
set key top left
plot $plots
GP
echo "wrote $dat and $out/a_throughput_vs_workers.png"
rm -rf "$work"
