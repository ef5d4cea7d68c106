#!/usr/bin/env bash
# IMAP side by side: Dovecot 2.3 (Debian's dovecot-imapd, started from a config of this
# script's own in a temp dir: maildir, mail_fsync=always, a free loopback port, mail
# processes as `nobody`) and PennCloud's imap server (a fresh 3-replica KVS group, every
# write replicated and fsynced before it is answered). One client (imap_bench.py, Python's
# imaplib) runs the same workloads on both, one after the other:
#   APPEND of the mailbox (--messages, default 10,000) and then --append (1,000) more timed;
#   SELECT + UID FETCH 1:* (FLAGS ENVELOPE); FETCH 1:--fetch (1,000) BODY[]; SEARCH TEXT.
#   stress_test/imap_bench.sh [--build DIR] [--messages N] [--fetch N] [--append N]
# Prints each workload's seconds on both and the ratio PennCloud/Dovecot. Needs root (it
# starts Dovecot's master) and scripts/setup.sh --bench (dovecot-imapd, argon2). Results
# go to stress_test/results/imap-<time>/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build/bench
messages=10000
fetch=1000
append=1000
while (($#)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --fetch) fetch=$2; shift 2 ;;
    --append) append=$2; shift 2 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
bin=$build/bin
kvsctl=${KVSCTL:-$bin/kvsctl}
out=$root/stress_test/results/imap-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
work=$(mktemp -d /tmp/penncloud-imap-bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -f $work/dovecot/run/master.pid ]] && kill "$(cat "$work/dovecot/run/master.pid")" 2>/dev/null || true
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT

for tool in dovecot argon2 openssl; do
  command -v $tool >/dev/null || { echo "needs $tool (scripts/setup.sh --bench)" >&2; exit 1; }
done
if [[ ! -x $bin/imap || ! -x $bin/kvs_server || ! -x $kvsctl ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$build" kvs_server kvsctl smtp imap >/dev/null
fi
source "$root/stress_test/smtp_cluster.sh"  # free_port, wait_port, start_penncloud_smtp
password=bench-password-1

# ---- Dovecot ----
dc=$work/dovecot
mkdir -p "$dc/run" "$dc/home"
chown nobody:nogroup "$dc/home"
dovecot_port=$(free_port)
echo "bench:{PLAIN}$password" >"$dc/passwd"
# Both servers speak TLS from the first byte (PennCloud takes no login in clear), with one
# throw-away self-signed certificate.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
  -keyout "$dc/key.pem" -out "$dc/cert.pem" 2>/dev/null
cat >"$dc/dovecot.conf" <<EOF
base_dir = $dc/run
log_path = $out/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <$dc/cert.pem
ssl_key = <$dc/key.pem
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
mail_fsync = always
first_valid_uid = 1
default_login_user = dovenull
default_internal_user = dovecot
passdb {
  driver = passwd-file
  args = $dc/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$dc/home/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $dovecot_port
  }
}
service anvil {
  chroot =
}
EOF
dovecot -c "$dc/dovecot.conf"
wait_port "$dovecot_port"

# ---- PennCloud: the KVS group (smtp_cluster.sh), an account, the imap server ----
start_penncloud_smtp
hash=$(printf '%s' "$password" | argon2 "$(head -c 12 /dev/urandom | base64)" -id -t 2 -m 16 -p 1 -e)
"${kvsctl[@]}" --group="$spec" put acct/bench password "$hash" >/dev/null
imap_port=$(free_port)
issue imap service/imap/imap
"$bin/imap" --port="$(free_port)" --imaps_port="$imap_port" --kvs="$spec" --state_dir="$work" \
  --node_name=imap --tls_dir="$tls" --tls_cert="$dc/cert.pem" --tls_key="$dc/key.pem" \
  --login_attempts_per_minute=0 >"$out/imap.log" 2>&1 &
pids+=($!)
wait_port "$imap_port"

bench() {
  /usr/bin/python3 "$root/stress_test/imap_bench.py" "$1" "$2" bench "$password" \
    "$messages" "$fetch" "$append" | tee "$out/$1.txt"
}
bench dovecot "$dovecot_port"
bench penncloud "$imap_port"
/usr/bin/python3 - "$out/dovecot.txt" "$out/penncloud.txt" <<'EOF' | tee "$out/summary.txt"
import sys
read = lambda p: {l.split()[0]: float(l.split()[1]) for l in open(p) if l.strip()}
d, p = read(sys.argv[1]), read(sys.argv[2])
print("%-28s %10s %10s %8s" % ("workload", "dovecot s", "penncloud s", "ratio"))
for k in d:
    print("%-28s %10.3f %10.3f %8.2f" % (k, d[k], p[k], p[k] / d[k] if d[k] else float("inf")))
EOF
