# A throw-away PennCloud cluster for the experiments, laid out like scripts/start.sh (config
# group + data groups of three kvs_server replicas, coordinator, frontends) but on a free
# port range and in a temporary state dir, so it never meets a cluster someone else runs.
# Sourced, not run.
#
#   pc_start              starts it; sets PC_HTTP (the :8000 equivalent) and PC_DIR
#   pc_kill NAME          SIGKILL one process (names: kvs-g1-r2, frontend-1, coordinator ...)
#   pc_restart NAME       starts it again with the same command line
#   pc_names KIND         the names of the frontends or kvs replicas (KIND = frontend|kvs)
#   pc_stop               stops everything and removes PC_DIR (unless PC_KEEP=1)
# Knobs (environment): PC_BUILD (binaries; default build/release), PC_GROUPS (data groups,
# default 3), PC_FRONTENDS (default 3), PC_FRONTEND_ARGS, PC_COORDINATOR_ARGS,
# PC_PLAINTEXT=1 (internal gRPC without TLS, --insecure_plaintext: only to measure what
# mutual TLS costs, side by side with a default run).
#
# Internal gRPC is mutual TLS as in production: a throw-away cluster CA in $PC_DIR/tls and a
# certificate per process, made by scripts/lib/tls.sh (the script start.sh uses), each
# process named with --node_name so it finds its own <name>.crt/.key in --tls_dir.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=${PC_BUILD:-$root/build/release}/bin
replicas=(1 2 3)
# The binaries get every setting as a flag; no shared config file may move their ports.
unset PENNCLOUD_CONFIG

group_port() { echo $((pc_base + 10 * $1 + $2)); }  # group (0 = config), replica
group_peers() {
  local peers=() r
  for r in "${replicas[@]}"; do peers+=("$r=127.0.0.1:$(group_port "$1" "$r")"); done
  (IFS=,; echo "${peers[*]}")
}
config_spec() {
  local spec=() r
  for r in "${replicas[@]}"; do spec+=("127.0.0.1:$(group_port 0 "$r")"); done
  (IFS=,; echo "${spec[*]}")
}
kvs_spec() { echo "config=$(config_spec)"; }

# Starts one process detached, remembering its pid under a name.
launch() {
  local name=$1
  shift
  setsid "$@" >>"$log_dir/$name.log" 2>&1 </dev/null &
  echo $! >"$run_dir/$name.pid"
  disown $! 2>/dev/null || true  # no "Killed" notes from the shell when the nemesis strikes
}

pc_free_base() {  # a base port whose next 100 ports nobody listens on
  local base p busy
  for _ in $(seq 1 50); do
    base=$((10000 + 100 * (RANDOM % 220)))  # below the ephemeral range (32768-)
    busy=$(ss -Htln "( sport >= :$base and sport < :$((base + 100)) )" 2>/dev/null | wc -l)
    ((busy == 0)) && { echo "$base"; return; }
  done
  echo "no free port range" >&2
  return 1
}

# The identity (spiffe://penncloud/...) a process launched under `name` proves.
pc_identity() {
  case $1 in
    kvs-config-r*) echo "replica/0/${1#kvs-config-r}" ;;
    kvs-g*-r*) local g=${1#kvs-g}; echo "replica/${g%%-r*}/${1##*-r}" ;;
    coordinator) echo "coordinator/coordinator" ;;
    frontend-*) echo "service/frontend/$1" ;;
    kvsctl) echo "admin/kvsctl" ;;
  esac
}

# The TLS flags of the process `name` (its certificate issued on first use).
pc_tls_flags() {
  if [[ ${PC_PLAINTEXT:-0} == 1 ]]; then
    echo "--insecure_plaintext"
    return
  fi
  bash "$root/scripts/lib/tls.sh" issue "$tls_dir" "$1" "$(pc_identity "$1")" 127.0.0.1 || return 1
  echo "--tls_dir=$tls_dir"
}

# Starts one process detached under its node name, with its certificate, and keeps its
# command line for pc_restart.
pc_launch() {
  local name=$1 tls
  shift
  mkdir -p "$run_dir" "$log_dir"
  tls=$(pc_tls_flags "$name") || return 1
  set -- "$@" --node_name="$name" "$tls"
  printf '%q ' "$@" >"$run_dir/$name.cmd"
  launch "$name" "$@"
}

pc_start() {
  PC_DIR=$(mktemp -d /tmp/penncloud-stress-XXXXXX)
  state=$PC_DIR run_dir=$PC_DIR/run log_dir=$PC_DIR/logs tls_dir=$PC_DIR/tls
  [[ ${PC_PLAINTEXT:-0} == 1 ]] || bash "$root/scripts/lib/tls.sh" ca "$tls_dir"
  pc_base=$(pc_free_base)
  data_groups=($(seq 1 "${PC_GROUPS:-3}"))
  PC_HTTP=$((pc_base + 50))
  local grpc=$((pc_base + 51)) g r i
  for r in "${replicas[@]}"; do
    pc_launch "kvs-config-r$r" "$bin/kvs_server" --id="$r" --peers="$(group_peers 0)" \
      --data_dir="$state/kvs/config-r$r"
  done
  for g in "${data_groups[@]}"; do
    for r in "${replicas[@]}"; do
      pc_launch "kvs-g$g-r$r" "$bin/kvs_server" --id="$r" --peers="$(group_peers "$g")" \
        --group="$g" --config="$(config_spec)" --data_dir="$state/kvs/g$g-r$r"
    done
  done
  local kvsctl_tls
  kvsctl_tls=$(pc_tls_flags kvsctl) || return 1
  local kvsctl=("$bin/kvsctl" "$kvsctl_tls" --config="$(config_spec)")
  for _ in $(seq 1 150); do
    "$bin/kvsctl" "$kvsctl_tls" --group="$(config_spec)" status >/dev/null 2>&1 && break
    sleep 0.2
  done
  "${kvsctl[@]}" cluster init "1@$(group_peers 1)" >"$log_dir/kvsctl.log" 2>&1 ||
    { echo "cluster init failed; see $log_dir" >&2; return 1; }
  for g in "${data_groups[@]:1}"; do
    "${kvsctl[@]}" group add "$g@$(group_peers "$g")" >>"$log_dir/kvsctl.log" 2>&1 ||
      { echo "group add $g failed; see $log_dir" >&2; return 1; }
  done
  # Every simulated user comes from 127.0.0.1: the per-address limits (connections, login
  # failures, sign-ups) would throttle the load generator itself.
  # shellcheck disable=SC2086  # the extra args are word lists on purpose
  pc_launch coordinator "$bin/coordinator" --http_port=$PC_HTTP --grpc_port=$grpc \
    --kvs="$(kvs_spec)" --max_connections_per_address=0 --login_failures_per_address=0 \
    --signups_per_hour_per_address=0 ${PC_COORDINATOR_ARGS:-}
  for i in $(seq 1 "${PC_FRONTENDS:-3}"); do
    # shellcheck disable=SC2086
    pc_launch "frontend-$i" "$bin/frontend" --port=$((pc_base + 60 + i)) --kvs="$(kvs_spec)" \
      --coordinator=127.0.0.1:$grpc --web_root="$root/web" ${PC_FRONTEND_ARGS:-}
  done
  pc_wait_ready
}

# Ready once a bad login through the coordinator gets its 401 (KVS, frontends, proxy up).
pc_wait_ready() {
  local code
  for _ in $(seq 1 300); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PC_HTTP/api/login" \
      -d '{"username":"nobody","password":"nobody-nobody"}' || true)
    [[ $code == 401 ]] && return 0
    sleep 0.2
  done
  echo "cluster in $PC_DIR not ready (last answer $code)" >&2
  return 1
}

pc_names() {
  local f
  for f in "$run_dir"/*.cmd; do
    f=$(basename "$f" .cmd)
    case $1 in
      frontend) [[ $f == frontend-* ]] && echo "$f" ;;
      kvs) [[ $f == kvs-* ]] && echo "$f" ;;
    esac
  done
  return 0
}

pc_kill() { kill -KILL "$(cat "$run_dir/$1.pid")" 2>/dev/null || true; }

pc_restart() {
  local name=$1
  # shellcheck disable=SC2046
  eval "launch $name $(cat "$run_dir/$name.cmd")"
}

pc_stop() {
  [[ -n ${PC_DIR:-} && -d $run_dir ]] || return 0
  local f
  for f in "$run_dir"/*.pid; do kill -TERM "$(cat "$f")" 2>/dev/null || true; done
  sleep 1
  for f in "$run_dir"/*.pid; do kill -KILL "$(cat "$f")" 2>/dev/null || true; done
  [[ ${PC_KEEP:-0} == 1 ]] && echo "cluster state kept in $PC_DIR" || rm -rf "$PC_DIR"
}
