# Shared by the experiment scripts (sourced): flags, the cluster (our own or --target), a
# user_sim runner, the machine-load note, and the summary-to-table helper.
#   --target HOST:PORT   use a running PennCloud instead of starting one
#   --build DIR          where user_sim and the servers are (default build/release, what scripts/test.sh builds)
#   --out DIR            raw data and PNG (default docs/plots)
#   --stage_s S          seconds per measured point (each script has its own default)
#   --accounts N         accounts the simulated users share (default 50; each costs an
#                        Argon2id sign-up or login before the run)
# Every other flag is the script's own (see its header).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
target="" build=$repo/build/release out=$repo/docs/plots stage_s="" accounts=50
extra=()
while (($#)); do
  case $1 in
    --target) target=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --stage_s) stage_s=$2; shift 2 ;;
    --accounts) accounts=$2; shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done
export PC_BUILD=$build
sim=$build/bin/user_sim
[[ -x $sim ]] || { echo "no $sim; build it: ninja -C $build user_sim" >&2; exit 2; }
command -v gnuplot >/dev/null || { echo "gnuplot missing: scripts/setup.sh --bench" >&2; exit 2; }
mkdir -p "$out"
source "$here/cluster.sh"

# Starts our own cluster unless --target names one; sets sim_target.
ensure_cluster() {
  if [[ -n $target ]]; then
    sim_target=$target
  else
    trap pc_stop EXIT
    pc_start
    sim_target=127.0.0.1:$PC_HTTP
  fi
}

# The load others put on the machine while we measure: shown next to every figure.
machine_note() {
  echo "# $(date -u +%FT%TZ) $(nproc) cores, $(awk '{print "load average " $1 " " $2 " " $3}' /proc/loadavg)"
}

# run_sim NAME ARGS...: one user_sim run; its summary lands in $work/NAME.json.
run_sim() {
  local name=$1
  shift
  "$sim" --target="$sim_target" --summary_json="$work/$name.json" "$@" >"$work/$name.txt" 2>&1 || true
  [[ -s $work/$name.json ]] || { cat "$work/$name.txt" >&2; echo "user_sim run $name failed" >&2; return 1; }
}

# json_field FILE PYTHON-EXPR: prints an expression over the summary `s` (missing -> 0).
json_field() {
  python3 -c 'import json,sys
s=json.load(open(sys.argv[1]))
try: v=eval(sys.argv[2])
except (KeyError, IndexError, TypeError): v=0
print(v)' "$1" "$2"
}
