# The local PennCloud cluster's layout, shared by start.sh and stop.sh. Sourced, not run.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state=${PENNCLOUD_STATE:-$root/state}
build=${PENNCLOUD_BUILD:-$root/build/release}
bin=$build/bin
run_dir=$state/run
log_dir=$state/logs

# The config group (the cluster map) and three data groups, three replicas each.
# Group G's replica R listens on 70GR; the config group on 700R.
replicas=(1 2 3)
data_groups=(1 2 3)
group_port() { echo $((7000 + 10 * $1 + $2)); }  # group (0 = config), replica
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

http_port=8000
coordinator_grpc_port=8100
frontend_ports=(8001 8002 8003)
smtp_port=2500
pop3_port=11000
mail_domain=${PENNCLOUD_DOMAIN:-penncloud.local}

# Starts one detached process, remembering its pid under a name.
launch() {
  local name=$1
  shift
  mkdir -p "$run_dir" "$log_dir"
  local pidfile=$run_dir/$name.pid
  if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "  $name already running (pid $(cat "$pidfile"))"
    return
  fi
  setsid "$@" >>"$log_dir/$name.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
}
