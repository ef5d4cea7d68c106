#!/usr/bin/env bash
# Starts the whole PennCloud system on this machine, from nothing: installs what is missing,
# builds, launches the cluster on loopback, waits until it is healthy, and prints the URL,
# the admin login and the mail settings. Running it again restarts the same cluster on the
# same data (state/ or $PENNCLOUD_STATE). Ports, paths, the mail domain and the group layout
# come from config/penncloud.conf (or the file $PENNCLOUD_CONFIG names).
#   scripts/start.sh             install, build, start
#   scripts/start.sh --no-build  start what is already built (a quick restart)
set -euo pipefail
source "$(dirname "$0")/lib/cluster.sh"

binaries=(kvs_server kvsctl coordinator frontend smtp pop3 imap)
if [[ "${1:-}" != "--no-build" ]]; then
  echo "== Installing dependencies"
  bash "$root/scripts/setup.sh"
  echo "== Building into $build (the first time takes a while: ~20 min on 2 cores)"
  mkdir -p "$build"
  build_log=$build/start-build.log
  if ! { cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release &&
    ninja -C "$build" -j"$(nproc)" "${binaries[@]}"; } >"$build_log" 2>&1; then
    tail -n 30 "$build_log" >&2
    echo "the build failed; the whole output is in $build_log" >&2
    exit 1
  fi
fi
for b in "${binaries[@]}"; do
  if [[ ! -x $bin/$b ]]; then
    echo "$bin/$b is missing: run scripts/start.sh without --no-build" >&2
    exit 1
  fi
done

# Every binary checks its own table of the config file before anything starts.
for b in "${binaries[@]}"; do
  "$bin/$b" --check_config >/dev/null || exit 1
done

# A port another program holds would only show up later as a cluster that never gets healthy.
running=0
for pidfile in "$run_dir"/*.pid; do
  [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null && running=1
done
if ((!running)); then
  for port in "$http_port" "$https_port" "$coordinator_grpc_port" "${frontend_ports[@]}" "$smtp_port" \
    "$pop3_port" "$imap_port" $(for g in 0 "${data_groups[@]}"; do for r in "${replicas[@]}"; do
      group_port "$g" "$r"; done; done); do
    for p in "$port" $((port + metrics_port_offset)); do
      if ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then
        echo "port $p is already in use by another program (see: ss -ltnp 'sport = :$p');" \
          "free it or change the [cluster] ports in $config_file" >&2
        exit 1
      fi
    done
  done
fi

mkdir -p "$state"
if [[ ! -s $state/admin-password ]]; then
  (umask 077 && openssl rand -base64 18 | tr -d '/+=' >"$state/admin-password")
fi

# The cluster CA, made on the first start (docs/security.md); each launch issues its
# process's certificate from it.
if [[ ! -s $tls_dir/ca.crt ]]; then
  bash "$root/scripts/lib/tls.sh" ca "$tls_dir"
fi
tls_certificate kvsctl
bash "$root/scripts/lib/dkim.sh" "$(conf_get smtp dkim_dir)" "$state/dkim" "$mail_domain"  # DKIM keys + DNS records

echo "== Starting the key-value store (config group + ${#data_groups[@]} data groups)"
for r in "${replicas[@]}"; do
  launch "kvs-config-r$r" "$bin/kvs_server" --id="$r" --peers="$(group_peers 0)" \
    --data_dir="$state/kvs/config-r$r" "$(metrics_listen "$(group_port 0 "$r")")"
done
for g in "${data_groups[@]}"; do
  for r in "${replicas[@]}"; do
    launch "kvs-g$g-r$r" "$bin/kvs_server" --id="$r" --peers="$(group_peers "$g")" \
      --group="$g" --config="$(config_spec)" --data_dir="$state/kvs/g$g-r$r" \
      "$(metrics_listen "$(group_port "$g" "$r")")"
  done
done
kvsctl=("$bin/kvsctl" "$tls_flag" --config="$(config_spec)")
# Runs a command quietly; its output is shown only if it fails.
quietly() {
  local out
  if ! out=$("$@" 2>&1); then
    echo "$out" >&2
    return 1
  fi
}
wait_kvs_ready "${PENNCLOUD_KVS_READY_TIMEOUT:-120}"
# The first start creates the map with group 1 and adds the others one at a time, so rows
# written by an older single-group layout move to their owners. A later start finds the
# map, finishes a rebalance a crash interrupted, and changes nothing else.
set +e
"${kvsctl[@]}" cluster show >/dev/null 2>&1
shown=$?
set -e
if ((shown == 3)); then
  quietly "${kvsctl[@]}" cluster init "1@$(group_peers 1)"
elif ((shown != 0)); then
  echo "the config group does not answer; logs are in $log_dir" >&2
  exit 1
fi
quietly "${kvsctl[@]}" rebalance
for g in "${data_groups[@]}"; do
  if ! "${kvsctl[@]}" cluster show | grep -q "^group $g "; then
    echo "   adding group $g to the ring"
    quietly "${kvsctl[@]}" group add "$g@$(group_peers "$g")"
  fi
done

echo "== Starting ${#coordinator_addresses[@]} coordinator(s) and the frontends"
# HTTPS: the operator's certificate if [web] names one (the coordinator reads it from the
# config itself), else one per coordinator from the cluster CA for its address, 127.0.0.1,
# localhost and [web] dns_name (identity web/https, which grants nothing inside the cluster).
for i in "${!coordinator_addresses[@]}"; do
  name=$(coordinator_name "$i")
  caddress=${coordinator_addresses[$i]}
  https_flags=(--https_port="$https_port")
  if [[ -z $(conf_get web tls_cert) ]]; then
    cert=https
    ((i == 0)) || cert=https-$name
    # shellcheck disable=SC2046  # dns_name is one word or none
    bash "$root/scripts/lib/tls.sh" issue "$tls_dir" "$cert" web/https 127.0.0.1 "$caddress" \
      $(conf_get web dns_name)
    https_flags+=(--tls_cert="$tls_dir/$cert.crt" --tls_key="$tls_dir/$cert.key")
  fi
  launch "$name" "$bin/coordinator" --address="$caddress" --http_port=$http_port \
    --grpc_port=$coordinator_grpc_port --kvs="$(kvs_spec)" \
    --admin_password_file="$state/admin-password" --run_dir="$run_dir" \
    "${https_flags[@]}" "$(metrics_listen "$http_port" "$caddress")"
done
for port in "${frontend_ports[@]}"; do
  launch "frontend-$port" "$bin/frontend" --address="$address" --port="$port" \
    --kvs="$(kvs_spec)" --coordinator="$(coordinator_grpc_list)" --mail_domain="$mail_domain" \
    "$(metrics_listen "$port")"
done

echo "== Starting SMTP, POP3 and IMAP"
launch smtp "$bin/smtp" --address="$address" --port=$smtp_port --smtps_port=$smtps_port \
  --kvs="$(kvs_spec)" --domain="$mail_domain" --state_dir="$state" \
  --coordinator="$(coordinator_grpc_list)" "$(metrics_listen "$smtp_port")"
launch pop3 "$bin/pop3" --address="$address" --port=$pop3_port --pop3s_port=$pop3s_port \
  --kvs="$(kvs_spec)" --domain="$mail_domain" --state_dir="$state" \
  --coordinator="$(coordinator_grpc_list)" "$(metrics_listen "$pop3_port")"
launch imap "$bin/imap" --address="$address" --port=$imap_port --imaps_port=$imaps_port \
  --kvs="$(kvs_spec)" --domain="$mail_domain" --state_dir="$state" \
  --coordinator="$(coordinator_grpc_list)" "$(metrics_listen "$imap_port")"

echo "== Waiting until healthy"
# Healthy means every process is still running, every replica group has a leader that all
# its replicas see, every frontend and the coordinator serve the app, and SMTP and POP3
# greet. A process that exits, or a check still failing at the deadline, is named with
# the tail of its log, so a start that does not come up says why.
group_healthy() {
  local out
  out=$("$bin/kvsctl" "$tls_flag" --timeout_ms=2000 --group="$(group_addresses "$1")" status 2>/dev/null) &&
    ! grep -q unreachable <<<"$out" && grep -q "role=leader" <<<"$out"
}
greets() {  # port, the greeting's first characters
  local line
  line=$(timeout 2 bash -c "exec 3<>/dev/tcp/$address/$1 && head -c ${#2} <&3" 2>/dev/null) &&
    [[ $line == "$2" ]]
}
serves() { curl -fs -m 2 -o /dev/null "http://${2:-$address}:$1/"; }  # port [host]
failing_check() {  # prints the first check that fails, with the log to read
  local g port
  for g in 0 "${data_groups[@]}"; do
    if ! group_healthy "$g"; then
      local logs=kvs-g$g-r*
      ((g == 0)) && logs=kvs-config-r*
      echo "kvs group $g has no leader that all its replicas answer for|$logs"
      return
    fi
  done
  for port in "${frontend_ports[@]}"; do
    serves "$port" || { echo "frontend :$port does not serve|frontend-$port"; return; }
  done
  local i host name
  for i in "${!coordinator_addresses[@]}"; do
    host=${coordinator_addresses[$i]}
    name=$(coordinator_name "$i")
    serves "$http_port" "$host" || { echo "$name $host:$http_port does not serve|$name"; return; }
    curl -fsk -m 2 -o /dev/null "https://$host:$https_port/healthz" ||
      { echo "$name's HTTPS $host:$https_port does not serve|$name"; return; }
  done
  greets "$smtp_port" 220 || { echo "SMTP :$smtp_port does not greet|smtp"; return; }
  greets "$pop3_port" +OK || { echo "POP3 :$pop3_port does not greet|pop3"; return; }
  greets "$imap_port" "* OK" || { echo "IMAP :$imap_port does not greet|imap"; return; }
}
show_log() {
  local log
  for log in "$log_dir"/$1.log; do
    [[ -f $log ]] || continue
    echo "--- last lines of $log" >&2
    tail -n 15 "$log" >&2
  done
}
deadline=$((SECONDS + ${PENNCLOUD_START_TIMEOUT:-90}))
next_report=$((SECONDS + 10))
while :; do
  for pidfile in "$run_dir"/*.pid; do
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      name=$(basename "$pidfile" .pid)
      echo "$name exited during the start" >&2
      show_log "$name"
      exit 1
    fi
  done
  failing=$(failing_check)
  [[ -z $failing ]] && break
  if ((SECONDS >= deadline)); then
    echo "PennCloud did not become healthy: ${failing%%|*}; logs are in $log_dir" >&2
    show_log "${failing##*|}"
    exit 1
  fi
  if ((SECONDS >= next_report)); then
    echo "   still waiting: ${failing%%|*}"
    next_report=$((SECONDS + 10))
  fi
  sleep 0.3
done

site=${coordinator_addresses[0]}
also=
if ((${#coordinator_addresses[@]} > 1)); then
  also=$'\n'"  Coordinators:   ${coordinator_addresses[*]} (each serves the same site and console on"
  also+=" its own address; one address in front of them: docs/operations.md)"
fi
cat <<MSG

PennCloud is running.
  Web app:        http://$site:$http_port/   https://$site:$https_port/
  Admin console:  http://$site:$http_port/admin   (HTTPS signed by $tls_dir/ca.crt)
  Admin login:    admin / $(cat "$state/admin-password")   (kept in $state/admin-password)$also

  Thunderbird (account user@$mail_domain, password = the web password):
    incoming  IMAP  $address port $imap_port, STARTTLS (or $imaps_port, SSL/TLS), normal password
    incoming  POP3  $address port $pop3_port, STARTTLS (self-signed), normal password
    outgoing  SMTP  $address port $smtp_port, STARTTLS (self-signed), normal password

  Logs: $log_dir    Data: $state    Stop: scripts/stop.sh
  Config: $config_file
MSG
