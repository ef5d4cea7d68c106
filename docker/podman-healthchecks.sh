#!/usr/bin/env bash
# Runs the health checks of a compose project's containers under podman when nothing else
# does. Podman schedules health checks with systemd timers; on a host without systemd (a
# container, a minimal VM) no check ever runs, every container stays "starting", and
# `depends_on: condition: service_healthy` in docker/compose.yaml waits forever. This loop
# calls `podman healthcheck run` for every running container of the project that has a
# check, so podman records healthy/unhealthy exactly as its timer would (retries and
# start_period included), and docker-compose sees it through the Docker-compatible API.
#
#   docker/podman-healthchecks.sh [--project penncloud] [--interval 5] [--once]
#                                 [--restart-unhealthy]
#
# Start it before `docker-compose up` (compose waits on the health it records) and leave it
# running; it prints one line whenever a container's health changes, and one when a
# container of the same name is a new container (compose recreated it), whatever its health,
# so a recreated container that comes back healthy is not silent. --once runs one round
# and exits 1 if any checked container is unhealthy. --restart-unhealthy restarts a
# container once it is unhealthy (neither Docker nor podman-without-systemd does that).
set -uo pipefail

project=penncloud
interval=5
once=0
restart_unhealthy=0
# A check that hangs longer than this is abandoned; the checks themselves time out sooner.
check_deadline=30

usage() {
  sed -n '2,/^set /p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

while (($#)); do
  case $1 in
    --project) project=${2:?--project needs a name}; shift 2 ;;
    --interval) interval=${2:?--interval needs seconds}; shift 2 ;;
    --once) once=1; shift ;;
    --restart-unhealthy) restart_unhealthy=1; shift ;;
    -h | --help) usage 0 ;;
    *) echo "podman-healthchecks: unknown argument: $1" >&2; usage 2 >&2 ;;
  esac
done
if ! [[ $interval =~ ^[0-9]+$ ]] || ((interval < 1)); then
  echo "podman-healthchecks: --interval must be a whole number of seconds >= 1" >&2
  exit 2
fi
command -v podman >/dev/null || { echo "podman-healthchecks: podman not found" >&2; exit 2; }

declare -A last_status last_id

stamp() { date -u +%FT%TZ; }

# Running containers of the project that define a health check (podman's health filter
# matches only those).
checked_containers() {
  podman ps --filter "label=com.docker.compose.project=$project" \
    --filter health=starting --filter health=healthy --filter health=unhealthy \
    --format '{{.Names}}' 2>/dev/null
}

one_round() {
  local names=() name status any_unhealthy=0
  mapfile -t names < <(checked_containers)
  # All checks of a round run at once, so one slow check does not delay the others.
  for name in "${names[@]}"; do
    timeout --kill-after=5 "$check_deadline" podman healthcheck run "$name" >/dev/null 2>&1 &
  done
  wait
  ((${#names[@]})) || return 0
  while read -r name id status; do
    # A recreated container keeps its name, not its id: its first health is news even when
    # it reads the same as its predecessor's last.
    if [[ -n ${last_id[$name]:-} && ${last_id[$name]} != "$id" ]]; then
      echo "$(stamp) $name recreated (${last_id[$name]:0:12} -> ${id:0:12}): $status"
      last_status[$name]=$status
    elif [[ ${last_status[$name]:-} != "$status" ]]; then
      echo "$(stamp) $name ${last_status[$name]:-none} -> $status"
      last_status[$name]=$status
    fi
    last_id[$name]=$id
    if [[ $status == unhealthy ]]; then
      any_unhealthy=1
      if ((restart_unhealthy)); then
        echo "$(stamp) $name unhealthy: restarting"
        podman restart --time 10 "$name" >/dev/null 2>&1 || echo "$(stamp) $name: restart failed" >&2
        unset "last_status[$name]"
      fi
    fi
  done < <(podman inspect --format '{{.Name}} {{.Id}} {{.State.Health.Status}}' "${names[@]}" 2>/dev/null)
  return "$any_unhealthy"
}

if ((once)); then
  one_round
  exit $?
fi

trap 'echo "$(stamp) podman-healthchecks: stopped"; exit 0' INT TERM
echo "$(stamp) podman-healthchecks: project $project, every ${interval}s"
while :; do
  one_round
  sleep "$interval" &
  wait $!
done
