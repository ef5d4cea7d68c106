#!/usr/bin/env bash
# SMTP throughput: Postfix's smtp-source (20 sessions, 4 KiB messages, 5,000 messages)
# against PennCloud's smtp server (on a fresh 3-replica KVS group, every message stored
# durably before its 250) and against a local Postfix delivering to a Maildir.
#   stress_test/smtp_bench.sh [--build DIR] [--messages N] [--sessions S] [--size BYTES]
#                             [--skip-postfix]
# Prints one line per system (seconds, messages/s) and checks that every accepted message
# is in the store (PennCloud) or the Maildir (Postfix). Needs root for Postfix (it creates
# the local user `pcbench`). Results go to stress_test/results/smtp-<time>/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build/bench
messages=5000
sessions=20
size=4096
skip_postfix=0
while (($#)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --sessions) sessions=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --skip-postfix) skip_postfix=1; shift ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
bin=$build/bin
kvsctl=${KVSCTL:-$bin/kvsctl}
out=$root/stress_test/results/smtp-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
work=$(mktemp -d /tmp/penncloud-smtp-bench.XXXXXX)
chmod 755 "$work"  # Postfix daemons run as user postfix
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -f $work/postfix/etc/main.cf ]] && postfix -c "$work/postfix/etc" stop >/dev/null 2>&1 || true
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT

command -v smtp-source >/dev/null || { echo "needs smtp-source (scripts/setup.sh --bench)" >&2; exit 1; }
if [[ ! -x $bin/smtp || ! -x $bin/kvs_server || ! -x $kvsctl ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$build" kvs_server kvsctl smtp >/dev/null
fi

source "$root/stress_test/smtp_cluster.sh"
now() { date +%s.%N; }

# ---- PennCloud ----
start_penncloud_smtp

start=$(now)
smtp-source -c -s "$sessions" -l "$size" -m "$messages" -f sender@example.com \
  -t bench@penncloud.local "127.0.0.1:$smtp_port" >"$out/smtp-source-penncloud.log" 2>&1
end=$(now)
pc_secs=$(echo "$end - $start" | bc -l)
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
printf 'penncloud smtp: %d msgs in %.2f s = %.0f msg/s accepted (250 after durable store); stored %d\n' \
  "$messages" "$pc_secs" "$pc_rate" "$stored" | tee "$out/summary.txt"

# ---- Postfix ----
if ((skip_postfix)); then exit 0; fi
command -v postfix >/dev/null || { echo "needs postfix (scripts/setup.sh --bench)" >&2; exit 1; }
id pcbench >/dev/null 2>&1 || useradd -m pcbench
rm -rf /home/pcbench/Maildir
pf=$work/postfix
mkdir -p "$pf/etc" "$pf/queue" "$pf/data"
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
start=$(now)
smtp-source -c -s "$sessions" -l "$size" -m "$messages" -f sender@example.com \
  -t pcbench@localhost "127.0.0.1:$pf_port" >"$out/smtp-source-postfix.log" 2>&1
accepted=$(now)
delivered=0
for _ in $(seq 1 1200); do
  delivered=$(find /home/pcbench/Maildir/new -type f 2>/dev/null | wc -l)
  ((delivered >= messages)) && break
  sleep 0.1
done
end=$(now)
pf_acc=$(echo "$messages / ($accepted - $start)" | bc -l)
pf_del=$(echo "$delivered / ($end - $start)" | bc -l)
printf 'postfix 3.7 smtpd: %d msgs accepted in %.2f s = %.0f msg/s; %d delivered to Maildir in %.2f s = %.0f msg/s\n' \
  "$messages" "$(echo "$accepted - $start" | bc -l)" "$pf_acc" "$delivered" \
  "$(echo "$end - $start" | bc -l)" "$pf_del" | tee -a "$out/summary.txt"
printf 'ratio penncloud/postfix (accepted): %.2f; vs postfix delivered: %.2f\n' \
  "$(echo "$pc_rate / $pf_acc" | bc -l)" "$(echo "$pc_rate / $pf_del" | bc -l)" | tee -a "$out/summary.txt"
