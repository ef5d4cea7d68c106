#!/usr/bin/env bash
# SMTP throughput over STARTTLS, side by side in one run: the same load client
# (stress_test/smtp_tls_load.py: 20 sessions, 4 KiB messages, one message per connection,
# each with a full TLS handshake, as smtp-source without -d) against PennCloud's smtp server
# (fresh 3-replica KVS group, every message stored durably before its 250) and against a
# local Postfix with STARTTLS delivering to a Maildir. Both servers use a self-signed
# RSA-2048 certificate. smtp-source cannot do TLS, hence our own client.
#   stress_test/smtp_tls_bench.sh [--build DIR] [--messages N] [--sessions S] [--size BYTES]
#                                 [--per-connection K] [--skip-postfix]
# Prints one line per system and the ratio; checks that every accepted message is in the
# store (PennCloud) or the Maildir (Postfix). Needs root for Postfix (local user `pcbench`).
# Results go to stress_test/results/smtp-tls-<time>/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build/bench
messages=5000
sessions=20
size=4096
per_connection=1
skip_postfix=0
while (($#)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --sessions) sessions=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --per-connection) per_connection=$2; shift 2 ;;
    --skip-postfix) skip_postfix=1; shift ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
bin=$build/bin
kvsctl=${KVSCTL:-$bin/kvsctl}
out=$root/stress_test/results/smtp-tls-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
work=$(mktemp -d /tmp/penncloud-smtp-tls-bench.XXXXXX)
chmod 755 "$work"  # Postfix daemons run as user postfix
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -f $work/postfix/etc/main.cf ]] && postfix -c "$work/postfix/etc" stop >/dev/null 2>&1 || true
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT

load=$root/stress_test/smtp_tls_load.py
if [[ ! -x $bin/smtp || ! -x $bin/kvs_server || ! -x $kvsctl ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$build" kvs_server kvsctl smtp >/dev/null
fi

source "$root/stress_test/smtp_cluster.sh"
now() { date +%s.%N; }
# CPU seconds (user + system) used so far by the given processes, their reaped children
# included, and by their live children: a figure the machine's other load does not distort
# the way wall-clock rates are.
cpu_seconds() {
  local ticks=0 pid
  local pids=("$@")
  for pid in "$@"; do pids+=($(ps -o pid= --ppid "$pid" 2>/dev/null)); done
  for pid in "${pids[@]}"; do
    [[ -r /proc/$pid/stat ]] || continue
    # Fields after the ")" of the command name: utime is 14, stime 15, cutime 16, cstime 17.
    ticks=$((ticks + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13 + $14 + $15}')))
  done
  echo "$ticks / $(getconf CLK_TCK)" | bc -l
}

# ---- PennCloud ----
start_penncloud_smtp

# The first connection makes the server's certificate: keep it out of the timing.
/usr/bin/python3 "$load" "$smtp_port" sender@example.com bench@penncloud.local 1 1 "$size" \
  >/dev/null
cpu_start=$(cpu_seconds "${pids[@]}")
smtp_pid=${pids[-1]}
smtp_cpu_start=$(cpu_seconds "$smtp_pid")
start=$(now)
/usr/bin/python3 "$load" "$smtp_port" sender@example.com bench@penncloud.local "$messages" \
  "$sessions" "$size" "$per_connection" >"$out/load-penncloud.log" 2>"$out/load-penncloud.err"
end=$(now)
pc_cpu=$(echo "$(cpu_seconds "${pids[@]}") - $cpu_start" | bc -l)
smtp_cpu=$(echo "$(cpu_seconds "$smtp_pid") - $smtp_cpu_start" | bc -l)
pc_secs=$(echo "$end - $start" | bc -l)
cat "$out/load-penncloud.log"
# Durability check: every message has its index cell in the store.
stored=0
after=""
while :; do
  page=$("${kvsctl[@]}" --group="$spec" list mail/bench --after="$after" --limit=1000 2>/dev/null)
  [[ -z $page ]] && break
  stored=$((stored + $(grep -c '^inbox/' <<<"$page" || true)))
  after=$(tail -1 <<<"$page" | awk '{print $1}')
  (($(wc -l <<<"$page") < 1000)) && break  # the row's other columns fill pages too
done
pc_rate=$(echo "$messages / $pc_secs" | bc -l)
printf 'penncloud smtp STARTTLS: %d msgs in %.2f s = %.0f msg/s accepted (250 after durable store); stored %d (1 warm-up + %d)\n' \
  "$messages" "$pc_secs" "$pc_rate" "$stored" "$messages" | tee "$out/summary.txt"
printf 'penncloud CPU (smtp + 3 kvs_server): %.2f s = %.0f us per message (smtp alone %.0f us)\n' \
  "$pc_cpu" "$(echo "$pc_cpu * 1000000 / $messages" | bc -l)" \
  "$(echo "$smtp_cpu * 1000000 / $messages" | bc -l)" | tee -a "$out/summary.txt"

# ---- Postfix ----
if ((skip_postfix)); then exit 0; fi
command -v postfix >/dev/null || { echo "needs postfix (scripts/setup.sh --bench)" >&2; exit 1; }
id pcbench >/dev/null 2>&1 || useradd -m pcbench
rm -rf /home/pcbench/Maildir
pf=$work/postfix
mkdir -p "$pf/etc" "$pf/queue" "$pf/data"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=bench.localdomain \
  -keyout "$pf/tls.key" -out "$pf/tls.crt" >/dev/null 2>&1
chown postfix "$pf/data"
pf_port=$(free_port)
cat >"$pf/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = bench.localdomain
mydestination = localhost, \$myhostname
mynetworks = 127.0.0.0/8
home_mailbox = Maildir/
smtpd_tls_cert_file = $pf/tls.crt
smtpd_tls_key_file = $pf/tls.key
smtpd_tls_security_level = may
smtpd_tls_loglevel = 0
alias_maps =
alias_database =
maillog_file = $pf/postfix.log
maillog_file_prefixes = $pf, /var, /dev/stdout
smtpd_recipient_restrictions = permit_mynetworks, reject
CF
sed -e "s/^smtp\s\+inet.*/127.0.0.1:$pf_port inet n - n - - smtpd/" \
  -e 's/^\([a-z0-9.:]\+\s\+\(unix\|inet\|fifo\|pass\|unix-dgram\)\s\+\S\+\s\+\S\+\s\+\)y/\1n/' \
  /etc/postfix/master.cf >"$pf/etc/master.cf"
postfix -c "$pf/etc" start >"$out/postfix-start.log" 2>&1
wait_port "$pf_port"
pf_master=$(head -1 "$pf/queue/pid/master.pid" | tr -d ' ')
pf_cpu_start=$(cpu_seconds "$pf_master")
start=$(now)
/usr/bin/python3 "$load" "$pf_port" sender@example.com pcbench@localhost "$messages" \
  "$sessions" "$size" "$per_connection" >"$out/load-postfix.log" 2>"$out/load-postfix.err"
accepted=$(now)
cat "$out/load-postfix.log"
delivered=0
for _ in $(seq 1 1200); do
  delivered=$(find /home/pcbench/Maildir/new -type f 2>/dev/null | wc -l)
  ((delivered >= messages)) && break
  sleep 0.1
done
end=$(now)
sleep 1  # let idle smtpd/local processes be reaped into the master's children total
pf_cpu=$(echo "$(cpu_seconds "$pf_master") - $pf_cpu_start" | bc -l)
pf_acc=$(echo "$messages / ($accepted - $start)" | bc -l)
pf_del=$(echo "$delivered / ($end - $start)" | bc -l)
printf 'postfix 3.7 smtpd STARTTLS: %d msgs accepted in %.2f s = %.0f msg/s; %d delivered to Maildir in %.2f s = %.0f msg/s\n' \
  "$messages" "$(echo "$accepted - $start" | bc -l)" "$pf_acc" "$delivered" \
  "$(echo "$end - $start" | bc -l)" "$pf_del" | tee -a "$out/summary.txt"
printf 'postfix CPU (master and every child, delivery included): %.2f s = %.0f us per message\n' \
  "$pf_cpu" "$(echo "$pf_cpu * 1000000 / $messages" | bc -l)" | tee -a "$out/summary.txt"
printf 'ratio penncloud/postfix (accepted): %.2f; vs postfix delivered: %.2f; CPU per message postfix/penncloud: %.2f\n' \
  "$(echo "$pc_rate / $pf_acc" | bc -l)" "$(echo "$pc_rate / $pf_del" | bc -l)" \
  "$(echo "$pf_cpu / $pc_cpu" | bc -l)" | tee -a "$out/summary.txt"
