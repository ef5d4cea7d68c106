#!/usr/bin/env bash
# Test of docker/podman-healthchecks.sh against real podman containers: a container whose
# check fails turns "unhealthy" after its retries, one whose check passes turns "healthy", a
# container without a check is left alone, --once exits 1 while anything is unhealthy, and
# --restart-unhealthy restarts an unhealthy container, and a container recreated under the
# same name is reported when it comes back healthy. Exits 77 (ctest: skipped) when podman
# or the image is missing; PENNCLOUD_TEST_IMAGE names the image (any with sh and sleep).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
loop=$here/podman-healthchecks.sh
image=${PENNCLOUD_TEST_IMAGE:-localhost/debian-bookworm-base:latest}
project=hc-test-$$
checked=$project-checked
plain=$project-plain

if ! command -v podman >/dev/null || ! podman image exists "$image" 2>/dev/null; then
  echo "SKIP: needs podman and the image $image (docker/README.md shows how to make it)"
  exit 77
fi

cleanup() { podman rm -f -t 0 "$checked" "$plain" >/dev/null 2>&1; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
health() { podman inspect --format '{{.State.Health.Status}}' "$1"; }
started() { podman inspect --format '{{.State.StartedAt}}' "$1"; }

# The check passes while /tmp/ok exists; the command creates it on every (re)start.
podman run -d --name "$checked" --label "com.docker.compose.project=$project" \
  --health-cmd 'test -e /tmp/ok' --health-interval 1h --health-retries 2 --stop-timeout 1 \
  "$image" sh -c 'touch /tmp/ok; exec sleep 600' >/dev/null 2>&1 || fail "podman run failed"
podman run -d --name "$plain" --label "com.docker.compose.project=$project" --stop-timeout 1 \
  "$image" sleep 600 >/dev/null 2>&1 || fail "podman run failed"
[[ $(health "$checked") == starting ]] || fail "a new container is $(health "$checked")"

"$loop" --project "$project" --once >/dev/null || fail "--once failed on a passing check"
[[ $(health "$checked") == healthy ]] || fail "passing check left it $(health "$checked")"
[[ -z $(podman inspect --format '{{.State.Health.Status}}' "$plain") ]] ||
  fail "the container without a check got a health status"
echo "ok: passing check -> healthy; container without a check untouched"

podman exec "$checked" rm /tmp/ok
"$loop" --project "$project" --once >/dev/null
[[ $(health "$checked") == healthy ]] || fail "one failure (of 2 retries) made it $(health "$checked")"
"$loop" --project "$project" --once >/dev/null && fail "--once exited 0 with an unhealthy container"
[[ $(health "$checked") == unhealthy ]] || fail "two failures left it $(health "$checked")"
echo "ok: two failed checks -> unhealthy, --once exits 1"

before=$(started "$checked")
log=$(mktemp)
"$loop" --project "$project" --interval 1 --restart-unhealthy >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 30); do
  [[ $(started "$checked") != "$before" && $(health "$checked") == healthy ]] && break
  sleep 1
done
kill "$pid"
wait "$pid"
[[ $(started "$checked") != "$before" ]] || fail "--restart-unhealthy did not restart it: $(cat "$log")"
[[ $(health "$checked") == healthy ]] || fail "after the restart it is $(health "$checked")"
grep -q "$checked unhealthy: restarting" "$log" || fail "no restart line in: $(cat "$log")"
rm -f "$log"
echo "ok: --restart-unhealthy restarted it and it turned healthy"

# Recreated under the same name (what `docker-compose up` does to a changed service) and
# healthy again, like its predecessor: the log still says so.
log=$(mktemp)
"$loop" --project "$project" --interval 1 >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 30); do
  grep -q "$checked none -> healthy" "$log" && break
  sleep 1
done
grep -q "$checked none -> healthy" "$log" || fail "the loop never saw it healthy: $(cat "$log")"
podman rm -f -t 0 "$checked" >/dev/null 2>&1
podman run -d --name "$checked" --label "com.docker.compose.project=$project" \
  --health-cmd 'test -e /tmp/ok' --health-interval 1h --health-retries 2 --stop-timeout 1 \
  "$image" sh -c 'touch /tmp/ok; exec sleep 600' >/dev/null 2>&1 || fail "podman run failed"
for _ in $(seq 1 30); do
  grep -q "$checked recreated .*: healthy" "$log" && break
  sleep 1
done
kill "$pid"
wait "$pid"
grep -q "$checked recreated .*: healthy" "$log" || fail "no line for the recreated container in: $(cat "$log")"
rm -f "$log"
echo "ok: a container recreated under the same name is reported healthy"
