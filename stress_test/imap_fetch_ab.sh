#!/usr/bin/env bash
# Two builds of the imap server side by side (an A/B of an IMAP change): one fresh
# 3-replica KVS group, one account, both servers on it at once. Two folders of --messages
# each (imap_bench.py's messages): INBOX filled through the new server, Older through the
# old one, so entries as each build writes them are there. Then --rounds rounds of
# SELECT + UID FETCH 1:* (FLAGS ENVELOPE) on both folders through each server, the order
# of the servers alternating (old first, then new first, ...). With --set and --items, each
# round times FETCH SET ITEMS instead (after an untimed SELECT), e.g. --set 1:1000
# --items 'BODY.PEEK[]' or --set 1:* --items BODYSTRUCTURE. --mixed fills the folders with
# multipart messages too (imap_fetch_ab.py). Both servers must answer
# each folder with the same bytes. Prints every timing, each build's median per folder,
# each build's median server CPU time per timed fetch, the mean bytes of a folder's first
# 200 index entries, the load average and each server's peak resident memory.
#   stress_test/imap_fetch_ab.sh --old DIR --new DIR [--messages N] [--rounds N]
#                                [--set SET --items ITEMS] [--mixed]
# DIR: a build directory; the old one needs bin/imap, the new one also kvs_server, kvsctl
# and smtp. Needs argon2 (scripts/setup.sh --bench). Results go to
# stress_test/results/imap-fetch-ab-<time>/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
old= new=
messages=3000
rounds=4
fetch=()
mixed=()
while (($#)); do
  case $1 in
    --old) old=$2; shift 2 ;;
    --new) new=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --set) fetch[0]=$2; shift 2 ;;
    --items) fetch[1]=$2; shift 2 ;;
    --mixed) mixed=(mixed); shift ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
[[ -x $old/bin/imap && -x $new/bin/imap ]] || { echo "--old and --new need bin/imap" >&2; exit 2; }
((${#fetch[@]} % 2 == 0)) || { echo "--set and --items go together" >&2; exit 2; }
bin=$new/bin
kvsctl=$bin/kvsctl
out=$root/stress_test/results/imap-fetch-ab-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
work=$(mktemp -d /tmp/penncloud-imap-ab.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT
command -v argon2 >/dev/null || { echo "needs argon2 (scripts/setup.sh --bench)" >&2; exit 1; }
source "$root/stress_test/smtp_cluster.sh"  # free_port, wait_port, start_penncloud_smtp

start_penncloud_smtp
password=bench-password-1
hash=$(printf '%s' "$password" | argon2 "$(head -c 12 /dev/urandom | base64)" -id -t 2 -m 16 -p 1 -e)
"${kvsctl[@]}" --group="$spec" put acct/bench password "$hash" >/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
declare -A port server
for build in old new; do
  dir=$old
  [[ $build == new ]] && dir=$new
  issue "imap-$build" "service/imap/imap-$build"
  mkdir -p "$work/state-$build"
  port[$build]=$(free_port)
  "$dir/bin/imap" --port="$(free_port)" --imaps_port="${port[$build]}" --kvs="$spec" \
    --state_dir="$work/state-$build" --node_name="imap-$build" --tls_dir="$tls" \
    --tls_cert="$work/cert.pem" --tls_key="$work/key.pem" --login_attempts_per_minute=0 \
    >"$out/imap-$build.log" 2>&1 &
  pids+=($!)
  server[$build]=$!
  wait_port "${port[$build]}"
done

client() {
  SERVER_PID=${server[$1]} /usr/bin/python3 "$root/stress_test/imap_fetch_ab.py" "${port[$1]}" \
    bench "$password" "${@:2}"
}
client new fill INBOX "$messages" "${mixed[@]}"
client old fill Older "$messages" "${mixed[@]}"

entry_bytes() {  # PREFIX: the mean bytes of the first 200 index entries under it
  local total=0 n=0 column
  # kvsctl says on stderr that the row goes on past the limit, which it does.
  for column in $("${kvsctl[@]}" --group="$spec" list mail/bench --after="$1" --limit=200 2>/dev/null | grep "^$1"); do
    total=$((total + $("${kvsctl[@]}" --group="$spec" get mail/bench "$column" | wc -c) - 1))
    n=$((n + 1))
  done
  echo "$1 entries: $((total / n)) bytes on average over $n"
}
{ entry_bytes "inbox/"; entry_bytes "~Older/"; } | tee "$out/entries.txt"

# One untimed fetch of each folder through each server first: a server's first one also
# pays for its first connection to the KVS group.
for build in old new; do
  for folder in INBOX Older; do client "$build" fetch "$folder" "${fetch[@]}" >/dev/null; done
done
for round in $(seq 1 "$rounds"); do
  order="old new"
  ((round % 2 == 0)) && order="new old"
  for build in $order; do
    for folder in INBOX Older; do
      echo "$round $build $folder $(client "$build" fetch "$folder" "${fetch[@]}") load $(cut -d' ' -f1 /proc/loadavg)"
    done
  done
done | tee "$out/timings.txt"
python3 - "$out/timings.txt" <<'EOF' | tee "$out/summary.txt"
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
for folder in ("INBOX", "Older"):
    digests = {r[5] for r in rows if r[2] == folder}
    assert len(digests) == 1, f"{folder}: the builds answered differently"
    for build in ("old", "new"):
        s = [float(r[3]) for r in rows if r[1] == build and r[2] == folder]
        cpu = [int(r[6]) for r in rows if r[1] == build and r[2] == folder]
        print(f"{folder:6} {build}: median {statistics.median(s):.3f} s, server CPU "
              f"{statistics.median(cpu)} ms over {len(s)} runs")
loads = [float(r[8]) for r in rows]
print(f"load average (1 min) {min(loads):.1f}-{max(loads):.1f}")
EOF
for build in old new; do  # both served the same sessions
  echo "imap-$build peak $(grep VmHWM "/proc/${server[$build]}/status")"
done | tee -a "$out/summary.txt"
