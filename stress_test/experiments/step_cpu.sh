#!/usr/bin/env bash
# Server CPU per user step, for every step kind: on a fresh cluster (cluster.sh: config
# group, three data groups of three replicas, coordinator, three frontends), user_sim runs
# one kind of step at a time, open loop at a fixed rate, and reads the CPU of every server
# process from /proc/<pid>/stat at the start and end of its measured level
# (user_sim --server_pids). CPU per step is that CPU over the steps answered 2xx in the level,
# summed by process kind. CPU figures move much less with other people's load than
# latencies do, which is why they are the figure of record on a shared machine.
#
#   stress_test/experiments/step_cpu.sh [--build DIR]... [--rounds N] [--rate 200]
#       [--users 200] [--stage_s 10] [--steps "send_mail list_inbox ... mixed"]
#       [--sim BIN] [--out FILE]
#
# Several --build folders are measured round by round, alternating (A B A B ...), each round
# on a fresh cluster of that build's binaries; the table gives the median over rounds. The
# load generator is one binary for all (--sim, default the first build's user_sim).
# Kinds: list_inbox read_mail send_mail list_drive upload download, and `mixed` (the whole
# visit of experiment b). send_mail runs first so the inboxes have mail to list and read; a
# read-only (download-only) user lists its inbox (uploads its file) once before the level.
# The idle row is the cluster's CPU per second with no load, measured before the steps.
# Raw summaries and the table go to --out's folder (default /tmp/penncloud-step-cpu-<time>/).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
builds=() rounds=1 rate=200 users=200 stage_s=10 sim="" out=""
steps="send_mail list_inbox read_mail list_drive upload download mixed"
while (($#)); do
  case $1 in
    --build) builds+=("$(cd "$2" && pwd)"); shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --users) users=$2; shift 2 ;;
    --stage_s) stage_s=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --sim) sim=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
((${#builds[@]})) || builds=("$repo/build/release")
sim=${sim:-${builds[0]}/bin/user_sim}
[[ -x $sim ]] || { echo "no $sim; build it: ninja -C ${builds[0]} user_sim" >&2; exit 2; }
out=${out:-/tmp/penncloud-step-cpu-$(date -u +%Y%m%dT%H%M%SZ)/table.md}
raw=$(dirname "$out")
mkdir -p "$raw"
source "$here/cluster.sh"
trap pc_stop EXIT

# name=pid of every server process of the running cluster, for user_sim --server_pids.
server_pids() {
  local f name pids=()
  for f in "$run_dir"/*.pid; do
    name=$(basename "$f" .pid)
    pids+=("$name=$(cat "$f")")
  done
  (IFS=,; echo "${pids[*]}")
}

# Idle CPU (ms per second) of every server process over `stage_s`, as JSON {name: ms/s}.
idle_cpu() {
  python3 - "$stage_s" "$(server_pids)" <<'PY'
import json, os, sys, time
stage, spec = float(sys.argv[1]), sys.argv[2]
procs = dict(p.split("=") for p in spec.split(","))
tick = os.sysconf("SC_CLK_TCK")
def cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick
before = {n: cpu(p) for n, p in procs.items()}
time.sleep(stage)
print(json.dumps({n: (cpu(p) - before[n]) * 1000 / stage for n, p in procs.items()}))
PY
}

for round in $(seq 1 "$rounds"); do
  for b in "${!builds[@]}"; do
    bin=${builds[$b]}/bin  # whose servers cluster.sh starts
    pc_start
    for f in "$run_dir"/*.pid; do  # the figures must be the servers', not a wrapper's
      comm=$(cat "/proc/$(cat "$f")/comm")
      [[ $comm == kvs_server || $comm == coordinator || $comm == frontend ]] ||
        { echo "$(basename "$f" .pid) runs as '$comm', not a server" >&2; exit 1; }
    done
    tag="b$b-r$round"
    idle_cpu >"$raw/$tag-idle.json"
    for kind in $steps; do
      step_flag=()
      [[ $kind == mixed ]] || step_flag=(--steps="$kind")
      "$sim" --target="127.0.0.1:$PC_HTTP" --levels="$users" --rate="$rate" \
        --stage_s="$stage_s" --timeout_ms=15000 "${step_flag[@]}" \
        --server_pids="$(server_pids)" --summary_json="$raw/$tag-$kind.json" \
        >"$raw/$tag-$kind.txt" 2>&1 || true
      [[ -s $raw/$tag-$kind.json ]] || { cat "$raw/$tag-$kind.txt" >&2; exit 1; }
      printf '%s %s %s %s\n' "$tag" "$kind" "$(cut -d' ' -f1-3 /proc/loadavg)" \
        "$(tail -n +2 "$raw/$tag-$kind.txt" | head -1)" >&2
    done
    pc_stop
  done
done

python3 - "$raw" "$rounds" "$steps" "${builds[@]}" >"$out" <<'PY'
import json, statistics, sys
raw, rounds, steps, builds = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4:]
kinds = ["coordinator", "frontend", "kvs data", "kvs config"]
def kind_of(name):
    if name.startswith("kvs-config"): return "kvs config"
    if name.startswith("kvs-"): return "kvs data"
    if name.startswith("frontend"): return "frontend"
    return name
def by_kind(per_process):
    out = dict.fromkeys(kinds, 0.0)
    for name, ms in per_process.items():
        out[kind_of(name)] = out.get(kind_of(name), 0.0) + ms
    return out
print("Server CPU per step (ms; median over %d round(s)), by process kind; idle in ms/s.\n" % rounds)
print("| build | step | ok/s | p50 ms | p99 ms | failed | " + " | ".join(kinds) + " | total |")
print("| --- | --- | ---: | ---: | ---: | ---: | " + " | ".join("---:" for _ in kinds) + " | ---: |")
for b, build in enumerate(builds):
    rows = {}
    for step in ["idle"] + steps:
        samples = []
        for r in range(1, rounds + 1):
            tag = f"b{b}-r{r}"
            if step == "idle":
                cpu = by_kind(json.load(open(f"{raw}/{tag}-idle.json")))
                samples.append({"cpu": cpu, "ok_per_s": 0, "p50": 0, "p99": 0, "failed": 0})
                continue
            level = json.load(open(f"{raw}/{tag}-{step}.json"))["levels"][0]
            ok = max(level["ok"], 1)
            cpu = {k: v / ok for k, v in by_kind(level.get("server_cpu_ms", {})).items()}
            samples.append({"cpu": cpu, "ok_per_s": level.get("ok_per_s", 0),
                            "p50": level.get("p50_ms", 0), "p99": level.get("p99_ms", 0),
                            "failed": level["failed"]})
        med = lambda f: statistics.median(f(s) for s in samples)
        cells = [med(lambda s, k=k: s["cpu"][k]) for k in kinds]
        print(f"| {build.split('/')[-1]} | {step} | {med(lambda s: s['ok_per_s']):.0f} | "
              f"{med(lambda s: s['p50']):.1f} | {med(lambda s: s['p99']):.1f} | "
              f"{sum(s['failed'] for s in samples)} | " + " | ".join(f"{c:.2f}" for c in cells) +
              f" | {sum(cells):.2f} |")
PY
cat "$out"
echo "raw summaries in $raw" >&2
