# The local PennCloud cluster's layout, shared by start.sh and stop.sh. Sourced, not run.
# The layout comes from the [cluster] table of the config file (config/penncloud.conf, or the
# file $PENNCLOUD_CONFIG names); the binaries read their own tables of the same file.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
config_file=${PENNCLOUD_CONFIG:-$root/config/penncloud.conf}
if [[ ! -r $config_file ]]; then
  echo "cannot read the config file $config_file (set PENNCLOUD_CONFIG to another)" >&2
  exit 1
fi
config_file=$(cd "$(dirname "$config_file")" && pwd)/$(basename "$config_file")
export PENNCLOUD_CONFIG=$config_file

# Prints KEY of [TABLE] in the config file: quotes dropped, a list as space-separated words.
# The binaries check the whole file (start.sh runs each with --check_config); this reader
# only needs the simple "key = value" lines of [cluster].
conf_get() {
  awk -v table="$1" -v key="$2" '
    { sub(/#.*/, "") }
    /^[[:space:]]*\[/ { gsub(/[][[:space:]]/, ""); in_table = ($0 == table); next }
    in_table && match($0, "^[[:space:]]*" key "[[:space:]]*=") {
      value = substr($0, RLENGTH + 1)
      gsub(/[][",]/, " ", value)
      gsub(/^[[:space:]]+|[[:space:]]+$/, "", value)
      gsub(/[[:space:]]+/, " ", value)
      print value
      exit
    }' "$config_file"
}
# KEY of [cluster], or DEFAULT when the file leaves it out.
cluster_conf() {
  local value
  value=$(conf_get cluster "$1")
  echo "${value:-$2}"
}

state_dir=$(cluster_conf state_dir state)
[[ $state_dir == /* ]] || state_dir=$root/$state_dir
state=${PENNCLOUD_STATE:-$state_dir}
build=${PENNCLOUD_BUILD:-$root/build/release}
bin=$build/bin
run_dir=$state/run
log_dir=$state/logs

# The config group (the cluster map) and the data groups, each of the same replica count.
# Group G's replica R listens on kvs_port_base + 10*G + R (the config group is G = 0).
address=$(cluster_conf address 127.0.0.1)
kvs_port_base=$(cluster_conf kvs_port_base 7000)
mapfile -t replicas < <(seq 1 "$(cluster_conf replicas 3)")
mapfile -t data_groups < <(seq 1 "$(cluster_conf data_groups 3)")
group_port() { echo $((kvs_port_base + 10 * $1 + $2)); }  # group (0 = config), replica
group_peers() {
  local peers=() r
  for r in "${replicas[@]}"; do peers+=("$r=$address:$(group_port "$1" "$r")"); done
  (IFS=,; echo "${peers[*]}")
}
group_addresses() {  # the client addresses of group G's replicas, comma-separated
  local spec=() r
  for r in "${replicas[@]}"; do spec+=("$address:$(group_port "$1" "$r")"); done
  (IFS=,; echo "${spec[*]}")
}
config_spec() { group_addresses 0; }
kvs_spec() { echo "config=$(config_spec)"; }

http_port=$(cluster_conf http_port 8000)
coordinator_grpc_port=$(cluster_conf coordinator_grpc_port 8100)
# The coordinators: one per address of [cluster] coordinators (default: just `address`), each
# serving http_port, https_port and coordinator_grpc_port on its own address. They hold only
# soft state (docs/coordinator.md), and every frontend and mail server beats to all of them.
read -ra coordinator_addresses <<<"$(cluster_conf coordinators "$address")"
# Launch name of coordinator I (from 0): "coordinator", then "coordinator-2", ...
coordinator_name() {
  if (($1 == 0)); then echo coordinator; else echo "coordinator-$(($1 + 1))"; fi
}
coordinator_address() {  # launch name -> its address
  local i=0
  [[ $1 == coordinator-* ]] && i=$((${1#coordinator-} - 1))
  echo "${coordinator_addresses[$i]}"
}
coordinator_grpc_list() {  # the --coordinator flag of every node: all gRPC addresses
  local list=() a
  for a in "${coordinator_addresses[@]}"; do list+=("$a:$coordinator_grpc_port"); done
  (IFS=,; echo "${list[*]}")
}
read -ra frontend_ports <<<"$(cluster_conf frontend_ports "8001 8002 8003")"
smtp_port=$(cluster_conf smtp_port 2500)
pop3_port=$(cluster_conf pop3_port 11000)
smtps_port=$(cluster_conf smtps_port 4650)  # submission with implicit TLS (RFC 8314)
pop3s_port=$(cluster_conf pop3s_port 9950)  # POP3 with implicit TLS
imap_port=$(cluster_conf imap_port 14300)   # IMAP, logins after STARTTLS
imaps_port=$(cluster_conf imaps_port 9930)  # IMAP with implicit TLS
https_port=$(cluster_conf https_port 8443)  # the coordinator's HTTPS
mail_domain=${PENNCLOUD_DOMAIN:-$(cluster_conf domain penncloud.local)}
# Every process serves Prometheus metrics at /metrics on its main port + this offset
# (docs/operations.md, "Metrics, logs, shutdown"); docker/prometheus.yml scrapes them.
metrics_port_offset=$(cluster_conf metrics_port_offset 10000)
metrics_listen() { echo "--metrics_listen=${2:-$address}:$(($1 + metrics_port_offset))"; }  # port [host]

# The tier and client address of a process launched under `name` (this file's layout).
launch_identity() {
  case $1 in
    kvs-config-r*) echo "kvs ${address:-127.0.0.1}:$(group_port 0 "${1#kvs-config-r}")" ;;
    kvs-g*-r*)
      local g=${1#kvs-g}
      echo "kvs ${address:-127.0.0.1}:$(group_port "${g%%-r*}" "${1##*-r}")"
      ;;
    coordinator*) echo "coordinator $(coordinator_address "$1"):$http_port" ;;
    frontend-*) echo "frontend ${address:-127.0.0.1}:${1#frontend-}" ;;
    smtp) echo "smtp ${address:-127.0.0.1}:$smtp_port" ;;
    pop3) echo "pop3 ${address:-127.0.0.1}:$pop3_port" ;;
    imap) echo "imap ${address:-127.0.0.1}:$imap_port" ;;
    *) echo "unknown -" ;;
  esac
}

# The node name (node= in its log lines, its name in heartbeats and in the admin console) of
# a process launched under `name`: replica R of group G is kvs-gG-R (config group:
# kvs-config-R), every other process is named as launched.
node_name() {
  case $1 in
    kvs-config-r*) echo "kvs-config-${1#kvs-config-r}" ;;
    kvs-g*-r*) echo "${1%-r*}-${1##*-r}" ;;
    *) echo "$1" ;;
  esac
}

# Mutual TLS inside the cluster (docs/security.md): the cluster CA and one certificate per
# process live in tls_dir ([cluster] tls_dir, default state/tls). With the CA's key there,
# start.sh issues what is missing or expires within 30 days; an operator whose CA key stays
# elsewhere puts ca.crt and every <node name>.crt/.key there instead.
tls_dir=$(cluster_conf tls_dir "")
if [[ -z $tls_dir ]]; then
  tls_dir=$state/tls
elif [[ $tls_dir != /* ]]; then
  tls_dir=$root/$tls_dir
fi
tls_flag="--tls_dir=$tls_dir"
# The identity a process launched under `name` proves with its certificate.
tls_identity() {
  case $1 in
    kvs-config-r*) echo "replica/0/${1#kvs-config-r}" ;;
    kvs-g*-r*)
      local g=${1#kvs-g}
      echo "replica/${g%%-r*}/${1##*-r}"
      ;;
    coordinator*) echo "coordinator/$1" ;;
    frontend-*) echo "service/frontend/$1" ;;
    smtp | pop3 | imap) echo "service/$1/$1" ;;
    kvsctl) echo "admin/kvsctl" ;;
  esac
}
# Makes sure `name` has a current certificate (when this cluster's CA key is at hand).
tls_certificate() {
  local name=$1 node ip=$address identity
  node=$(node_name "$name")
  read -r -a identity <<<"$(launch_identity "$name")"
  [[ ${identity[1]} != - ]] && ip=${identity[1]%:*}  # a coordinator's own address
  if [[ -s $tls_dir/ca.key ]]; then
    bash "$root/scripts/lib/tls.sh" issue "$tls_dir" "$node" "$(tls_identity "$name")" "$ip"
  elif [[ ! -s $tls_dir/$node.crt || ! -s $tls_dir/$node.key || ! -s $tls_dir/ca.crt ]]; then
    echo "no certificate for $node in $tls_dir (and no CA key there to issue one)" >&2
    return 1
  fi
}

# Starts one detached process, remembering its pid under a name, and writes its launch
# record ($run_dir/<name>.json: name, tier, address, argv, cwd, log, pid), through which
# the admin console stops and starts it (docs/admin.md).
launch() {
  local name=$1
  shift
  tls_certificate "$name"
  set -- "$@" "--node_name=$(node_name "$name")" "$tls_flag"
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

# Why replica group G (0 = the config group) is not ready yet; prints nothing when it is.
# Ready means every replica answers, one of them is the leader, and every replica has
# applied all that leader has committed (a replica still replaying its log at start-up
# lags behind). The map steps of start.sh need every group ready: a group that is still
# electing or replaying makes them fail.
kvs_group_not_ready() {
  local out
  if ! out=$("$bin/kvsctl" "$tls_flag" --timeout_ms=2000 --group="$(group_addresses "$1")" status 2>&1); then
    echo "no replica answers"
    return
  fi
  awk '
    / unreachable/ { print $1 " does not answer"; bad = 1; exit }
    {
      for (i = 2; i <= NF; ++i) {
        split($i, kv, "=")
        field[kv[1]] = kv[2]
      }
      applied[$1] = field["applied"]
      if (field["role"] == "leader") { leaders++; commit = field["commit"] }
    }
    END {
      if (bad) exit
      if (leaders == 0) { print "no leader yet"; exit }
      for (a in applied) {
        if (applied[a] + 0 < commit + 0) {
          print a " has applied slot " applied[a] " of the " commit " committed (replaying its log?)"
          exit
        }
      }
    }' <<<"$out"
}

# Waits until every replica group is ready (kvs_group_not_ready), at most $1 seconds; on
# timeout says which group is not and why, with where its logs are, and fails.
wait_kvs_ready() {
  local deadline=$((SECONDS + $1)) next_report=$((SECONDS + 10)) g why
  while :; do
    why=
    for g in 0 "${data_groups[@]}"; do
      why=$(kvs_group_not_ready "$g")
      [[ -n $why ]] && break
    done
    [[ -z $why ]] && return 0
    local name="kvs group $g"
    ((g == 0)) && name="the config group"
    if ((SECONDS >= deadline)); then
      echo "the key-value store is not ready after $1 s: $name: $why; logs are in $log_dir" >&2
      return 1
    fi
    if ((SECONDS >= next_report)); then
      echo "   waiting for $name: $why"
      next_report=$((SECONDS + 10))
    fi
    sleep 0.3
  done
}
