# The PennCloud side of the SMTP benchmarks (smtp_bench.sh, smtp_tls_bench.sh): a fresh
# 3-replica KVS group and one smtp server on free loopback ports. Sourced, not run. The
# caller sets root, bin, kvsctl (the binary's path), work, out and pids=(); afterwards
# spec is the group's client addresses, smtp_port the server's port, kvsctl an array with
# the TLS flag, and every started process is in pids. Optional: smtp_bin (another smtp
# binary, for A/B runs), smtp_wrapper (an array the server runs under, e.g. valgrind),
# smtp_flags (an array of extra flags) and smtp_wait_tries (tenths of a second to wait for
# its port).

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {  # PORT [tries of 0.1 s, default 200]
  for _ in $(seq 1 "${2:-200}"); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "port $1 did not open" >&2
  return 1
}

start_penncloud_smtp() {
  # Internal gRPC is mutual TLS, as in production: a throw-away cluster CA and a certificate
  # per process (scripts/lib/tls.sh, the script start.sh uses); each process finds
  # <node name>.crt/.key in --tls_dir.
  tls=$work/tls
  bash "$root/scripts/lib/tls.sh" ca "$tls"
  issue() { bash "$root/scripts/lib/tls.sh" issue "$tls" "$1" "$2" 127.0.0.1; }
  issue kvsctl admin/kvsctl
  kvsctl=("$kvsctl" --tls_dir="$tls")
  ports=($(free_port) $(free_port) $(free_port))
  peers="1=127.0.0.1:${ports[0]},2=127.0.0.1:${ports[1]},3=127.0.0.1:${ports[2]}"
  spec="127.0.0.1:${ports[0]},127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}"
  for i in 1 2 3; do
    issue "kvs-$i" "replica/0/$i"
    "$bin/kvs_server" --id=$i --peers="$peers" --client_addrs="$peers" --node_name="kvs-$i" \
      --tls_dir="$tls" --listen=127.0.0.1:${ports[$((i - 1))]} --data_dir="$work/kvs$i" \
      >"$out/kvs$i.log" 2>&1 &
    pids+=($!)
  done
  for _ in $(seq 1 200); do
    "${kvsctl[@]}" --group="$spec" put bench probe 1 >/dev/null 2>&1 && break
    sleep 0.1
  done
  # The recipient account: the smtp server only checks that it exists.
  "${kvsctl[@]}" --group="$spec" put acct/bench password 'x' >/dev/null
  smtp_port=$(free_port)
  issue smtp service/smtp/smtp
  # The inbound checks (SPF, DKIM, DMARC) run as in production, but against DNS records
  # from a file, as from a local caching resolver: the machines here have no DNS, and a
  # resolver that never answers would make every message wait out its timeout.
  printf 'example.com TXT "v=spf1 ip4:127.0.0.1 -all"\n' >"$work/dns"
  "${smtp_wrapper[@]}" "${smtp_bin:-$bin/smtp}" --port="$smtp_port" --kvs="$spec" --state_dir="$work" --relay=false \
    --node_name=smtp --tls_dir="$tls" --max_connections=512 --dns_script="$work/dns" "${smtp_flags[@]}" \
    >"$out/smtp.log" 2>&1 &
  pids+=($!)
  wait_port "$smtp_port" "${smtp_wait_tries:-200}"
  smtp_pid=${pids[-1]}
}
