# shellcheck shell=bash
# One 3-replica KVS group on loopback for the benchmark scripts (stress_test/kvs_bench/
# kvs_profile.sh and ab_compare.sh, stress_test/kvs_vs_etcd.sh). Sourced, not run.
#
# TLS_FLAG, wherever a function takes one, is what both kvs_server and kvsctl are given:
# --insecure_plaintext, or --tls_dir=DIR of a folder kvs_group_pki filled.

# Stops each pid (SIGTERM, then SIGKILL after 10 s) and waits for it to exit.
stop_and_wait() {
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

# kvs_group_pki DIR: a throw-away CA in DIR with the certificates of replicas 1-3 of group 0,
# kvsctl and kvs_bench, all for 127.0.0.1.
kvs_group_pki() {
  local lib i
  lib=$(dirname "${BASH_SOURCE[0]}")
  bash "$lib/tls.sh" ca "$1"
  for i in 1 2 3; do bash "$lib/tls.sh" issue "$1" "kvs-$i" "replica/0/$i" 127.0.0.1; done
  bash "$lib/tls.sh" issue "$1" kvsctl admin/kvsctl 127.0.0.1
  bash "$lib/tls.sh" issue "$1" kvs-bench admin/kvs-bench 127.0.0.1
}

# kvs_group_spec BASE_PORT: the group's client addresses (replica i on BASE_PORT + i - 1).
kvs_group_spec() {
  echo "127.0.0.1:$1,127.0.0.1:$(($1 + 1)),127.0.0.1:$(($1 + 2))"
}

# kvs_group_leader BIN_DIR BASE_PORT TLS_FLAG: the id of the replica that says it leads, or
# nothing.
kvs_group_leader() {
  "$1/kvsctl" "$3" --group="$(kvs_group_spec "$2")" --timeout_ms=1000 status 2>/dev/null |
    sed -n 's/.* id=\([0-9]*\) role=leader .*/\1/p' | head -1
}

# kvs_group_start BIN_DIR BASE_PORT DIR TLS_FLAG: a fresh group of BIN_DIR's kvs_server, replica
# i with its data in DIR/ri and its log in DIR/ri.log. KVS_GROUP_PIDS holds the replicas' pids
# (replica i at index i-1). Returns once a replica says it leads; if none does within 30 s,
# stops them and returns 1.
kvs_group_start() {
  local bin=$1 port=$2 dir=$3 tls=$4 i
  local peers="1=127.0.0.1:$port,2=127.0.0.1:$((port + 1)),3=127.0.0.1:$((port + 2))"
  KVS_GROUP_PIDS=()
  mkdir -p "$dir"
  for i in 1 2 3; do
    "$bin/kvs_server" --id="$i" --peers="$peers" --data_dir="$dir/r$i" "$tls" --log_level=warn \
      >"$dir/r$i.log" 2>&1 &
    KVS_GROUP_PIDS+=($!)
  done
  for _ in $(seq 1 150); do
    [[ -n $(kvs_group_leader "$bin" "$port" "$tls") ]] && return 0
    sleep 0.2
  done
  echo "no leader elected in the KVS group of $bin; see $dir/r*.log" >&2
  stop_and_wait "${KVS_GROUP_PIDS[@]}"
  KVS_GROUP_PIDS=()
  return 1
}

# kvs_workload_flags NAME: kvs_bench's flags for a workload the scripts name alike: write64
# (64 writers), read90 (64 clients, 90% reads), write1 (one writer); 128-byte values. Returns
# 1 for another name.
kvs_workload_flags() {
  case $1 in
    write64) echo "--clients=64 --read_fraction=0 --value_size=128" ;;
    read90) echo "--clients=64 --read_fraction=0.9 --value_size=128" ;;
    write1) echo "--clients=1 --read_fraction=0 --value_size=128" ;;
    *) return 1 ;;
  esac
}
