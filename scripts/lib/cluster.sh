# The local PennCloud cluster's layout, shared by start.sh and stop.sh. Sourced, not run.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state=${PENNCLOUD_STATE:-$root/state}
build=${PENNCLOUD_BUILD:-$root/build/release}
bin=$build/bin
run_dir=$state/run
log_dir=$state/logs

# One data group of three replicas. The sharding work adds the config group and more groups.
kvs_replicas=(1 2 3)
kvs_port() { echo $((7010 + $1)); }
kvs_spec() {
  local spec=() id
  for id in "${kvs_replicas[@]}"; do spec+=("127.0.0.1:$(kvs_port "$id")"); done
  (IFS=,; echo "${spec[*]}")
}
kvs_peers() {
  local peers=() id
  for id in "${kvs_replicas[@]}"; do peers+=("$id=127.0.0.1:$(kvs_port "$id")"); done
  (IFS=,; echo "${peers[*]}")
}

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
