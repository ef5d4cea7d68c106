#!/usr/bin/env bash
# The whole system restarted again and again with a gibibyte of files in its drive (issue 18:
# "restart a cluster holding 1 GiB of files 10 times in a row, and every start succeeds").
# scripts/start.sh on a fresh state folder and free of the default ports' users, one account,
# --files files of --file_mib MiB of random bytes uploaded through :8000, then --rounds times
# scripts/stop.sh and scripts/start.sh --no-build (whose health gate must pass: every group
# led and answering, every server serving). After the last start every file is read back and
# its SHA-256 compared. Prints each start's seconds. Not in CI: minutes long.
#   stress_test/restart_soak.sh [--build DIR] [--files N] [--file_mib N] [--rounds N]
#   defaults: --build build/release, 16 files of 64 MiB (1 GiB), 10 rounds
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build/release
files=16
file_mib=64
rounds=10
while (($#)); do
  case $1 in
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --files) files=$2; shift 2 ;;
    --file_mib) file_mib=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
if ss -ltn | grep -q ':8000 '; then
  echo "something already listens on :8000 (a running cluster?): stop it first" >&2
  exit 1
fi
work=$(mktemp -d /tmp/penncloud-restart-soak.XXXXXX)
export PENNCLOUD_STATE=$work/state PENNCLOUD_BUILD=$build
cleanup() {
  bash "$root/scripts/stop.sh" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

start() {
  local began=$SECONDS
  if ! bash "$root/scripts/start.sh" --no-build >"$work/start.log" 2>&1; then
    tail -n 30 "$work/start.log" >&2
    echo "FAIL: $1: scripts/start.sh did not come up" >&2
    exit 1
  fi
  echo "$1: up in $((SECONDS - began)) s"
}

start "first start"
site=http://127.0.0.1:8000
jar=$work/cookies
user=soak$RANDOM
curl -fsS -o /dev/null -H 'Content-Type: application/json' \
  -d "{\"username\":\"$user\",\"password\":\"soak-password-1\"}" "$site/api/signup"
login() {
  curl -fsS -c "$jar" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$user\",\"password\":\"soak-password-1\"}" "$site/api/login" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf"])'
}
csrf=$(login)
curl -fsS -o /dev/null -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
  -d '{"path":"/soak"}' "$site/api/files/folder"

began=$SECONDS
for i in $(seq 1 "$files"); do
  head -c $((file_mib << 20)) /dev/urandom >"$work/file$i"
  # A whole-file PUT lands whole or not at all; a 503 (a leader change mid-upload) is retried.
  for attempt in 1 2 3; do
    code=$(curl -sS -o /dev/null -w '%{http_code}' -b "$jar" -H "X-CSRF-Token: $csrf" \
      -T "$work/file$i" "$site/api/files/content?path=/soak/file$i")
    [[ $code == 2* ]] && break
    echo "upload $i attempt $attempt: HTTP $code" >&2
    ((attempt < 3)) || { echo "FAIL: upload $i" >&2; exit 1; }
  done
  sha256sum <"$work/file$i" | cut -d' ' -f1 >"$work/file$i.sha"
  rm "$work/file$i"
done
echo "uploaded $files x $file_mib MiB in $((SECONDS - began)) s"

for round in $(seq 1 "$rounds"); do
  bash "$root/scripts/stop.sh" >/dev/null
  start "round $round"
done

csrf=$(login)
for i in $(seq 1 "$files"); do
  got=$(curl -fsS -b "$jar" "$site/api/files/content?path=/soak/file$i" | sha256sum | cut -d' ' -f1)
  [[ $got == "$(cat "$work/file$i.sha")" ]] || { echo "FAIL: file$i differs after the restarts" >&2; exit 1; }
done
echo "PASS: $rounds restarts with $((files * file_mib)) MiB of files; every file read back whole"
