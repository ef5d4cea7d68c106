#!/bin/bash
# Storage amplification (issue 22): bytes on disk of a three-replica group per byte of user
# data. Starts three kvs_server replicas on loopback (mutual TLS as in production, a
# throw-away CA), writes --size bytes of drive chunks and mail-shaped cells with
# storage_amp_writer (deterministic), waits until every replica has applied everything and
# its directory stopped changing, then sums `du` over the three data directories.
#
# Disk bytes do not depend on machine load, so the figure holds on a busy machine; the
# write time printed beside it does not.
#
# Usage: stress_test/storage_amp_bench.sh [--bin DIR] [--size BYTES] [--rewrites N]
#          [--port_base P] [--keep] [-- extra kvs_server flags...]
#   --bin       directory holding kvs_server, kvsctl, storage_amp_writer (default build/release/bin)
#   --size      user bytes (values only; default 1 GiB)
#   --rewrites  write the same cells N times over, each time with new bytes (default 1)
#   --port_base replicas listen on P+1..P+3 (default 27420)
#   --keep      leave the data directories (printed) instead of removing them
# Output: one line per replica (WAL, SST, blob and other bytes), the disk peak seen while
# writing, each replica's peak RSS, "WRITTEN written_bytes=W per_user_byte=X" (what the three
# replicas wrote to disk in all, /proc/PID/io write_bytes) and
# "RESULT user_bytes=U disk_bytes=D ratio=R".
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/build/release/bin; SIZE=$((1 << 30)); REWRITES=1; PORT_BASE=27420; KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --bin) BIN=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --rewrites) REWRITES=$2; shift 2 ;;
    --port_base) PORT_BASE=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --) shift; break ;;
    *) echo "storage_amp_bench: unknown argument $1" >&2; exit 2 ;;
  esac
done
EXTRA=("$@")
for b in kvs_server kvsctl storage_amp_writer; do
  [ -x "$BIN/$b" ] || { echo "storage_amp_bench: no $BIN/$b (build it first)" >&2; exit 2; }
done

D=$(mktemp -d "${TMPDIR:-/tmp}/storage-amp.XXXXXX")
# The replicas run from a copy under a name of their own: on a shared machine another
# run's clean-up by process name (pkill kvs_server) must not end this one.
mkdir -p "$D/bin" && cp "$BIN/kvs_server" "$D/bin/amp_replica" || exit 1
TLS_SH=$ROOT/scripts/lib/tls.sh
bash "$TLS_SH" ca "$D/tls" && bash "$TLS_SH" issue "$D/tls" kvsctl admin/kvsctl &&
  bash "$TLS_SH" issue "$D/tls" storage-amp admin/storage-amp || exit 1
for i in 1 2 3; do bash "$TLS_SH" issue "$D/tls" "kvs-$i" "replica/0/$i" || exit 1; done
PEERS="1=127.0.0.1:$((PORT_BASE + 1)),2=127.0.0.1:$((PORT_BASE + 2)),3=127.0.0.1:$((PORT_BASE + 3))"
GROUP="127.0.0.1:$((PORT_BASE + 1)),127.0.0.1:$((PORT_BASE + 2)),127.0.0.1:$((PORT_BASE + 3))"
PIDS=()
cleanup() {
  rm -f "$D/writing"
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ $KEEP = 1 ]; then echo "kept $D"; else rm -rf "$D"; fi
}
trap cleanup EXIT
for i in 1 2 3; do
  "$D/bin/amp_replica" --id=$i --peers="$PEERS" --data_dir="$D/r$i" --node_name=kvs-$i \
    --tls_dir="$D/tls" --metrics_listen= "${EXTRA[@]}" >"$D/r$i.log" 2>&1 &
  PIDS+=($!)
done
# A replica that died makes every later figure meaningless: say so and stop.
alive() {
  for i in 1 2 3; do
    kill -0 "${PIDS[$((i - 1))]}" 2>/dev/null ||
      { echo "storage_amp_bench: replica $i exited; its log: $D/r$i.log" >&2; KEEP=1; exit 1; }
  done
}
KV=("$BIN/kvsctl" --tls_dir="$D/tls" --group="$GROUP")

# Applied slot of every reachable replica, "role slot", one line per reachable replica.
applied() { "${KV[@]}" status 2>/dev/null | sed -n 's/.*role=\([a-z]*\).* applied=\([0-9]*\).*/\1 \2/p'; }
for _ in $(seq 1 300); do applied | grep -q '^leader' && break; sleep 0.1; done
applied | grep -q '^leader' || { echo "storage_amp_bench: no leader after 30 s" >&2; exit 1; }

disk() { du -sb "$D"/r1 "$D"/r2 "$D"/r3 | awk '{s += $1} END {printf "%.0f\n", s}'; }
# The peak of the three directories while writing, sampled every 0.5 s (at most 2 hours).
touch "$D/writing"
(peak=0; for _ in $(seq 1 14400); do
   [ -e "$D/writing" ] || break
   n=$(disk 2>/dev/null); [ "${n:-0}" -gt "$peak" ] && peak=$n && echo "$peak" >"$D/peak"
   sleep 0.5
 done) &
SAMPLER=$!
start=$(date +%s.%N)
"$BIN/storage_amp_writer" --tls_dir="$D/tls" --kvs="$GROUP" --size="$SIZE" \
  --rewrites="$REWRITES" >"$D/writer.out" || { alive; exit 1; }
rm -f "$D/writing"
wait $SAMPLER
secs=$(echo "$(date +%s.%N) - $start" | bc)
USER_BYTES=$(sed -n 's/.*user_bytes \([0-9]*\).*/\1/p' "$D/writer.out")

# Settled: all three applied the leader's slot, and the directories' size held still for
# 5 s (RocksDB's flushes and compactions done). At most 10 minutes.
last=-1; still=0
for _ in $(seq 1 600); do
  alive
  lines=$(applied)
  lead=$(echo "$lines" | awk '$1 == "leader" {print $2}')
  behind=$(echo "$lines" | awk -v l="${lead:-0}" '$2 < l' | wc -l)
  now=$(disk)
  if [ "$(echo "$lines" | wc -l)" = 3 ] && [ -n "$lead" ] && [ "$behind" = 0 ] && [ "$now" = "$last" ]; then
    still=$((still + 1)); [ $still -ge 5 ] && break
  else
    still=0
  fi
  last=$now; sleep 1
done
[ $still -ge 5 ] || echo "storage_amp_bench: warning: not settled after 10 minutes" >&2

# Bytes of the files named like $2 under $1.
sum() { find "$1" -type f -name "$2" -printf '%s\n' | awk '{s += $1} END {printf "%.0f\n", s}'; }
total=0
for i in 1 2 3; do
  s=$(du -sb "$D/r$i" | cut -f1); total=$((total + s))
  wal=$(sum "$D/r$i" '*.log'); sst=$(sum "$D/r$i" '*.sst'); blob=$(sum "$D/r$i" '*.blob')
  echo "replica $i: $s bytes (wal $wal, sst $sst, blob $blob, other $((s - wal - sst - blob)))"
  echo "  by family: $(python3 "$ROOT/stress_test/storage_amp_families.py" "$D/r$i/store")"
done
grep -h 'kvs.compacted' "$D"/r1.log | tail -1 | cut -c1-200
echo "write time ${secs} s (machine load matters here, not for the bytes)"
echo "peak while writing: $(cat "$D/peak" 2>/dev/null || echo 0) bytes"
# The kernel keeps each process's peak RSS, so reading it once here sees the whole run.
hwm=""
for p in "${PIDS[@]}"; do
  hwm="$hwm $(awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$p/status")"
done
echo "peak RSS (VmHWM) of replicas 1-3:$hwm MiB"
# Bytes each replica sent to the disk over its life (write-ahead log, tables, blob files,
# compaction rewrites), from the kernel's I/O accounting: write_bytes less
# cancelled_write_bytes, the dirty pages of files deleted or truncated before writeback.
written=0; per=""
for p in "${PIDS[@]}"; do
  w=$(awk '/^write_bytes/ {w = $2} /^cancelled_write_bytes/ {c = $2} END {printf "%.0f\n", w - c}' \
    "/proc/$p/io")
  written=$((written + w)); per="$per $w"
done
echo "bytes written to disk by replicas 1-3:$per"
echo "WRITTEN written_bytes=$written per_user_byte=$(echo "scale=3; $written / $USER_BYTES" | bc)"
echo "RESULT user_bytes=$USER_BYTES disk_bytes=$total ratio=$(echo "scale=3; $total / $USER_BYTES" | bc)"
