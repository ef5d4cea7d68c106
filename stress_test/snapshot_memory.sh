#!/bin/bash
# Peak RSS of a replica catching up by snapshot (docs/benchmarks.md "Snapshot download
# memory"): 3 replicas on loopback ports 27411-27413, one killed, N x 1 MiB values written
# (the log compacted behind it), the replica restarted; its VmHWM is sampled until it has
# installed a snapshot and applied what the leader applied.
# Mutual TLS as in production: a throw-away CA in $D/tls, a certificate per replica and one
# for kvsctl (scripts/lib/tls.sh); each finds <node name>.crt/.key in --tls_dir.
# Usage: stress_test/snapshot_memory.sh BIN_DIR LABEL [N]   (BIN_DIR holds kvs_server, kvsctl)
BIN=$1; LABEL=$2; N=${3:-64}
D=${TMPDIR:-/tmp}/snapshot-memory/$LABEL; rm -rf $D; mkdir -p $D
TLS_SH="$(dirname "$0")/../scripts/lib/tls.sh"
bash "$TLS_SH" ca $D/tls && bash "$TLS_SH" issue $D/tls kvsctl admin/kvsctl || exit 1
for i in 1 2 3; do bash "$TLS_SH" issue $D/tls kvs-$i replica/0/$i || exit 1; done
P1=27411; P2=27412; P3=27413
PEERS="1=127.0.0.1:$P1,2=127.0.0.1:$P2,3=127.0.0.1:$P3"
start() { $BIN/kvs_server --id=$1 --peers=$PEERS --data_dir=$D/r$1 --node_name=kvs-$1 --tls_dir=$D/tls --snapshot_interval=20 --log_keep_slots=5 --metrics_listen= >$D/r$1.log 2>&1 & echo $! > $D/r$1.pid; }
for i in 1 2 3; do start $i; done
KV="$BIN/kvsctl --tls_dir=$D/tls --group=127.0.0.1:$P1,127.0.0.1:$P2,127.0.0.1:$P3"
sleep 2
kill -9 $(cat $D/r3.pid); sleep 0.5
head -c 1048576 /dev/urandom > $D/value
for i in $(seq 1 $N); do $KV put big c$i - < $D/value || echo put-failed; done
sleep 1
start 3
PID=$(cat $D/r3.pid); peak=0
for t in $(seq 1 600); do
  hwm=$(awk '/VmHWM/{print $2}' /proc/$PID/status 2>/dev/null); [ -n "$hwm" ] && peak=$hwm
  line=$($KV status 2>/dev/null | grep "id=3 ")
  app=$(echo "$line" | sed -n 's/.*applied=\([0-9]*\).*/\1/p')
  lead=$($KV status 2>/dev/null | grep "role=leader" | sed -n 's/.*applied=\([0-9]*\).*/\1/p')
  if [ -n "$app" ] && [ -n "$lead" ] && [ "$app" -ge "$lead" ] && grep -q snapshot_install $D/r3.log; then break; fi
  sleep 0.1
done
echo "$LABEL: N=$N MiB, replica 3 applied=$app leader applied=$lead, peak RSS (VmHWM) ${peak} kB, t=${t}x0.1s"
grep -h "snapshot_fetched" $D/r3.log | tail -1 | cut -c1-160
for i in 1 2 3; do kill -9 $(cat $D/r$i.pid) 2>/dev/null; done
wait 2>/dev/null
du -sh $D | cat
rm -rf $D
