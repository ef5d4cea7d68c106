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

# The tier and client address of a process launched under `name` (this file's layout).
launch_identity() {
  case $1 in
    kvs-config-r*) echo "kvs ${address:-127.0.0.1}:$(group_port 0 "${1#kvs-config-r}")" ;;
    kvs-g*-r*)
      local g=${1#kvs-g}
      echo "kvs ${address:-127.0.0.1}:$(group_port "${g%%-r*}" "${1##*-r}")"
      ;;
    coordinator) echo "coordinator ${address:-127.0.0.1}:$http_port" ;;
    frontend-*) echo "frontend ${address:-127.0.0.1}:${1#frontend-}" ;;
    smtp) echo "smtp ${address:-127.0.0.1}:$smtp_port" ;;
    pop3) echo "pop3 ${address:-127.0.0.1}:$pop3_port" ;;
    *) echo "unknown -" ;;
  esac
}

# Starts one detached process, remembering its pid under a name, and writes its launch
# record ($run_dir/<name>.json: name, tier, address, argv, cwd, log, pid), through which
# the admin console stops and starts it (docs/admin.md).
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
  local pid=$!
  echo "$pid" >"$pidfile"
  local identity
  read -r -a identity <<<"$(launch_identity "$name")"
  python3 -c 'import json, os, sys
name, tier, address, log, pid, out = sys.argv[1:7]
record = {"name": name, "tier": tier, "address": address, "argv": sys.argv[7:],
          "cwd": os.getcwd(), "log": log, "pid": int(pid)}
with open(out + ".tmp", "w") as f:
    json.dump(record, f, indent=2)
os.replace(out + ".tmp", out)' "$name" "${identity[0]}" "${identity[1]}" "$log_dir/$name.log" \
    "$pid" "$run_dir/$name.json" "$@"
}
